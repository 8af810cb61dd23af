package io.solvertune.numerics.solver.unipc;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealVector;

/**
 * UniPC (Zhao et al.) multistep, as {@code multistep_uni_pc_bh_update} of the official {@code uni_pc.py}:
 * predictor UniP-p and corrector UniC-p with {@code B(h) = hh} (bh1) or {@code expm1(hh)} (bh2),
 * {@code hh = -h} for data prediction and {@code h} for noise prediction.
 *
 * <p>Per step with order p: {@code r_k = (lambda_{prev k} - lambda_s)/h}, {@code D1_k = (m_k - m_s)/r_k};
 * {@code R[i] = r^{i-1}}, {@code b[i] = h phi_{i}(hh) i!/B(h)}; predictor coefficients solve the leading
 * (p-1)x(p-1) system (order 2: 0.5), corrector coefficients the full system (order 1: 0.5).
 * {@code x_t^- = (sigma_t/sigma_s) x - alpha_t h phi_1 m_s} (data) and
 * {@code x_t^p = x_t^- - alpha_t B(h) sum rho_p D1}; the corrector evaluates the model at {@code x_t^p} — that output
 * is the next step's model value at t (no re-evaluation at the corrected point) — and
 * {@code x_t^c = x_t^- - alpha_t B(h) (sum rho_c D1 + rho_c,last (m_t - m_s))}.
 *
 * <p>Order plan: warm-up steps 1..order-1 with orders 1..order-1, then {@code min(order, steps + 1 - step)} if
 * {@code lower_order_final} (for any number of steps); no corrector at the final step. NFE = steps.
 */
public final class UniPcSolver implements Solver {
    private final UniPc spec;
    private final boolean data;

    UniPcSolver(UniPc spec) {
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

    public static int stepOrder(int order, int n, int steps, boolean lowerOrderFinal) {
        if (n < order) {
            return n;
        }
        return lowerOrderFinal ? Math.min(order, steps + 1 - n) : order;
    }

    /** Coefficients of one UniPC step: predictor rhos, corrector rhos, B(h), h phi_1. */
    public record Coefficients(double[] rhosP, double[] rhosC, double bh, double hPhi1, double h, double[] rks) {
    }

    /**
     * The step's coefficients for order {@code order} given the history lambdas ({@code lambdas[0]} = newest = s).
     */
    public static Coefficients coefficients(double[] lambdas, double lambdaT, int order, boolean data,
                                     UniPc.Variant variant, boolean predictor, boolean corrector) {
        double lambdaS = lambdas[0];
        double h = lambdaT - lambdaS;
        double[] rks = new double[order];
        for (int i = 1; i < order; i++) {
            rks[i - 1] = (lambdas[i] - lambdaS) / h;
        }
        rks[order - 1] = 1.0;
        double hh = data ? -h : h;
        double hPhi1 = Math.expm1(hh);
        double hPhiK = hPhi1 / hh - 1.0;
        double factorial = 1.0;
        double bh = variant == UniPc.Variant.BH1 ? hh : Math.expm1(hh);
        double[][] r = new double[order][order];
        double[] b = new double[order];
        for (int i = 1; i <= order; i++) {
            for (int k = 0; k < order; k++) {
                r[i - 1][k] = Math.pow(rks[k], i - 1);
            }
            b[i - 1] = hPhiK * factorial / bh;
            factorial *= (i + 1);
            hPhiK = hPhiK / hh - 1.0 / factorial;
        }
        double[] rhosP = null;
        if (predictor && order >= 2) {
            if (order == 2) {
                rhosP = new double[] {0.5};
            } else {
                double[][] sub = new double[order - 1][order - 1];
                double[] bsub = new double[order - 1];
                for (int i = 0; i < order - 1; i++) {
                    System.arraycopy(r[i], 0, sub[i], 0, order - 1);
                    bsub[i] = b[i];
                }
                rhosP = solve(sub, bsub);
            }
        }
        double[] rhosC = null;
        if (corrector) {
            rhosC = order == 1 ? new double[] {0.5} : solve(r, b);
        }
        return new Coefficients(rhosP, rhosC, bh, hPhi1, h, rks);
    }

    private static double[] solve(double[][] a, double[] b) {
        RealVector x = new LUDecomposition(new Array2DRowRealMatrix(a, false)).getSolver()
                .solve(new ArrayRealVector(b, false));
        return x.toArray();
    }

    // basis: the state, the model output at s, the two older outputs, the corrector's output at t
    private static final int BASIS = 5;
    private static final Combo X = Combo.basis(BASIS, 0);
    private static final Combo MS = Combo.basis(BASIS, 1);
    private static final Combo MT = Combo.basis(BASIS, 4);

    @Override
    public NDArray step(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        NDArray ms = step.modelAtStart(x);
        int n = step.number();
        int steps = step.count();
        int order = stepOrder(spec.order(), n, steps, step.config().lowerOrderFinal());
        boolean useCorrector = n < steps;
        History hist = step.history();
        double[] lambdas = new double[order];
        NDArray[] terms = new NDArray[BASIS];
        terms[0] = x;
        terms[1] = ms;
        for (int i = 0; i < order; i++) {
            lambdas[i] = ns.lambda(hist.get(i).t());
            if (i > 0) {
                terms[1 + i] = hist.get(i).value();
            }
        }
        double s = step.s();
        double t = step.t();
        Coefficients c = coefficients(lambdas, ns.lambda(t), order, data, spec.variant(), true, useCorrector);
        // D1_k = (m_k - m_s) / r_k
        Combo[] d1s = new Combo[order - 1];
        for (int k = 1; k < order; k++) {
            d1s[k - 1] = Combo.basis(BASIS, 1 + k).minus(MS).div(c.rks()[k - 1]);
        }
        double cx;
        double scale; // alpha_t (data) or sigma_t (noise): x_t^- = cx x - scale h phi_1 m_s; residuals enter times scale B(h)
        if (data) {
            scale = ns.alpha(t);
            cx = ns.sigma(t) / ns.sigma(s);
        } else {
            scale = ns.sigma(t);
            cx = Math.exp(ns.logAlpha(t) - ns.logAlpha(s));
        }
        Combo xMinus = X.times(cx).minus(MS.times(scale * c.hPhi1()));
        Combo predRes = Combo.zero(BASIS);
        for (int k = 0; k < order - 1; k++) {
            predRes = predRes.plus(d1s[k].times(c.rhosP()[k]));
        }
        Combo xPred = order >= 2 ? xMinus.minus(predRes.times(scale * c.bh())) : xMinus;
        NDArray xp = xPred.apply(terms);
        if (!useCorrector) {
            return xp;
        }
        NDArray mt;
        try (xp) {
            mt = step.model(xp, t);
        }
        step.remember(t, mt); // the model value at t for the next step: evaluated at the predicted point
        terms[4] = mt;
        double[] rc = c.rhosC();
        Combo corrRes = MT.minus(MS).times(rc[order - 1]);
        for (int k = 0; k < order - 1; k++) {
            corrRes = corrRes.plus(d1s[k].times(rc[k]));
        }
        return xMinus.minus(corrRes.times(scale * c.bh())).apply(terms);
    }
}
