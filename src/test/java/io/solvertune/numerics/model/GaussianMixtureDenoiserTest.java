package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
 * The mixture's noise prediction against {@code -sigma grad log p_t(x)} evaluated on the host in plain double:
 * {@code p_t = sum_k w_k N(alpha mu_k, (alpha^2 s_k^2 + sigma^2) I)}, conditional rows restricted to their class'
 * components (renormalised).
 */
class GaussianMixtureDenoiserTest {
    static final int K = 7;
    static final int D = 6;
    static final int B = 12;
    static NDManager base;
    static double[] w;
    static double[][] mu;
    static double[] s;
    static int[] cls;

    @BeforeAll
    static void init() {
        base = NDManager.newBaseManager();
        Random r = new Random(2024);
        w = new double[K];
        s = new double[K];
        for (int k = 0; k < K; k++) {
            w[k] = 0.2 + r.nextDouble();
            s[k] = 0.1 + 0.8 * r.nextDouble();
        }
        s[3] = 0.0; // a point mass is allowed
        mu = Host.gaussian(r, K, D, 2.0);
        cls = GaussianMixtureDenoiser.moduloClasses(K, 2);
    }

    @AfterAll
    static void close() {
        base.close();
    }

    /** log of component k's weighted density at x (up to nothing: the full normalised log-density). */
    static double logComponent(int k, double[] x, double a, double sg, double wNorm) {
        double v = a * a * s[k] * s[k] + sg * sg;
        double d2 = 0;
        for (int j = 0; j < D; j++) {
            double d = x[j] - a * mu[k][j];
            d2 += d * d;
        }
        return Math.log(wNorm) - 0.5 * D * Math.log(2 * Math.PI * v) - 0.5 * d2 / v;
    }

    /** log p_t(x) over the components allowed for `label`. */
    static double logP(double[] x, double a, double sg, long label) {
        double total = 0;
        for (int k = 0; k < K; k++) {
            total += w[k];
        }
        double[] terms = new double[K];
        for (int k = 0; k < K; k++) {
            boolean allowed = label == Denoiser.UNCONDITIONAL || cls[k] == label;
            terms[k] = allowed ? logComponent(k, x, a, sg, w[k] / total) : Double.NEGATIVE_INFINITY;
        }
        return Host.logSumExp(terms);
    }

    /** grad log p_t(x) = sum_k r_k (alpha mu_k - x) / v_k with r = softmax of the component log-densities. */
    static double[] gradLogP(double[] x, double a, double sg, long label) {
        double[] terms = new double[K];
        for (int k = 0; k < K; k++) {
            boolean allowed = label == Denoiser.UNCONDITIONAL || cls[k] == label;
            terms[k] = allowed ? logComponent(k, x, a, sg, w[k]) : Double.NEGATIVE_INFINITY;
        }
        double lse = Host.logSumExp(terms);
        double[] g = new double[D];
        for (int k = 0; k < K; k++) {
            double rk = Math.exp(terms[k] - lse);
            if (rk == 0) {
                continue;
            }
            double v = a * a * s[k] * s[k] + sg * sg;
            for (int j = 0; j < D; j++) {
                g[j] += rk * (a * mu[k][j] - x[j]) / v;
            }
        }
        return g;
    }

    /** Rows near the components (typical) and a few far away (exercise the log-sum-exp). */
    static double[][] samples(Random r, NoiseSchedule sch, double t) {
        double a = sch.alpha(t);
        double sg = sch.sigma(t);
        double[][] x = new double[B][D];
        for (int i = 0; i < B; i++) {
            int k = r.nextInt(K);
            double v = Math.sqrt(a * a * s[k] * s[k] + sg * sg);
            double far = i % 4 == 3 ? 6.0 : 1.0;
            for (int j = 0; j < D; j++) {
                x[i][j] = a * mu[k][j] + far * v * r.nextGaussian();
            }
        }
        return x;
    }

    static long[] mixedLabels() {
        long[] l = new long[B];
        for (int i = 0; i < B; i++) {
            l[i] = i % 3 == 0 ? Denoiser.UNCONDITIONAL : (i % 3 == 1 ? 0 : 1);
        }
        return l;
    }

