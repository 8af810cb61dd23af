package io.solvertune.numerics.solver.v3;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.coeff.EmsIntegrals;
import io.solvertune.numerics.schedule.NoiseSchedule;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularMatrixException;

/**
 * The host-side ({@code double}) coefficients of one DPM-Solver-v3 update, as {@code multistep_predictor_update} /
 * {@code multistep_corrector_update} of the official {@code dpm_solver_v3.py}, written as a per-dimension linear
 * combination of the base state and the points' {@code f} values.
 *
 * <p>Points {@code m = 0..n} with grid indexes {@code i_m} and times {@code tau_m}; point 0 is the base {@code s}
 * (for the predictor the newest evaluation, for the corrector the previous one, with point 1 the corrected point).
 * With {@code f_m = (sigma_m eps_m - l_{i_m} x_m) / alpha_m} and
 * {@code g_m = e^{S_s - S_m} f_m - e^{S_s} (B_m - B_s)}, the update to {@code (i_t, tau_t)} is
 *
 * <pre>
 *   x_t = (alpha_t/alpha_s) e^{L_s - L_t} x_s - alpha_t e^{-L_t - S_s} (I_t - I_s) g_0
 *         - alpha_t e^{-L_t} (C_t - C_s - B_s (I_t - I_s)) - sum_{k=1..n} alpha_t e^{L_s - L_t} E_k g^(k)
 * </pre>
 *
 * with {@code g^(k) = k! D_k}: {@code D} solves the Vandermonde system {@code R[m][k] = (lambda_m - lambda_0)^k},
 * {@code R D = g_m - g_0}, or, for pseudo orders, the divided differences {@code D[k][0]}; the lambdas are the
 * schedule's at the points' times. Since every {@code g^(k)} is a scalar combination of the {@code g_m}, the update is
 * {@code x_t = a . x_s + sum_m c_m . f_m + d} with per-dimension vectors {@code a, c_m, d}.
 */
public final class DpmSolverV3Update {
    private DpmSolverV3Update() {
    }

    /** {@code x_t = a . x_s + sum_m f[m] . f_m + constant}, all per dimension. */
    record Coefficients(double[] a, double[][] f, double[] constant) {
    }

    /**
     * Weights {@code w[k-1][m]} with {@code g^(k) = sum_m w[k-1][m] g_m} ({@code k = 1..n}, factorial included).
     *
     * @param lambdas {@code lambda_0..lambda_n} of the points (point 0 = base)
     * @param pseudo  divided differences instead of the Vandermonde solve
     */
    static double[][] derivativeWeights(double[] lambdas, boolean pseudo) {
        int n = lambdas.length - 1;
        double[][] w = new double[n][n + 1];
        if (n == 0) {
            return w;
        }
        if (pseudo) {
            // D[i][j] as weight vectors over the points: D[0][j] = e_j,
            // D[i][j] = (D[i-1][j] - D[i-1][j+1]) / (lambda_j - lambda_{i+j})
            double[][] prev = new double[n + 1][n + 1];
            for (int j = 0; j <= n; j++) {
                prev[j][j] = 1.0;
            }
            double factorial = 1.0;
            for (int i = 1; i <= n; i++) {
                double[][] cur = new double[n - i + 1][];
                for (int j = 0; j <= n - i; j++) {
                    double den = lambdas[j] - lambdas[i + j];
                    cur[j] = new double[n + 1];
                    for (int m = 0; m <= n; m++) {
                        cur[j][m] = (prev[j][m] - prev[j + 1][m]) / den;
                    }
                }
                factorial *= i;
                for (int m = 0; m <= n; m++) {
                    w[i - 1][m] = cur[0][m] * factorial;
                }
                prev = cur;
            }
            return w;
        }
        double[][] r = new double[n][n];
        for (int m = 1; m <= n; m++) {
            for (int k = 1; k <= n; k++) {
                r[m - 1][k - 1] = Math.pow(lambdas[m] - lambdas[0], k);
            }
        }
        RealMatrix inv;
        try {
            inv = new LUDecomposition(new Array2DRowRealMatrix(r, false)).getSolver().getInverse();
        } catch (SingularMatrixException e) {
            throw new IllegalArgumentException("dpmsolver-v3: the points' lambdas coincide; cannot estimate derivatives",
                    e);
        }
        double factorial = 1.0;
        for (int k = 1; k <= n; k++) {
            factorial *= k;
            double sum = 0.0;
            for (int m = 1; m <= n; m++) {
                w[k - 1][m] = inv.getEntry(k - 1, m - 1) * factorial;
                sum += w[k - 1][m];
            }
            w[k - 1][0] = -sum;
        }
        return w;
    }

