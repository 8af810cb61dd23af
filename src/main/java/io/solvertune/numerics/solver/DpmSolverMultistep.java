package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
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
final class DpmSolverMultistep implements Solver {
    private final SolverSpec.DpmSolver spec;
    private final boolean data;

    DpmSolverMultistep(SolverSpec.DpmSolver spec) {
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
    static int stepOrder(int order, int n, int steps, boolean lowerOrderFinal) {
        if (n < order) {
            return n;
        }
        return lowerOrderFinal && steps < 10 ? Math.min(order, steps + 1 - n) : order;
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        step.modelAtStart(x);
        int order = stepOrder(spec.order(), step.number(), step.count(), step.config().lowerOrderFinal());
        return switch (order) {
            case 1 -> first(step, x);
            case 2 -> second(step, x);
            default -> third(step, x);
        };
    }

    private NDArray first(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        NDArray m = step.history().get(0).value();
        double h = ns.lambda(t) - ns.lambda(s);
        if (data) {
            double phi1 = Math.expm1(-h);
            return Lin.of(ns.sigma(t) / ns.sigma(s), x, -(ns.alpha(t) * phi1), m);
        }
        double phi1 = Math.expm1(h);
        return Lin.of(Math.exp(ns.logAlpha(t) - ns.logAlpha(s)), x, -(ns.sigma(t) * phi1), m);
    }

    private NDArray second(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        History.Entry e0 = step.history().get(0);
        History.Entry e1 = step.history().get(1);
        double t = step.t();
        double lambda1 = ns.lambda(e1.t());
        double lambda0 = ns.lambda(e0.t());
        double lambdaT = ns.lambda(t);
        double h0 = lambda0 - lambda1;
        double h = lambdaT - lambda0;
        double r0 = h0 / h;
        try (NDArray d10 = Lin.diffScaled(e0.value(), e1.value(), 1.0 / r0)) {
            if (data) {
                double phi1 = Math.expm1(-h);
                double alphaT = ns.alpha(t);
                double cD = spec.solverType() == SolverSpec.SolverType.DPMSOLVER
                        ? -0.5 * (alphaT * phi1) : alphaT * (phi1 / h + 1.0);
                return Lin.of(ns.sigma(t) / ns.sigma(e0.t()), x, -(alphaT * phi1), e0.value(), cD, d10);
            }
            double phi1 = Math.expm1(h);
            double sigmaT = ns.sigma(t);
            double cD = spec.solverType() == SolverSpec.SolverType.DPMSOLVER
                    ? -0.5 * (sigmaT * phi1) : -(sigmaT * (phi1 / h - 1.0));
            return Lin.of(Math.exp(ns.logAlpha(t) - ns.logAlpha(e0.t())), x, -(sigmaT * phi1), e0.value(), cD, d10);
        }
    }

    private NDArray third(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        History.Entry e0 = step.history().get(0);
        History.Entry e1 = step.history().get(1);
        History.Entry e2 = step.history().get(2);
        double t = step.t();
        double lambda2 = ns.lambda(e2.t());
        double lambda1 = ns.lambda(e1.t());
        double lambda0 = ns.lambda(e0.t());
        double lambdaT = ns.lambda(t);
        double h1 = lambda1 - lambda2;
        double h0 = lambda0 - lambda1;
        double h = lambdaT - lambda0;
        double r0 = h0 / h;
        double r1 = h1 / h;
        try (NDArray d10 = Lin.diffScaled(e0.value(), e1.value(), 1.0 / r0);
             NDArray d11 = Lin.diffScaled(e1.value(), e2.value(), 1.0 / r1);
             NDArray dd = d10.sub(d11);
             NDArray d1 = Lin.of(1.0, d10, r0 / (r0 + r1), dd);
             NDArray d2 = dd.mul(1.0 / (r0 + r1))) {
            if (data) {
                double phi1 = Math.expm1(-h);
                double phi2 = phi1 / h + 1.0;
                double phi3 = phi2 / h - 0.5;
                double alphaT = ns.alpha(t);
                return Lin.of(ns.sigma(t) / ns.sigma(e0.t()), x, -(alphaT * phi1), e0.value(),
                        alphaT * phi2, d1, -(alphaT * phi3), d2);
            }
            double phi1 = Math.expm1(h);
            double phi2 = phi1 / h - 1.0;
            double phi3 = phi2 / h - 0.5;
            double sigmaT = ns.sigma(t);
            return Lin.of(Math.exp(ns.logAlpha(t) - ns.logAlpha(e0.t())), x, -(sigmaT * phi1), e0.value(),
                    -(sigmaT * phi2), d1, -(sigmaT * phi3), d2);
        }
    }
}
