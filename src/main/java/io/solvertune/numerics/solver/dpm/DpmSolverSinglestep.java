package io.solvertune.numerics.solver.dpm;

import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
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
public final class DpmSolverSinglestep implements Solver {
    private final DpmSolver spec;
    private final boolean data;
    private int[] orders;
    private double[] r1s;
    private double[] r2s;

    DpmSolverSinglestep(DpmSolver spec) {
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
    public int orderOf(int i) {
        return orders[i];
    }

    /**
     * The inner evaluation times of outer step {@code i} from {@code s} to {@code t} (after {@link #grid}), computed
     * exactly as {@link #step} computes them: none for order 1, {@code [s1]} for order 2, {@code [s1, s2]} for order 3.
     */
    public double[] innerTimes(NoiseSchedule ns, int i, double s, double t) {
        int order = orders[i];
        if (order == 1) {
            return new double[0];
        }
        double lambdaS = ns.lambda(s);
        double h = ns.lambda(t) - lambdaS;
        double s1 = ns.inverseLambda(lambdaS + r1s[i] * h);
        return order == 2 ? new double[] {s1} : new double[] {s1, ns.inverseLambda(lambdaS + r2s[i] * h)};
    }

    /** Inner ratios {@code [r1, r2]} of outer step {@code i} in half log-SNR (after {@link #grid}). */
    public double[] innerRatios(int i) {
        return new double[] {r1s[i], r2s[i]};
    }

    // basis: the state and the model outputs at s, s1, s2
    private static final Combo X = Combo.basis(4, 0);
    private static final Combo MS = Combo.basis(4, 1);
    private static final Combo MS1 = Combo.basis(4, 2);
    private static final Combo MS2 = Combo.basis(4, 3);

    @Override
    public NDArray step(Step step, NDArray x) {
        int i = step.index();
        NDArray ms = step.modelAtStart(x);
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        int order = orders[i];
        double lambdaS = ns.lambda(s);
        double h = ns.lambda(t) - lambdaS;
        if (order == 1) {
            return transfer(ns, s, t, h).apply(x, ms, null, null);
        }
        double r1 = r1s[i];
        double s1 = ns.inverseLambda(lambdaS + r1 * h);
        boolean taylor = spec.solverType() == DpmSolver.SolverType.TAYLOR;
        double sg = data ? 1.0 : -1.0; // the noise-prediction formulas flip the sign of h
        double phi1 = Math.expm1(-sg * h);
        double ct = coef(ns, t);
        if (order == 2) {
            try (NDArray xs1 = transfer(ns, s, s1, r1 * h).apply(x, ms, null, null);
                 NDArray ms1 = step.model(xs1, s1)) {
                Combo diff = MS1.minus(MS);
                Combo xt;
                if (!taylor) {
                    xt = transfer(ns, s, t, h).minus(diff.times((0.5 / r1) * (ct * phi1)));
                } else if (data) {
                    xt = transfer(ns, s, t, h).plus(diff.times((1.0 / r1) * (ct * (phi1 / h + 1.0))));
                } else {
                    xt = transfer(ns, s, t, h).minus(diff.times((1.0 / r1) * (ct * (phi1 / h - 1.0))));
                }
                return xt.apply(x, ms, ms1, null);
            }
        }
        double r2 = r2s[i];
        double s2 = ns.inverseLambda(lambdaS + r2 * h);
        double phi22 = data ? Math.expm1(-r2 * h) / (r2 * h) + 1.0 : Math.expm1(r2 * h) / (r2 * h) - 1.0;
        double phi2 = data ? phi1 / h + 1.0 : phi1 / h - 1.0;
        double phi3 = phi2 / h - 0.5;
        try (NDArray xs1 = transfer(ns, s, s1, r1 * h).apply(x, ms, null, null);
             NDArray ms1 = step.model(xs1, s1)) {
            // x_s2 = transfer(s -> s2) + sg (r2/r1) c(s2) phi_22 (m_s1 - m_s)
            Combo xs2c = transfer(ns, s, s2, r2 * h).plus(MS1.minus(MS).times(sg * (r2 / r1) * (coef(ns, s2) * phi22)));
            try (NDArray xs2 = xs2c.apply(x, ms, ms1, null);
                 NDArray ms2 = step.model(xs2, s2)) {
                Combo xt;
                if (!taylor) {
                    xt = transfer(ns, s, t, h).plus(MS2.minus(MS).times(sg * (1.0 / r2) * (ct * phi2)));
                } else {
                    Combo d10 = MS1.minus(MS).times(1.0 / r1);
                    Combo d11 = MS2.minus(MS).times(1.0 / r2);
                    Combo d1 = d10.times(r2).minus(d11.times(r1)).div(r2 - r1);
                    Combo d2 = d11.minus(d10).times(2.0).div(r2 - r1);
                    xt = transfer(ns, s, t, h).plus(d1.times(sg * ct * phi2)).minus(d2.times(ct * phi3));
                }
                return xt.apply(x, ms, ms1, ms2);
            }
        }
    }

    /** {@code alpha(u)} for data prediction, {@code sigma(u)} for noise prediction. */
    private double coef(NoiseSchedule ns, double u) {
        return data ? ns.alpha(u) : ns.sigma(u);
    }

    /**
     * The first-order transfer from {@code s} to {@code u} over half log-SNR increment {@code hu}:
     * data {@code (sigma_u/sigma_s) x - alpha_u expm1(-hu) m_s}; noise {@code (alpha_u/alpha_s) x - sigma_u expm1(hu) m_s}.
     */
    private Combo transfer(NoiseSchedule ns, double s, double u, double hu) {
        if (data) {
            return X.times(ns.sigma(u) / ns.sigma(s)).minus(MS.times(ns.alpha(u) * Math.expm1(-hu)));
        }
        return X.times(Math.exp(ns.logAlpha(u) - ns.logAlpha(s))).minus(MS.times(ns.sigma(u) * Math.expm1(hu)));
    }
}
