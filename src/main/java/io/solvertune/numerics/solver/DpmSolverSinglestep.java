package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;

/**
 * Singlestep DPM-Solver / DPM-Solver++ with the "fast" order plan of the official
 * {@code get_orders_and_timesteps_for_singlestep_solver}: for order 3, {@code K = steps // 3 + 1} outer steps with
 * orders {@code [3]*(K-2)+[2,1]} (steps % 3 == 0), {@code [3]*(K-1)+[1]} (== 1) or {@code [3]*(K-1)+[2]} (== 2);
 * for order 2, {@code [2]*(steps//2)} (+{@code [1]} if odd). Outer points: a fresh K-interval grid for logSNR,
 * otherwise the {@code steps}-interval grid taken at {@code cumsum([0] + orders)}. Inner ratios {@code r1, r2} are
 * recomputed per outer interval with the same spacing.
 */
final class DpmSolverSinglestep implements Solver {
    private final SolverSpec.DpmSolver spec;
    private final boolean data;
    private int[] orders;
    private double[] r1s;
    private double[] r2s;

    DpmSolverSinglestep(SolverSpec.DpmSolver spec) {
        this.spec = spec;
        this.data = spec.prediction() == PredictionType.DATA;
    }

    @Override
    public PredictionType historyType() {
        return spec.prediction();
    }

    @Override
    public int historyCapacity() {
        return 0;
    }

    /** The official order plan. */
    static int[] orderPlan(int steps, int order) {
        int[] orders;
        if (order == 3) {
            int k = steps / 3 + 1;
            if (steps % 3 == 0) {
                orders = fill(k, 3);
                orders[k - 2] = 2;
                orders[k - 1] = 1;
            } else if (steps % 3 == 1) {
                orders = fill(k, 3);
                orders[k - 1] = 1;
            } else {
                orders = fill(k, 3);
                orders[k - 1] = 2;
            }
        } else if (order == 2) {
            if (steps % 2 == 0) {
                orders = fill(steps / 2, 2);
            } else {
                orders = fill(steps / 2 + 1, 2);
                orders[orders.length - 1] = 1;
            }
        } else {
            orders = fill(steps, 1);
        }
        for (int o : orders) {
            if (o < 1) {
                throw new IllegalArgumentException("singlestep order " + order + " cannot be planned for " + steps + " steps");
            }
        }
        return orders;
    }

    private static int[] fill(int n, int v) {
        if (n < 1) {
            throw new IllegalArgumentException("too few steps for a singlestep plan");
        }
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @Override
    public double[] grid(NoiseSchedule ns, SamplerConfig config, double tStart, double tEnd) {
        int steps = config.steps();
        orders = orderPlan(steps, spec.order());
        int k = orders.length;
        TimestepSpacing spacing = config.spacing();
        double[] outer;
        if (spacing instanceof TimestepSpacing.LogSnr) {
            outer = spacing.times(ns, tStart, tEnd, k);
        } else {
            double[] full = spacing.times(ns, tStart, tEnd, steps);
            outer = new double[k + 1];
            int idx = 0;
            outer[0] = full[0];
            for (int i = 0; i < k; i++) {
                idx += orders[i];
                outer[i + 1] = full[idx];
            }
        }
        r1s = new double[k];
        r2s = new double[k];
        TimestepSpacing inner = spacing.innerSpacing();
        for (int i = 0; i < k; i++) {
            int o = orders[i];
            r1s[i] = 0.5;
            r2s[i] = 2.0 / 3.0;
            if (o >= 2) {
                double[] ti = inner.times(ns, outer[i], outer[i + 1], o);
                double l0 = ns.lambda(ti[0]);
                double h = ns.lambda(ti[o]) - l0;
                r1s[i] = (ns.lambda(ti[1]) - l0) / h;
                if (o == 3) {
                    r2s[i] = (ns.lambda(ti[2]) - l0) / h;
                }
            }
        }
        return outer;
    }

    /** Order of outer step {@code i} (after {@link #grid}). */
    int orderOf(int i) {
        return orders[i];
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        int i = step.index();
        NDArray ms = step.modelAtStart(x);
        return switch (orders[i]) {
            case 1 -> first(step, x, ms);
            case 2 -> second(step, x, ms, r1s[i]);
            default -> third(step, x, ms, r1s[i], r2s[i]);
        };
    }

    private NDArray first(Step step, NDArray x, NDArray ms) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        double h = ns.lambda(t) - ns.lambda(s);
        if (data) {
            return Lin.of(ns.sigma(t) / ns.sigma(s), x, -(ns.alpha(t) * Math.expm1(-h)), ms);
        }
        return Lin.of(Math.exp(ns.logAlpha(t) - ns.logAlpha(s)), x, -(ns.sigma(t) * Math.expm1(h)), ms);
    }