    /**
     * Both sides are the same mathematical expression evaluated in a different order (batched softmax and matmul
     * vs. per-row loops). eps = sigma * sum_k r_k (x - alpha mu_k)/v_k has O(1..100) magnitude (far rows at small
     * sigma), and the responsibilities are computed to ~1e-15 relative; 1e-12 relative to max(1,|eps|) leaves ~100x
     * margin for the differently ordered sums of D = 6 and K = 7 terms.
     */
    @Test
    void noiseEqualsMinusSigmaGradLogP() {
        NoiseSchedule[] schedules = {VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000),
                VpLinearSchedule.standard(), EdmSchedule.standard()};
        double[][] times = {{0.001, 0.05, 0.4, 0.9, 1.0}, {1e-3, 0.2, 0.6, 1.0}, {0.002, 0.5, 5.0, 80.0}};
        Random r = new Random(1);
        long[] labels = mixedLabels();
        double worst = 0;
        for (int si = 0; si < schedules.length; si++) {
            NoiseSchedule sch = schedules[si];
            try (GaussianMixtureDenoiser g = new GaussianMixtureDenoiser(sch, w, mu, s, cls);
                 NDManager m = base.newSubManager()) {
                assertEquals(2, g.numClasses());
                for (double t : times[si]) {
                    double a = sch.alpha(t);
                    double sg = sch.sigma(t);
                    double[][] x = samples(r, sch, t);
                    double[][] expected = new double[B][];
                    for (int i = 0; i < B; i++) {
                        double[] grad = gradLogP(x[i], a, sg, labels[i]);
                        expected[i] = new double[D];
                        for (int j = 0; j < D; j++) {
                            expected[i][j] = -sg * grad[j];
                        }
                    }
                    NDArray xNd = Host.nd(m, x);
                    try (NDArray lab = m.create(labels); NDArray eps = g.predict(xNd, t, lab)) {
                        assertEquals(DataType.FLOAT64, eps.getDataType());
                        assertEquals(xNd.getShape(), eps.getShape());
                        double[][] got = Host.rows(eps);
                        worst = Math.max(worst, Host.maxScaledError(expected, got));
                        Host.assertClose(expected, got, 1e-12, sch.spec() + " t=" + t);
                    }
                    // labels == null means all rows unconditional
                    try (NDArray eps = g.predict(xNd, t, null)) {
                        double[][] got = Host.rows(eps);
                        for (int i = 0; i < B; i++) {
                            double[] grad = gradLogP(x[i], a, sg, Denoiser.UNCONDITIONAL);
                            for (int j = 0; j < D; j++) {
                                assertEquals(-sg * grad[j], got[i][j], 1e-12 * Math.max(1, Math.abs(sg * grad[j])));
                            }
                        }
                    }
                }
            }
        }
        System.out.printf("gmm eps vs host -sigma grad log p: worst scaled error %.2e%n", worst);
    }

    /**
     * Validates the host gradient itself against central differences of the host log-density (h = 1e-5: truncation
     * ~h^2 |d^3 log p| ~ 1e-9, cancellation ~1e-16 |log p| / h ~ 1e-10; tolerance 1e-6 relative).
     */
    @Test
    void hostGradientMatchesFiniteDifferences() {
        NoiseSchedule sch = VpLinearSchedule.standard();
        Random r = new Random(3);
        for (double t : new double[] {0.1, 0.5}) {
            double a = sch.alpha(t);
            double sg = sch.sigma(t);
            double[][] x = samples(r, sch, t);
            for (long label : new long[] {Denoiser.UNCONDITIONAL, 0, 1}) {
                for (int i = 0; i < 4; i++) {
                    double[] g = gradLogP(x[i], a, sg, label);
                    for (int j = 0; j < D; j++) {
                        double h = 1e-5;
                        double[] xp = x[i].clone();
                        double[] xm = x[i].clone();
                        xp[j] += h;
                        xm[j] -= h;
                        double fd = (logP(xp, a, sg, label) - logP(xm, a, sg, label)) / (2 * h);
                        assertEquals(fd, g[j], 1e-6 * Math.max(1, Math.abs(fd)));
                    }
                }
            }
        }
    }

    /**
     * float32 input gives a float32 result close to the float64 one. Logits -|x - alpha mu|^2 / (2 v) are O(10) here
     * (moderate t), so their float32 rounding (~1e-6 relative) perturbs the responsibilities by ~1e-5 and eps by
     * ~1e-5 of its magnitude; 1e-4 relative to max(1, |eps|) bounds that with margin.
     */
    @Test
    void float32InputGivesFloat32OutputCloseToFloat64() {
        NoiseSchedule sch = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        Random r = new Random(4);
        try (GaussianMixtureDenoiser g = new GaussianMixtureDenoiser(sch, w, mu, s, cls);
             NDManager m = base.newSubManager()) {
            double worst = 0;
            for (double t : new double[] {0.2, 0.5, 0.8, 1.0}) {
                double[][] x = samples(r, sch, t);
                try (NDArray x64 = Host.nd(m, x);
                     NDArray x32 = Host.nd32(m, x);
                     NDArray lab = m.create(mixedLabels());
                     NDArray e64 = g.predict(x64, t, lab);
                     NDArray e32 = g.predict(x32, t, lab)) {
                    assertEquals(DataType.FLOAT32, e32.getDataType());
                    double[][] a = Host.rows(e64);
                    double[][] b = Host.rows(e32);
                    worst = Math.max(worst, Host.maxScaledError(a, b));
                    Host.assertClose(a, b, 1e-4, "float32 vs float64 at t=" + t);
                }
            }
            System.out.printf("gmm float32 vs float64: worst scaled error %.2e%n", worst);
            assertTrue(worst > 0, "float32 path must actually compute in float32");
        }
    }

    @Test
    void multiDimensionalSamplesKeepTheirShape() {
        NoiseSchedule sch = VpLinearSchedule.standard();
        try (GaussianMixtureDenoiser g = new GaussianMixtureDenoiser(sch, w, mu, s, null);
             NDManager m = base.newSubManager()) {
            double[][] x = samples(new Random(5), sch, 0.5);
            NDArray flat = Host.nd(m, x);
            try (NDArray shaped = flat.reshape(B, 2, 3);
                 NDArray e1 = g.predict(flat, 0.5, null);
                 NDArray e2 = g.predict(shaped, 0.5, null)) {
                assertEquals(new Shape(B, 2, 3), e2.getShape());
                Host.assertClose(Host.rows(e1), Host.rows(e2), 0.0, "reshaped input");
            }
        }
    }

    @Test
    void invalidInputsAreRejected() {
        NoiseSchedule sch = VpLinearSchedule.standard();
        try (GaussianMixtureDenoiser g = new GaussianMixtureDenoiser(sch, w, mu, s, cls);
             GaussianMixtureDenoiser u = new GaussianMixtureDenoiser(sch, w, mu, s, null);
             NDManager m = base.newSubManager()) {
            NDArray x = Host.nd(m, samples(new Random(6), sch, 0.5));
            g.predict(x, 0.5, m.create(new long[B])).close(); // valid: all class 0
            long[] bad = mixedLabels();
            bad[2] = 2;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.predict(x, 0.5, m.create(bad)));
            assertTrue(e.getMessage().contains("label 2"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> u.predict(x, 0.5, m.create(mixedLabels())));
            assertThrows(IllegalArgumentException.class, () -> g.predict(x, 0.5, m.create(new long[B - 1])));
            try (NDArray wrong = m.zeros(new Shape(B, D + 1), DataType.FLOAT64)) {
                assertThrows(IllegalArgumentException.class, () -> g.predict(wrong, 0.5, null));
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> new GaussianMixtureDenoiser(sch, new double[] {1, -1}, new double[2][D], new double[2], null));
        assertThrows(IllegalArgumentException.class,
                () -> new GaussianMixtureDenoiser(sch, new double[] {1, 1}, new double[2][D], new double[] {1, -1}, null));
        assertThrows(IllegalArgumentException.class,
                () -> new GaussianMixtureDenoiser(sch, new double[] {1, 1}, new double[2][D], new double[2], new int[] {0, 2}));
    }
}
