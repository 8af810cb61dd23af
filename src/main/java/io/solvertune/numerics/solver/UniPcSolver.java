package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
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
final class UniPcSolver implements Solver {
    private final SolverSpec.UniPc spec;
    private final boolean data;

    UniPcSolver(SolverSpec.UniPc spec) {
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

    static int stepOrder(int order, int n, int steps, boolean lowerOrderFinal) {
        if (n < order) {
            return n;
        }
        return lowerOrderFinal ? Math.min(order, steps + 1 - n) : order;
    }

    /** Coefficients of one UniPC step: predictor rhos, corrector rhos, B(h), h phi_1. */
    record Coefficients(double[] rhosP, double[] rhosC, double bh, double hPhi1, double h, double[] rks) {
    }

    /**
     * The step's coefficients for order {@code order} given the history lambdas ({@code lambdas[0]} = newest = s).
     */
    static Coefficients coefficients(double[] lambdas, double lambdaT, int order, boolean data,
                                     SolverSpec.Variant variant, boolean predictor, boolean corrector) {
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
        double bh = variant == SolverSpec.Variant.BH1 ? hh : Math.expm1(hh);
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
        for (int i = 0; i < order; i++) {
            lambdas[i] = ns.lambda(hist.get(i).t());
        }
        double s = step.s();
        double t = step.t();
        Coefficients c = coefficients(lambdas, ns.lambda(t), order, data, spec.variant(), true, useCorrector);
        // D1_k = (m_k - m_s) / r_k for the order-1 previous points
        NDArray[] d1s = new NDArray[order - 1];
        try {
            for (int i = 1; i < order; i++) {
                d1s[i - 1] = Lin.diffDiv(hist.get(i).value(), ms, c.rks()[i - 1]);
            }
            double cx;
            double cm;
            double scaleB; // alpha_t B(h) (data) or sigma_t B(h) (noise)
            if (data) {
                double alphaT = ns.alpha(t);
                cx = ns.sigma(t) / ns.sigma(s);
                cm = -(alphaT * c.hPhi1());
                scaleB = alphaT * c.bh();
            } else {
                double sigmaT = ns.sigma(t);
                cx = Math.exp(ns.logAlpha(t) - ns.logAlpha(s));
                cm = -(sigmaT * c.hPhi1());
                scaleB = sigmaT * c.bh();
            }
            NDArray xMinus = Lin.of(cx, x, cm, ms);
            NDArray xPred;
            if (order >= 2) {
                try (NDArray predRes = Lin.sum(c.rhosP(), d1s)) {
                    xPred = Lin.of(1.0, xMinus, -scaleB, predRes);
                }
            } else {
                xPred = xMinus;
            }
            if (!useCorrector) {
                if (xPred != xMinus) {
                    xMinus.close();
                }
                return xPred;
            }
            NDArray mt = step.model(xPred, t);
            if (xPred != xMinus) {
                xPred.close();
            }
            step.remember(t, mt); // the model value at t for the next step (at the predicted point)
            double[] rc = c.rhosC();
            try (xMinus; NDArray d1t = mt.sub(ms)) {
                NDArray res;
                if (order >= 2) {
                    res = Lin.sum(java.util.Arrays.copyOf(rc, order - 1), d1s);
                    Lin.addScaled(res, rc[order - 1], d1t);
                } else {
                    res = d1t.mul(rc[0]);
                }
                try (res) {
                    return Lin.of(1.0, xMinus, -scaleB, res);
                }
            }
        } finally {
            for (NDArray d : d1s) {
                if (d != null) {
                    d.close();
                }
            }
        }
    }
}
