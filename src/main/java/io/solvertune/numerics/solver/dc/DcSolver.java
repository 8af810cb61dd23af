package io.solvertune.numerics.solver.dc;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * DC-Solver's dynamic compensation (Zhao et al., ECCV 2024) around a multistep base solver, as {@code sample} and
 * {@code dynamic_compensation} of the official LDM {@code DCSolver} (wl-zhao/DC-Solver,
 * {@code ldm/models/diffusion/dc_solver/dc_solver.py}).
 *
 * <p>Before step {@code i} (from {@code s = t_0} to {@code t}) with ratio {@code rho_i != 1}, the newest buffered model
 * output {@code m_0} (at {@code t_0}, the step's start) is replaced by the Lagrange interpolation through the three
 * newest buffered outputs {@code (t_k, m_k)}, {@code k = 0, 1, 2}, in continuous time at
 * {@code t' = t_0 rho + t_1 (1 - rho)}:
 * {@code m~ = sum_k m_k prod_{j != k} (t' - t_j) / (t_k - t_j)}. The base step then runs with {@code m~} in place of
 * {@code m_0}: UniPC's predictor and its corrector (whose model call at the predicted point is the fresh output at
 * {@code t}, with {@code D1_t = m_t - m~}); the compensated value stays in the buffer as the output at {@code t_0}
 * for the following steps, exactly as the official loop keeps it in {@code model_prev_list}. {@code rho = 1} leaves
 * the buffer untouched (the official {@code if dc_ratio != 1.0}), so it reproduces the base solver bit for bit.
 * There is one ratio per step; the first two steps have fewer than {@code dc_order + 1 = 3} buffered outputs and
 * their ratio is fixed to 1 (the official search skips them).
 *
 * <p>Base solvers: UniPC (bh1/bh2, orders 1-3; data or noise prediction — the buffer holds whatever the solver
 * integrates, as in the official code with {@code predict_x0=False}). With orders 1-2 the buffer is widened to three
 * outputs (the official code, with order 3, always has three there). DPM-Solver++ multistep (data prediction,
 * orders 1-3) is our own extension, without official code: the same interpolation replaces the newest output (the
 * model call at the step's start) before the multistep update; there is no corrector, so every trial of a ratio
 * costs no model call, and the compensated value is the one the following steps' differences see.
 */
public final class DcSolver implements Solver {
    /** Interpolation order of the compensation (the official {@code dc_order}). */
    static final int DC_ORDER = 2;
    /** 0-based index of the first step whose ratio is free. */
    static final int FREE_FROM = DC_ORDER;

    private final Solver base;
    private final double[] ratios;

    DcSolver(Dc spec) {
        this.base = spec.base().create();
        this.ratios = spec.ratios();
    }

    @Override
    public PredictionType historyType() {
        return base.historyType();
    }

    @Override
    public int historyCapacity() {
        return Math.max(base.historyCapacity(), DC_ORDER + 1);
    }

    @Override
    public double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        if (ratios.length != config.steps()) {
            throw new IllegalArgumentException("dc: ratios has " + ratios.length + " entries but the run has "
                    + config.steps() + " steps (one ratio per step)");
        }
        return base.grid(schedule, config, tStart, tEnd);
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        return step(step, x, ratios[step.index()]);
    }

    /** One step with an explicit ratio (the per-run ratios are ignored). */
    NDArray step(Step step, NDArray x, double ratio) {
        if (ratio != 1.0) {
            compensate(step, x, ratio);
        }
        return base.step(step, x);
    }

    /** Replaces the newest buffered output (at the step's start) by the interpolation at the shifted time. */
    private static void compensate(Step step, NDArray x, double ratio) {
        step.modelAtStart(x);
        History h = step.history();
        if (h.size() < DC_ORDER + 1) {
            throw new IllegalArgumentException("dc: step " + step.number() + " has " + h.size()
                    + " buffered model outputs, compensation needs " + (DC_ORDER + 1) + "; its ratio must be 1");
        }
        double[] ts = new double[DC_ORDER + 1];
        NDArray[] ms = new NDArray[DC_ORDER + 1];
        for (int k = 0; k <= DC_ORDER; k++) {
            ts[k] = h.get(k).t();
            ms[k] = h.get(k).value();
        }
        double[] w = weights(ts, ratio);
        Combo c = Combo.zero(DC_ORDER + 1);
        for (int k = 0; k <= DC_ORDER; k++) {
            c = c.plus(Combo.basis(DC_ORDER + 1, k).times(w[k]));
        }
        h.replaceNewest(c.apply(ms));
    }

    /**
     * Lagrange weights of the buffered outputs at {@code ts} (newest first) evaluated at
     * {@code t' = ts[0] ratio + ts[1] (1 - ratio)}, multiplied in the official order.
     */
    static double[] weights(double[] ts, double ratio) {
        double tp = ts[0] * ratio + ts[1] * (1 - ratio);
        double[] w = new double[ts.length];
        for (int i = 0; i < ts.length; i++) {
            double c = 1.0;
            for (int j = 0; j < ts.length; j++) {
                if (i != j) {
                    c *= (tp - ts[j]) / (ts[i] - ts[j]);
                }
            }
            w[i] = c;
        }
        return w;
    }
}
