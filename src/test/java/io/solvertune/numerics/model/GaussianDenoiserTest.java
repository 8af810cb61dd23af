package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Gaussian data N(mu, Sigma): noise prediction against the closed form solved on the host (Cholesky, no eigen
 * decomposition), exactSolution's group property, and exactSolution against a fine RK4 integration of the PF-ODE.
 */
class GaussianDenoiserTest {
    static final int D = 5;
    static final int B = 6;
    static NDManager base;
    static double[] mean;
    static double[] variances;
    static double[][] cov;

    @BeforeAll
    static void init() {
        base = NDManager.newBaseManager();
        Random r = new Random(77);
        mean = new double[D];
        variances = new double[D];
        for (int j = 0; j < D; j++) {
            mean[j] = 1.5 * r.nextGaussian();
            variances[j] = 0.05 + 2.0 * r.nextDouble();
        }
        // random SPD matrix: A A^T / D + 0.05 I (eigenvalues from 0.05 to a few)
        double[][] a = Host.gaussian(r, D, D, 1.0);
        cov = new double[D][D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                double v = 0;
                for (int k = 0; k < D; k++) {
                    v += a[i][k] * a[j][k];
                }
                cov[i][j] = v / D + (i == j ? 0.05 : 0.0);
            }
        }
    }

    @AfterAll
    static void close() {
        base.close();
    }

    static double[][] covOf(boolean full) {
        double[][] c = new double[D][D];
        for (int i = 0; i < D; i++) {
            if (full) {
                c[i] = cov[i].clone();
            } else {
                c[i][i] = variances[i];
            }
        }
        return c;
    }

    static GaussianDenoiser model(NoiseSchedule s, boolean full) {
        return full ? GaussianDenoiser.full(s, mean, cov) : GaussianDenoiser.diagonal(s, mean, variances);
    }

    /** eps(x) = sigma (alpha^2 Sigma + sigma^2 I)^{-1} (x - alpha mu), solved by Cholesky on the host. */
    static double[][] hostEps(double[][] x, double a, double sg, double[][] c) {
        double[][] m = new double[D][D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                m[i][j] = a * a * c[i][j] + (i == j ? sg * sg : 0.0);
            }
        }
        double[][] out = new double[x.length][];
        for (int b = 0; b < x.length; b++) {
            double[] rhs = new double[D];
            for (int j = 0; j < D; j++) {
                rhs[j] = x[b][j] - a * mean[j];
            }
            double[] y = Host.choleskySolve(m, rhs);
            for (int j = 0; j < D; j++) {
                y[j] *= sg;
            }
            out[b] = y;
        }
        return out;
    }

    static double[][] randomX(Random r, double scale) {
        double[][] x = Host.gaussian(r, B, D, scale);
        for (double[] row : x) {
            for (int j = 0; j < D; j++) {
                row[j] += mean[j];
            }
        }
        return x;
    }

    /**
     * The linear solve has condition number <= (alpha^2 lambda_max + sigma^2) / (alpha^2 lambda_min + sigma^2) ~ 60,
     * and the eigen-decomposition route has ~1e-15 relative error; eps is O(1..100): 1e-12 relative to max(1,|eps|).
     */
    @Test
    void noiseMatchesClosedForm() {
        NoiseSchedule[] schedules = {VpLinearSchedule.standard(), VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000),
                EdmSchedule.standard()};
        double[][] times = {{1e-3, 0.1, 0.5, 1.0}, {0.001, 0.5, 1.0}, {0.002, 1.0, 80.0}};
        Random r = new Random(1);
        for (boolean full : new boolean[] {false, true}) {
            for (int si = 0; si < schedules.length; si++) {
                NoiseSchedule s = schedules[si];
                try (GaussianDenoiser g = model(s, full); NDManager m = base.newSubManager()) {
                    assertEquals(!full, g.isDiagonal());
                    for (double t : times[si]) {
                        double[][] x = randomX(r, Math.max(1, s.sigma(t)));
                        try (NDArray eps = g.predict(Host.nd(m, x), t, null)) {
                            Host.assertClose(hostEps(x, s.alpha(t), s.sigma(t), covOf(full)), Host.rows(eps), 1e-12,
                                    (full ? "full " : "diag ") + s.spec() + " t=" + t);
                        }
                    }
                }
            }
        }
    }

    /**
     * exactSolution(s -> t) then (t -> s) returns the start. Each map is U diag(sqrt(v_t/v_s)) U^T applied to O(1..10)
     * values with eigen-decomposition error ~1e-15; two of them compose to ~1e-14 relative; 1e-10 is the brief's
     * bound (kept, as it also covers the float64 matmul accumulation order of PyTorch).
     */
    @Test
    void exactSolutionRoundTrip() {
        Random r = new Random(2);
        NoiseSchedule lin = VpLinearSchedule.standard();
        for (boolean full : new boolean[] {false, true}) {
            try (GaussianDenoiser g = model(lin, full); NDManager m = base.newSubManager()) {
                for (double[] st : new double[][] {{1.0, 1e-3}, {0.7, 0.2}, {0.05, 0.9}}) {
                    double[][] x = randomX(r, lin.sigma(st[0]) + lin.alpha(st[0]));
                    NDArray xs = Host.nd(m, x);
                    try (NDArray xt = g.exactSolution(xs, st[0], st[1]); NDArray back = g.exactSolution(xt, st[1], st[0])) {
                        Host.assertClose(x, Host.rows(back), 1e-10, (full ? "full" : "diag") + " " + st[0] + "->" + st[1]);
                        assertTrue(Host.maxScaledError(x, Host.rows(xt)) > 1e-3, "the map must move the state");
                    }
                    try (NDArray same = g.exactSolution(xs, st[0], st[0])) {
                        Host.assertClose(x, Host.rows(same), 1e-14, "identity at s = t");
                    }
                }
            }
        }
    }

    /**
     * The PF-ODE in noise form. With x = alpha x0 + sigma eps along a deterministic path, f = d log alpha/dt and
     * eps_hat(x, t) = E[eps | x_t = x]:
     *   dx/dt = f x + (d sigma/dt - f sigma) eps_hat
     * (DPM-Solver eq. 2.4: dx/dt = f x + g^2/(2 sigma) eps_hat with g^2 = d sigma^2/dt - 2 f sigma^2, so
     * g^2/(2 sigma) = sigma' - f sigma). For VP linear, f = -(beta0 + (beta1 - beta0) t)/2 and
     * sigma' = -alpha^2 f / sigma, both written out here independently of the schedule classes.
     *
     * <p>Integrated with classical RK4 in u = log t (dx/du = t dx/dt), 4000 uniform steps from t = 1 to t = 1e-3: the
     * stiffest coefficient is |t sigma'/sigma| <= ~0.5, so h L ~ 1e-3 and the global RK4 error is ~1e-13; 1e-8 relative
     * to max(1,|x|) is the brief's bound and still 5 orders of magnitude below what a sign or factor error would give.
     */
    @Test
    void exactSolutionMatchesRk4OfThePfOde() {
        double b0 = 0.1;
        double b1 = 20.0;
        NoiseSchedule lin = new VpLinearSchedule(b0, b1);
        Random r = new Random(3);
        for (boolean full : new boolean[] {false, true}) {
            try (GaussianDenoiser g = model(lin, full); NDManager m = base.newSubManager()) {
                double t0 = 1.0;
                double t1 = 1e-3;
                double[][] x = randomX(r, 1.0);
                double[][] state = new double[B][];
                for (int i = 0; i < B; i++) {
                    state[i] = x[i].clone();
                }
                int steps = 4000;
                double u0 = Math.log(t0);
                double hu = (Math.log(t1) - u0) / steps;
                for (int n = 0; n < steps; n++) {
                    double u = u0 + n * hu;
                    double[][] k1 = rhs(g, m, state, u, b0, b1);
                    double[][] k2 = rhs(g, m, axpy(state, hu / 2, k1), u + hu / 2, b0, b1);
                    double[][] k3 = rhs(g, m, axpy(state, hu / 2, k2), u + hu / 2, b0, b1);
                    double[][] k4 = rhs(g, m, axpy(state, hu, k3), u + hu, b0, b1);
                    for (int i = 0; i < B; i++) {
                        for (int j = 0; j < D; j++) {
                            state[i][j] += hu / 6 * (k1[i][j] + 2 * k2[i][j] + 2 * k3[i][j] + k4[i][j]);
                        }
                    }
                }
                try (NDArray exact = g.exactSolution(Host.nd(m, x), t0, t1)) {
                    double[][] e = Host.rows(exact);
                    double err = Host.maxScaledError(e, state);
                    System.out.printf("gaussian %s: exactSolution vs RK4(4000, log t) scaled error %.2e%n",
                            full ? "full" : "diag", err);
                    Host.assertClose(e, state, 1e-8, (full ? "full" : "diag") + " exact vs RK4");
                    // sanity: at t = 1e-3 the states sit near the data distribution, not at the start
                    assertTrue(Host.maxScaledError(x, e) > 1e-2);
                }
            }
        }
    }

    /** dx/du = t (f x + (sigma' - f sigma) eps) with t = e^u. */
    private static double[][] rhs(GaussianDenoiser g, NDManager m, double[][] x, double u, double b0, double b1) {
        double t = Math.exp(u);
        double logAlpha = -0.25 * t * t * (b1 - b0) - 0.5 * t * b0;
        double f = -0.5 * (b0 + (b1 - b0) * t);
        double alpha2 = Math.exp(2 * logAlpha);
        double sigma = Math.sqrt(-Math.expm1(2 * logAlpha));
        double dSigma = -alpha2 * f / sigma;
        double[][] eps;
        try (NDArray xn = Host.nd(m, x); NDArray e = g.predict(xn, t, null)) {
            eps = Host.rows(e);
        }
        double[][] out = new double[x.length][D];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < D; j++) {
                out[i][j] = t * (f * x[i][j] + (dSigma - f * sigma) * eps[i][j]);
            }
        }
        return out;
    }

    private static double[][] axpy(double[][] x, double a, double[][] y) {
        double[][] out = new double[x.length][D];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < D; j++) {
                out[i][j] = x[i][j] + a * y[i][j];
            }
        }
        return out;
    }

    @Test
    void fullCovarianceOfADiagonalMatrixEqualsDiagonalModel() {
        NoiseSchedule lin = VpLinearSchedule.standard();
        try (GaussianDenoiser a = GaussianDenoiser.diagonal(lin, mean, variances);
             GaussianDenoiser b = GaussianDenoiser.full(lin, mean, covOf(false));
             NDManager m = base.newSubManager()) {
            assertTrue(a.isDiagonal());
            assertFalse(b.isDiagonal());
            NDArray x = Host.nd(m, randomX(new Random(4), 1));
            try (NDArray ea = a.predict(x, 0.3, null); NDArray eb = b.predict(x, 0.3, null)) {
                // eigen-decomposition of a diagonal matrix is exact up to permutation/sign: a few ulp
                Host.assertClose(Host.rows(ea), Host.rows(eb), 1e-14, "diag vs full");
            }
        }
    }

    @Test
    void invalidCovariancesAreRejected() {
        NoiseSchedule lin = VpLinearSchedule.standard();
        double[][] asym = covOf(true);
        asym[0][1] += 0.1;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GaussianDenoiser.full(lin, mean, asym))
                .getMessage().contains("symmetric"));
        double[][] indef = covOf(false);
        indef[2][2] = -1.0;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GaussianDenoiser.full(lin, mean, indef))
                .getMessage().contains("positive semi-definite"));
        double[] badVar = variances.clone();
        badVar[1] = -0.5;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GaussianDenoiser.diagonal(lin, mean, badVar))
                .getMessage().contains("variances[1]"));
        assertThrows(IllegalArgumentException.class, () -> GaussianDenoiser.diagonal(lin, mean, new double[D - 1]));
        assertThrows(IllegalArgumentException.class, () -> GaussianDenoiser.full(lin, mean, new double[D][D - 1]));
    }
}