    private NDArray second(Step step, NDArray x, NDArray ms, double r1) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        double lambdaS = ns.lambda(s);
        double h = ns.lambda(t) - lambdaS;
        double s1 = ns.inverseLambda(lambdaS + r1 * h);
        boolean taylor = spec.solverType() == SolverSpec.SolverType.TAYLOR;
        if (data) {
            double phi11 = Math.expm1(-r1 * h);
            double phi1 = Math.expm1(-h);
            double sigmaS = ns.sigma(s);
            double alphaT = ns.alpha(t);
            try (NDArray xs1 = Lin.of(ns.sigma(s1) / sigmaS, x, -(ns.alpha(s1) * phi11), ms);
                 NDArray ms1 = step.model(xs1, s1);
                 NDArray diff = ms1.sub(ms)) {
                double cD = taylor ? (1.0 / r1) * (alphaT * (phi1 / h + 1.0)) : -(0.5 / r1) * (alphaT * phi1);
                return Lin.of(ns.sigma(t) / sigmaS, x, -(alphaT * phi1), ms, cD, diff);
            }
        }
        double phi11 = Math.expm1(r1 * h);
        double phi1 = Math.expm1(h);
        double logAlphaS = ns.logAlpha(s);
        double sigmaT = ns.sigma(t);
        try (NDArray xs1 = Lin.of(Math.exp(ns.logAlpha(s1) - logAlphaS), x, -(ns.sigma(s1) * phi11), ms);
             NDArray ms1 = step.model(xs1, s1);
             NDArray diff = ms1.sub(ms)) {
            double cD = taylor ? -(1.0 / r1) * (sigmaT * (phi1 / h - 1.0)) : -(0.5 / r1) * (sigmaT * phi1);
            return Lin.of(Math.exp(ns.logAlpha(t) - logAlphaS), x, -(sigmaT * phi1), ms, cD, diff);
        }
    }

    private NDArray third(Step step, NDArray x, NDArray ms, double r1, double r2) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        double lambdaS = ns.lambda(s);
        double h = ns.lambda(t) - lambdaS;
        double s1 = ns.inverseLambda(lambdaS + r1 * h);
        double s2 = ns.inverseLambda(lambdaS + r2 * h);
        boolean taylor = spec.solverType() == SolverSpec.SolverType.TAYLOR;
        if (data) {
            double phi11 = Math.expm1(-r1 * h);
            double phi12 = Math.expm1(-r2 * h);
            double phi1 = Math.expm1(-h);
            double phi22 = Math.expm1(-r2 * h) / (r2 * h) + 1.0;
            double phi2 = phi1 / h + 1.0;
            double phi3 = phi2 / h - 0.5;
            double sigmaS = ns.sigma(s);
            double alphaS2 = ns.alpha(s2);
            double alphaT = ns.alpha(t);
            try (NDArray xs1 = Lin.of(ns.sigma(s1) / sigmaS, x, -(ns.alpha(s1) * phi11), ms);
                 NDArray ms1 = step.model(xs1, s1);
                 NDArray diff1 = ms1.sub(ms);
                 NDArray xs2 = Lin.of(ns.sigma(s2) / sigmaS, x, -(alphaS2 * phi12), ms, r2 / r1 * (alphaS2 * phi22), diff1);
                 NDArray ms2 = step.model(xs2, s2);
                 NDArray diff2 = ms2.sub(ms)) {
                if (!taylor) {
                    return Lin.of(ns.sigma(t) / sigmaS, x, -(alphaT * phi1), ms, (1.0 / r2) * (alphaT * phi2), diff2);
                }
                try (NDArray d10 = diff1.mul(1.0 / r1);
                     NDArray d11 = diff2.mul(1.0 / r2);
                     NDArray d1 = Lin.of(r2 / (r2 - r1), d10, -r1 / (r2 - r1), d11);
                     NDArray d2 = Lin.of(2.0 / (r2 - r1), d11, -2.0 / (r2 - r1), d10)) {
                    return Lin.of(ns.sigma(t) / sigmaS, x, -(alphaT * phi1), ms, alphaT * phi2, d1, -(alphaT * phi3), d2);
                }
            }
        }
        double phi11 = Math.expm1(r1 * h);
        double phi12 = Math.expm1(r2 * h);
        double phi1 = Math.expm1(h);
        double phi22 = Math.expm1(r2 * h) / (r2 * h) - 1.0;
        double phi2 = phi1 / h - 1.0;
        double phi3 = phi2 / h - 0.5;
        double logAlphaS = ns.logAlpha(s);
        double sigmaS2 = ns.sigma(s2);
        double sigmaT = ns.sigma(t);
        try (NDArray xs1 = Lin.of(Math.exp(ns.logAlpha(s1) - logAlphaS), x, -(ns.sigma(s1) * phi11), ms);
             NDArray ms1 = step.model(xs1, s1);
             NDArray diff1 = ms1.sub(ms);
             NDArray xs2 = Lin.of(Math.exp(ns.logAlpha(s2) - logAlphaS), x, -(sigmaS2 * phi12), ms,
                     -(r2 / r1) * (sigmaS2 * phi22), diff1);
             NDArray ms2 = step.model(xs2, s2);
             NDArray diff2 = ms2.sub(ms)) {
            double cx = Math.exp(ns.logAlpha(t) - logAlphaS);
            if (!taylor) {
                return Lin.of(cx, x, -(sigmaT * phi1), ms, -(1.0 / r2) * (sigmaT * phi2), diff2);
            }
            try (NDArray d10 = diff1.mul(1.0 / r1);
                 NDArray d11 = diff2.mul(1.0 / r2);
                 NDArray d1 = Lin.of(r2 / (r2 - r1), d10, -r1 / (r2 - r1), d11);
                 NDArray d2 = Lin.of(2.0 / (r2 - r1), d11, -2.0 / (r2 - r1), d10)) {
                return Lin.of(cx, x, -(sigmaT * phi1), ms, -(sigmaT * phi2), d1, -(sigmaT * phi3), d2);
            }
        }
    }
}
