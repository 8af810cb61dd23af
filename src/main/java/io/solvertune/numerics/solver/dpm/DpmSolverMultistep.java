package io.solvertune.numerics.solver.dpm;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * Multistep DPM-Solver (noise prediction) and DPM-Solver++ (data prediction), orders 1-3, as
 * {@code multistep_dpm_solver_{first,second,third}_update} of the official {@code dpm_solver_pytorch.py}.
 *
 * <p>Order plan of the official loop: steps 1..order-1 warm up with orders 1..order-1; afterwards the order is
 * {@code min(order, steps + 1 - step)} only if {@code lower_order_final} and {@code steps < 10}. The model is
 * evaluated at the start of every step (lazily: never after the final step), so NFE = steps.
 *
 * <p>Data prediction ({@code m} = x0, {@code phi_1 = expm1(-h)}):
 * 2M: {@code x_t = (sigma_t/sigma_s) x - alpha_t phi_1 m_0 - 0.5 alpha_t phi_1 D1_0} ('dpmsolver') or
 * {@code + alpha_t (phi_1/h + 1) D1_0} ('taylor'); 3M: {@code - alpha_t phi_1 m_0 + alpha_t phi_2 D1 - alpha_t phi_3 D2}.
 * Noise prediction swaps the roles of alpha and sigma and the sign of h.
 */
public final class DpmSolverMultistep implements Solver {
    private final DpmSolver spec;
    private final boolean data;

    public DpmSolverMultistep(DpmSolver spec) {
        this.spec = spec;
        this.data = spec.prediction() == PredictionType.DATA;
    }

    @Override
    public PredictionType historyType() {
        return spec.prediction();
    }

    @Override
    public int historyCapacity() {
        return spec.order();
    }

    /** The order the official loop uses at 1-based step {@code n} of {@code steps}. */
    public static int stepOrder(int order, int n, int steps, boolean lowerOrderFinal) {
        if (n < order) {
            return n;
        }
        return lowerOrderFinal && steps < 10 ? Math.min(order, steps + 1 - n) : order;
    }

    // basis of every update: the state and the three newest model outputs
    private static final Combo X = Combo.basis(4, 0);
    private static final Combo M0 = Combo.basis(4, 1);
    private static final Combo M1 = Combo.basis(4, 2);
    private static final Combo M2 = Combo.basis(4, 3);

    @Override
    public NDArray step(Step step, NDArray x) {
        step.modelAtStart(x);
        int order = stepOrder(spec.order(), step.number(), step.count(), step.config().lowerOrderFinal());
        History h = step.history();
        double[] times = new double[order];
        for (int k = 0; k < order; k++) {
            times[k] = h.get(k).t();
        }
        Combo update = update(step.schedule(), times, step.t(), order);
        return update.apply(x, h.get(0).value(), order > 1 ? h.get(1).value() : null,
                order > 2 ? h.get(2).value() : null);
    }

    /**
     * The update as a combination of {@code [x, m0, m1, m2]} ({@code times[k]} = time of {@code m_k}, newest first).
     */
    public Combo update(NoiseSchedule ns, double[] times, double t, int order) {
        double lambdaT = ns.lambda(t);
        double lambda0 = ns.lambda(times[0]);
        double h = lambdaT - lambda0;
        double phi1 = data ? Math.expm1(-h) : Math.expm1(h);
        // x_t = cx x + sign * c(phi) * (terms); data: cx = sigma_t/sigma_s, c = alpha_t; noise: cx = alpha_t/alpha_s, c = sigma_t
        double cx = data ? ns.sigma(t) / ns.sigma(times[0]) : Math.exp(ns.logAlpha(t) - ns.logAlpha(times[0]));
        double ct = data ? ns.alpha(t) : ns.sigma(t);
        Combo base = X.times(cx).minus(M0.times(ct * phi1));
        if (order == 1) {
            return base;
        }
        double lambda1 = ns.lambda(times[1]);
        double r0 = (lambda0 - lambda1) / h;
        Combo d10 = M0.minus(M1).times(1.0 / r0);
        if (order == 2) {
            if (spec.solverType() == DpmSolver.SolverType.DPMSOLVER) {
                return base.minus(d10.times(0.5 * (ct * phi1)));
            }
            return data ? base.plus(d10.times(ct * (phi1 / h + 1.0))) : base.minus(d10.times(ct * (phi1 / h - 1.0)));
        }
        double lambda2 = ns.lambda(times[2]);
        double r1 = (lambda1 - lambda2) / h;
        Combo d11 = M1.minus(M2).times(1.0 / r1);
        Combo d1 = d10.plus(d10.minus(d11).times(r0 / (r0 + r1)));
        Combo d2 = d10.minus(d11).times(1.0 / (r0 + r1));
        if (data) {
            double phi2 = phi1 / h + 1.0;
            double phi3 = phi2 / h - 0.5;
            return base.plus(d1.times(ct * phi2)).minus(d2.times(ct * phi3));
        }
        double phi2 = phi1 / h - 1.0;
        double phi3 = phi2 / h - 0.5;
        return base.minus(d1.times(ct * phi2)).minus(d2.times(ct * phi3));
    }
}
