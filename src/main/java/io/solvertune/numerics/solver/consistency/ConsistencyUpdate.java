package io.solvertune.numerics.solver.consistency;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.dpm.DpmSolverMultistep;

/**
 * The arithmetic of one ConsistencySolver step, shared by {@link ConsistencySolver} (one coefficient row for the whole
 * batch) and the trainer's rollouts (a coefficient row per batch row): the combination of the buffered outputs and
 * the first-order step of the form. Every operation is a DJL operation, so the step is differentiable where the
 * inputs carry gradients.
 */
public final class ConsistencyUpdate {
    /** DPM-Solver-1 in noise form: the noise form's step is exactly its update. */
    private static final DpmSolverMultistep NOISE_STEP = new DpmSolverMultistep(new DpmSolver(PredictionType.NOISE,
            DpmSolver.Method.MULTISTEP, 1, DpmSolver.SolverType.DPMSOLVER));

    private ConsistencyUpdate() {
    }

    /**
     * {@code sum_j c_j m_j} with scalar weights; {@code m[0]} itself (no copy) when the weights are {@code [1, 0, ..]}.
     */
    public static NDArray combine(double[] c, NDArray[] m) {
        boolean plain = c[0] == 1.0;
        for (int j = 1; j < c.length && plain; j++) {
            plain = c[j] == 0.0;
        }
        if (plain) {
            return m[0];
        }
        Combo combo = Combo.zero(c.length);
        for (int j = 0; j < c.length; j++) {
            combo = combo.plus(Combo.basis(c.length, j).times(c[j]));
        }
        return combo.apply(m);
    }

    /**
     * {@code sum_j c_j m_j} with per-row weights: {@code c[j]} has shape {@code [rows, 1, .., 1]} (broadcast over a
     * sample), {@code m[j]} shape {@code [rows, ...]}. A new array.
     */
    public static NDArray combineRows(NDArray[] c, NDArray[] m) {
        NDArray r = m[0].mul(c[0]);
        for (int j = 1; j < c.length; j++) {
            try (NDArray t = m[j].mul(c[j])) {
                r.addi(t);
            }
        }
        return r;
    }

    /** The first-order step of {@code form} from {@code (x, s)} to {@code t} with the combined output {@code eff}. */
    public static NDArray step(Form form, NoiseSchedule ns, double s, double t, NDArray x, NDArray eff) {
        return switch (form) {
            case DATA -> {
                double ratio = ns.sigma(t) / ns.sigma(s);
                yield Lin.of(ratio, x, ns.alpha(t) - ns.alpha(s) * ratio, eff);
            }
            case NOISE -> NOISE_STEP.update(ns, new double[] {s}, t, 1).apply(x, eff, null, null);
            case FLOW_VELOCITY -> Lin.of(1.0, x, t - s, eff);
        };
    }
}
