package io.solvertune.tuning.fit;

import io.solvertune.tuning.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.model.GaussianDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * EMS estimation on Gaussian data, where l, s and b have closed forms: with x ~ N(alpha mu, C), C = alpha^2 Sigma +
 * sigma^2 I, the noise prediction is eps = sigma C^{-1}(x - alpha mu), so l = sigma^2 diag(C^{-1}); f = P x + c is
 * affine and so is its derivative along the (linear) flow, f' = Q x + d; then s_e = (P C Q^T)_ee / (P C P^T)_ee and
 * b_e = E[f'_e] - s_e E[f_e].
 */
class EmsEstimatorTest {
    static final NoiseSchedule VP = VpLinearSchedule.standard();

    /** Closed-form (l, s, b) at lambda for a Gaussian N(mu, U diag(ev) U^T). */
    static double[][] closedForm(double[] mu, double[] ev, double[][] u, double lambda) {
        int d = mu.length;
        double t = VP.inverseLambda(lambda);
        double a = VP.alpha(t);
        double sg = VP.sigma(t);
        double[][] cInv = spectral(u, ev, k -> 1.0 / (a * a * ev[k] + sg * sg));
        double[][] c = spectral(u, ev, k -> a * a * ev[k] + sg * sg);
        double[] l = new double[d];
        for (int i = 0; i < d; i++) {
            l[i] = sg * sg * cInv[i][i];
        }
        // P(lambda') and c(lambda') with the exact l(lambda'); M, m: exact flow from lambda to lambda'
        double h = 1e-5;
        double[][][] pq = new double[2][][];
        double[][] dd = new double[2][];
        for (int side = 0; side < 2; side++) {
            double lp = lambda + (side == 0 ? h : -h);
            double tp = VP.inverseLambda(lp);
            double ap = VP.alpha(tp);
            double sp = VP.sigma(tp);
            double[][] cInvP = spectral(u, ev, k -> 1.0 / (ap * ap * ev[k] + sp * sp));
            double[][] p = new double[d][d];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    p[i][j] = (sp * sp * cInvP[i][j] - (i == j ? sp * sp * cInvP[i][i] : 0)) / ap;
                }
            }
            double[][] m = spectral(u, ev, k -> Math.sqrt((ap * ap * ev[k] + sp * sp) / (a * a * ev[k] + sg * sg)));
            // x' = M x + (ap mu - M a mu);  f = P x' - sp^2 C'^{-1} mu
            double[] off = new double[d];
            for (int i = 0; i < d; i++) {
                off[i] = ap * mu[i];
                for (int j = 0; j < d; j++) {
                    off[i] -= m[i][j] * a * mu[j];
                }
            }
            double[][] pm = mul(p, m);
            double[] cst = new double[d];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    cst[i] += p[i][j] * off[j] - sp * sp * cInvP[i][j] * mu[j] / ap * ap / ap * 0 - 0;
                }
                for (int j = 0; j < d; j++) {
                    cst[i] -= sp * sp * cInvP[i][j] * mu[j];
                }
            }
            pq[side] = pm;
            dd[side] = cst;
        }
        double[][] p0 = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                p0[i][j] = (sg * sg * cInv[i][j] - (i == j ? l[i] : 0)) / a;
            }
        }
        double[] c0 = new double[d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                c0[i] -= sg * sg * cInv[i][j] * mu[j];
            }
        }
        double[][] q = new double[d][d];
        double[] dv = new double[d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                q[i][j] = (pq[0][i][j] - pq[1][i][j]) / (2 * h);
            }
            dv[i] = (dd[0][i] - dd[1][i]) / (2 * h);
        }
        double[][] pcp = mul(mul(p0, c), transpose(p0));
        double[][] pcq = mul(mul(p0, c), transpose(q));
        double[] s = new double[d];
        double[] b = new double[d];
        for (int i = 0; i < d; i++) {
            // f_i constant (diagonal data: l absorbs all of it): no slope, s = 0, b = E[f']
            s[i] = Math.abs(pcp[i][i]) < 1e-20 ? 0.0 : pcq[i][i] / pcp[i][i];
            double ef = c0[i];
            double efd = dv[i];
            for (int j = 0; j < d; j++) {
                ef += p0[i][j] * a * mu[j];
                efd += q[i][j] * a * mu[j];
            }
            b[i] = efd - s[i] * ef;
        }
        return new double[][] {l, s, b};
    }

    interface Spec {
        double of(int k);
    }

    static double[][] spectral(double[][] u, double[] ev, Spec f) {
        int d = ev.length;
        double[][] r = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                for (int k = 0; k < d; k++) {
                    double uik = u == null ? (i == k ? 1 : 0) : u[i][k];
                    double ujk = u == null ? (j == k ? 1 : 0) : u[j][k];
                    r[i][j] += uik * f.of(k) * ujk;
                }
            }
        }
        return r;
    }

    static double[][] mul(double[][] a, double[][] b) {
        int n = a.length;
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    r[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return r;
    }

    static double[][] transpose(double[][] a) {
        int n = a.length;
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                r[i][j] = a[j][i];
            }
        }
        return r;
    }

    /** Worst error of b against the closed form over the interior grid points, for K intervals. */
    static double diagonalBError(GaussianDenoiser model, double[] mu, double[] ev, int k) {
        EmpiricalModelStatistics ems = new EmsEstimator(model, Guidance.none(),
                new EmsEstimator.Settings(k, EmsEstimator.Source.NOISED_DATA, 64, 0, 1, EmsEstimator.LMethod.VJP,
                        1e-4, 64, 0), DataType.FLOAT64).fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
        double[] lambdas = new EmsGrid(k, 1.0, 1e-3).lambdas(VP);
        double worst = 0;
        for (int j = 0; j <= k; j++) {
            double[][] cf = closedForm(mu, ev, null, lambdas[j]);
            for (int e = 0; e < mu.length; e++) {
                // a diagonal Jacobian makes every Hutchinson probe exact (v_e^2 = 1)
                assertEquals(cf[0][e], ems.l(j, e), 1e-10, "l at grid " + j);
                // with diagonal data l removes all of f's dependence on x: f is constant, so s = 0
                assertEquals(0.0, ems.s(j, e), 0.0, "s at grid " + j);
                if (j > 0 && j < k) {
                    worst = Math.max(worst, Math.abs(cf[2][e] - ems.b(j, e)) / Math.max(1, Math.abs(cf[2][e])));
                }
            }
        }
        return worst;
    }

    /**
     * Diagonal Gaussian: l exact, s = 0, and b = f' up to l' from the grid's central differences, whose error falls
     * with the square of the grid step.
     */
    @Test
    void diagonalGaussianStatisticsMatchTheirClosedForms() {
        double[] mu = {0.5, -1.0, 0.2};
        double[] ev = {0.05, 0.5, 2.0};
        try (GaussianDenoiser model = GaussianDenoiser.diagonal(VP, mu, ev)) {
            double e40 = diagonalBError(model, mu, ev, 40);
            double e80 = diagonalBError(model, mu, ev, 80);
            System.out.printf("EMS diagonal Gaussian: worst scaled b error %.2e (K 40), %.2e (K 80)%n", e40, e80);
            assertTrue(e80 < 5e-3, "b error at K 80: " + e80);
            assertTrue(e40 / e80 > 3.0 && e40 / e80 < 5.0, "second-order convergence in K: ratio " + e40 / e80);
        }
    }

    @Test
    void fullCovarianceLIsWithinTheProbeErrorAndSbWithinSamplingError() {
        Random rnd = new Random(4);
        int d = 4;
        double[] mu = new double[d];
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) {
            mu[i] = rnd.nextGaussian();
            for (int j = 0; j < d; j++) {
                a[i][j] = rnd.nextGaussian();
            }
        }
        double[][] cov = mul(a, transpose(a));
        for (int i = 0; i < d; i++) {
            cov[i][i] += 0.1;
        }
        try (GaussianDenoiser model = GaussianDenoiser.full(VP, mu, cov)) {
            int k = 30;
            int n = 1024;
            EmsEstimator est = new EmsEstimator(model, Guidance.none(),
                    new EmsEstimator.Settings(k, EmsEstimator.Source.NOISED_DATA, n, 0, 1, EmsEstimator.LMethod.VJP,
                            1e-4, 512, 0), DataType.FLOAT64);
            EmpiricalModelStatistics ems = est.fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
            // s and b are very sensitive to l where alpha is small (f = (sigma eps - l x)/alpha): check them with the
            // exact l, so that only their own sampling error remains
            EmpiricalModelStatistics exact = new EmsEstimator(model, Guidance.none(),
                    new EmsEstimator.Settings(k, EmsEstimator.Source.NOISED_DATA, n, 0, 1, EmsEstimator.LMethod.EXACT,
                            1e-4, 512, 0), DataType.FLOAT64).fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
            double[] lambdas = new EmsGrid(k, 1.0, 1e-3).lambdas(VP);
            double[][] u = model.basis();
            double[] ev = model.eigenvalues();
            int outside = 0;
            for (int j = 1; j < k; j++) {
                double t = VP.inverseLambda(lambdas[j]);
                double al = VP.alpha(t);
                double sg = VP.sigma(t);
                double[][] jac = spectral(u, ev, q -> sg / (al * al * ev[q] + sg * sg)); // d eps / d x
                double[][] cf = closedForm(mu, ev, u, lambdas[j]);
                for (int e = 0; e < d; e++) {
                    // Hutchinson: sigma v_e (J v)_e = sigma (J_ee + sum_{q != e} J_eq v_e v_q): variance sigma^2 sum J_eq^2
                    double var = 0;
                    for (int q = 0; q < d; q++) {
                        if (q != e) {
                            var += sg * sg * jac[e][q] * jac[e][q];
                        }
                    }
                    double sd = Math.sqrt(var / n);
                    if (Math.abs(ems.l(j, e) - cf[0][e]) > 3 * sd) {
                        outside++;
                    }
                    assertEquals(cf[0][e], ems.l(j, e), 5 * sd + 1e-12, "l at grid " + j + " dim " + e);
                    assertEquals(cf[0][e], exact.l(j, e), 1e-12, "exact l at grid " + j);
                    // s, b: regression on 1024 samples (plus l' from grid differences of a 30-interval grid)
                    assertEquals(cf[1][e], exact.s(j, e), 0.15 * Math.max(0.5, Math.abs(cf[1][e])), "s at grid " + j);
                    assertEquals(cf[2][e], exact.b(j, e), 0.15 * Math.max(0.5, Math.abs(cf[2][e])), "b at grid " + j);
                }
            }
            assertTrue(outside <= 3, outside + " of " + (k - 1) * d + " l estimates beyond 3 standard deviations");
        }
    }

    /**
     * On the reference mixture the estimator (exact Jacobian diagonal, 1024 noised data samples, K = 240 between t = 1
     * and 1/N, no smoothing) approaches the official statistics in shared/reference/ems_public_gmm_sd_d8 (4096
     * samples) within the Monte-Carlo error of different samples.
     */
    @Test
    void approachesTheReferenceStatisticsOfTheMixture() throws Exception {
        io.solvertune.testing.ReferenceProblem p = io.solvertune.testing.ReferenceProblem.load("public_gmm_sd_d8");
        EmpiricalModelStatistics ref = io.solvertune.numerics.coeff.EmsNpz.read(
                io.solvertune.testing.ReferenceProblem.resource("ems_public_gmm_sd_d8/l.npz").getParent(), 1.0, 1e-3);
        try (io.solvertune.numerics.model.GaussianMixtureDenoiser model = p.model()) {
            EmpiricalModelStatistics ours = new EmsEstimator(model, Guidance.none(),
                    new EmsEstimator.Settings(240, EmsEstimator.Source.NOISED_DATA, 1024, 0, 1,
                            EmsEstimator.LMethod.EXACT, 1e-5, 1024, 0), DataType.FLOAT64)
                    .fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
            int d = 8;
            double[] relL = new double[241 * d];
            double[] absSB = new double[241 * d];
            int q = 0;
            for (int j = 0; j <= 240; j++) {
                for (int e = 0; e < d; e++) {
                    relL[q] = Math.abs(ours.l(j, e) - ref.l(j, e)) / Math.max(1e-3, Math.abs(ref.l(j, e)));
                    absSB[q] = Math.abs(ours.b(j, e) - ref.b(j, e)) / Math.max(1.0, Math.abs(ref.b(j, e)));
                    q++;
                }
            }
            java.util.Arrays.sort(relL);
            java.util.Arrays.sort(absSB);
            System.out.printf("EMS vs reference (gmm sd d8): l relative error median %.3g, 95%% %.3g; b scaled error median %.3g%n",
                    relL[relL.length / 2], relL[(int) (relL.length * 0.95)], absSB[absSB.length / 2]);
            assertTrue(relL[relL.length / 2] < 0.02, "median relative l error " + relL[relL.length / 2]);
            assertTrue(relL[(int) (relL.length * 0.95)] < 0.1, "95% l error " + relL[(int) (relL.length * 0.95)]);
            assertTrue(absSB[absSB.length / 2] < 0.1, "median b error " + absSB[absSB.length / 2]);
        }
    }

    /**
     * A spec whose guidance fixes one class (here class 0 of the guided reference problem, scale 5): the data samples
     * come from that class's components only, so the statistics approach the exact class-restricted ones of
     * shared/reference/ems_public_gmm_sd_d32_cfg5 (4096 class-0 samples) within their Monte-Carlo error. Before the fix
     * the fixed class was dropped on the way to the data sampler and the samples came from every class (l reached
     * -1.3, s +39, and DPM-Solver-v3 diverged).
     */
    @Test
    void dataStatisticsOfAFixedClassAreThoseOfThatClass() throws Exception {
        io.solvertune.testing.ReferenceProblem p = io.solvertune.testing.ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        assertEquals(Integer.valueOf(0), p.guidance.classLabel());
        assertTrue(!p.guidance.perSeedClass());
        EmpiricalModelStatistics ref = io.solvertune.numerics.coeff.EmsNpz.read(
                io.solvertune.testing.ReferenceProblem.resource("ems_public_gmm_sd_d32_cfg5/l.npz").getParent(), 1.0,
                1e-3);
        try (io.solvertune.numerics.model.GaussianMixtureDenoiser model = p.model()) {
            EmpiricalModelStatistics ours = new EmsEstimator(model, p.guidance,
                    new EmsEstimator.Settings(240, EmsEstimator.Source.NOISED_DATA, 1024, 0, 1,
                            EmsEstimator.LMethod.EXACT, 1e-5, 1024, 0), DataType.FLOAT64)
                    .fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
            int d = 32;
            double[] relL = new double[241 * d];
            double[] scaledB = new double[241 * d];
            double[] scaledS = new double[241 * d];
            double maxS = Double.NEGATIVE_INFINITY;
            int q = 0;
            for (int j = 0; j <= 240; j++) {
                for (int e = 0; e < d; e++) {
                    relL[q] = Math.abs(ours.l(j, e) - ref.l(j, e)) / Math.max(1e-3, Math.abs(ref.l(j, e)));
                    scaledB[q] = Math.abs(ours.b(j, e) - ref.b(j, e)) / Math.max(1.0, Math.abs(ref.b(j, e)));
                    scaledS[q] = Math.abs(ours.s(j, e) - ref.s(j, e)) / Math.max(1.0, Math.abs(ref.s(j, e)));
                    maxS = Math.max(maxS, ours.s(j, e));
                    q++;
                }
            }
            java.util.Arrays.sort(relL);
            java.util.Arrays.sort(scaledB);
            java.util.Arrays.sort(scaledS);
            System.out.printf("EMS of a fixed class vs reference (gmm sd d32 cfg5, class 0): l relative error median "
                    + "%.3g, 95%% %.3g; s scaled median %.3g; b scaled median %.3g; max s %.3g%n",
                    relL[relL.length / 2], relL[(int) (relL.length * 0.95)], scaledS[scaledS.length / 2],
                    scaledB[scaledB.length / 2], maxS);
            assertTrue(relL[relL.length / 2] < 0.02, "median relative l error " + relL[relL.length / 2]);
            assertTrue(relL[(int) (relL.length * 0.95)] < 0.1, "95% l error " + relL[(int) (relL.length * 0.95)]);
            assertTrue(scaledS[scaledS.length / 2] < 0.1, "median s error " + scaledS[scaledS.length / 2]);
            assertTrue(scaledB[scaledB.length / 2] < 0.1, "median b error " + scaledB[scaledB.length / 2]);
        }
    }

    /** The labels of the data samples: per seed, the fixed class, or none. */
    @Test
    void dataLabelsFollowTheGuidance() {
        long[] seeds = {0, 1, 2, 7};
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {0, 0, 0, 0},
                new Guidance(0, 7.5).dataLabels(seeds, 2));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {0, 1, 0, 1},
                Guidance.perSeed(7.5).dataLabels(seeds, 2));
        org.junit.jupiter.api.Assertions.assertNull(Guidance.none().dataLabels(seeds, 2));
        org.junit.jupiter.api.Assertions.assertNull(new Guidance(0, 7.5).rowLabels(seeds, 2),
                "the model function still applies a fixed class through the guidance, not through row labels");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Guidance(5, 2.0).dataLabels(seeds, 2));
    }

    /** An estimation killed part-way resumes from its checkpoint and ends with the same statistics, bit for bit. */
    @Test
    void resumesFromItsCheckpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        double[] mu = {0.3, -0.7};
        double[][] cov = {{1.0, 0.4}, {0.4, 0.5}};
        try (GaussianDenoiser model = GaussianDenoiser.full(VP, mu, cov)) {
            EmsEstimator.Settings st = new EmsEstimator.Settings(12, EmsEstimator.Source.NOISED_DATA, 64, 0, 1,
                    EmsEstimator.LMethod.VJP, 1e-4, 32, 0);
            EmpiricalModelStatistics whole = new EmsEstimator(model, Guidance.none(), st, DataType.FLOAT64)
                    .fromData(DataSampler.of(model), 1.0, 1e-3, Progress.NONE);
            int[] calls = {0};
            Progress crash = (stage, done, total, msg) -> {
                if (stage.equals("ems-sb") && done == 5) {
                    throw new IllegalStateException("killed");
                }
            };
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () ->
                    new EmsEstimator(model, Guidance.none(), st, DataType.FLOAT64).withCheckpoints(dir, "k1")
                            .fromData(DataSampler.of(model), 1.0, 1e-3, crash));
            Progress count = (stage, done, total, msg) -> calls[0]++;
            EmpiricalModelStatistics resumed = new EmsEstimator(model, Guidance.none(), st, DataType.FLOAT64)
                    .withCheckpoints(dir, "k1").fromData(DataSampler.of(model), 1.0, 1e-3, count);
            // l (13 points) and the first 5 s/b points were not recomputed
            assertEquals(13 - 5, calls[0]);
            org.junit.jupiter.api.Assertions.assertArrayEquals(whole.l(), resumed.l(), 0.0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(whole.s(), resumed.s(), 0.0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(whole.b(), resumed.b(), 0.0);
        }
    }
}