    /**
     * The coefficients of an update from point 0 of ({@code positions}, {@code times}) to ({@code uT}, {@code tT});
     * positions are (fractional) grid indexes, see {@link EmsIntegrals#at(double)}.
     */
    static Coefficients compute(EmsIntegrals ems, NoiseSchedule ns, double[] positions, double[] times, double uT,
                                double tT, boolean pseudo) {
        int n = positions.length - 1;
        int dim = ems.dim();
        double uS = positions[0];
        double alphaS = ns.alpha(times[0]);
        double alphaT = ns.alpha(tT);
        EmsIntegrals.At atS = ems.at(uS);
        EmsIntegrals.At atT = ems.at(uT);
        double[] lS = atS.bigL();
        double[] lT = atT.bigL();
        double[] sS = atS.bigS();
        double[] iiS = atS.bigI();
        double[] iiT = atT.bigI();
        double[] bS = atS.bigB();
        double[] cS = atS.bigC();
        double[] cT = atT.bigC();
        double[] a = new double[dim];
        double[][] f = new double[n + 1][dim];
        double[] constant = new double[dim];
        double[] expLsLt = new double[dim];
        for (int d = 0; d < dim; d++) {
            expLsLt[d] = Math.exp(lS[d] - lT[d]);
            a[d] = alphaT / alphaS * expLsLt[d];
            double dI = iiT[d] - iiS[d];
            f[0][d] = -alphaT * Math.exp(-lT[d] - sS[d]) * dI;
            constant[d] = -alphaT * Math.exp(-lT[d]) * (cT[d] - cS[d] - bS[d] * dI);
        }
        if (n == 0) {
            return new Coefficients(a, f, constant);
        }
        double[] lambdas = new double[n + 1];
        for (int m = 0; m <= n; m++) {
            lambdas[m] = ns.lambda(times[m]);
        }
        double[][] w = derivativeWeights(lambdas, pseudo);
        // g_m = p_m f_m - q_m with p_m = e^{S_s - S_m}, q_m = e^{S_s} (B_m - B_s); p_0 = 1, q_0 = 0
        double[][] p = new double[n + 1][];
        double[][] q = new double[n + 1][];
        for (int m = 1; m <= n; m++) {
            EmsIntegrals.At atM = ems.at(positions[m]);
            double[] sM = atM.bigS();
            double[] bM = atM.bigB();
            p[m] = new double[dim];
            q[m] = new double[dim];
            for (int d = 0; d < dim; d++) {
                p[m][d] = Math.exp(sS[d] - sM[d]);
                q[m][d] = Math.exp(sS[d]) * (bM[d] - bS[d]);
            }
        }
        for (int k = 1; k <= n; k++) {
            double[] e = ems.expCoefficient(uS, uT, k);
            for (int d = 0; d < dim; d++) {
                double ek = alphaT * expLsLt[d] * e[d];
                f[0][d] -= ek * w[k - 1][0];
                for (int m = 1; m <= n; m++) {
                    double c = ek * w[k - 1][m];
                    f[m][d] -= c * p[m][d];
                    constant[d] += c * q[m][d];
                }
            }
        }
        return new Coefficients(a, f, constant);
    }
}
