package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The optimal denoiser of a finite dataset: {@code E[x0 | x] = sum_i softmax_i(-|x - alpha x_i|^2 / (2 sigma^2)) x_i}
 * computed on the host (full squared distances, log-sum-exp), class-restricted and unconditional rows mixed.
 */
class EmpiricalDenoiserTest {
    static final int M = 50;
    static final int D = 6;
    static final int C = 3;
    static final int B = 9;
    static NDManager base;
    static double[][] data;
    static int[] labels;

    @BeforeAll
    static void init() {
        base = NDManager.newBaseManager();
        Random r = new Random(99);
        data = Host.gaussian(r, M, D, 1.0);
        labels = new int[M];
        for (int i = 0; i < M; i++) {
            labels[i] = r.nextInt(C);
            data[i][0] += 2.0 * labels[i]; // classes are shifted apart
        }
        for (int c = 0; c < C; c++) {
            labels[c] = c; // every class present
        }
    }

    @AfterAll
    static void close() {
        base.close();
    }

    static EmpiricalDenoiser model(NoiseSchedule s, DataType dt, boolean conditional) {
        NDManager m = NDManager.newBaseManager();
        NDArray d = dt == DataType.FLOAT64 ? Host.nd(m, data) : Host.nd32(m, data);
        return new EmpiricalDenoiser(s, m, d, conditional ? labels : null, conditional ? C : 0);
    }

    static double[] hostPosteriorMean(double[] x, double a, double sg, long label) {
        double[] logits = new double[M];
        for (int i = 0; i < M; i++) {
            if (label != Denoiser.UNCONDITIONAL && labels[i] != label) {
                logits[i] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double d2 = 0;
            for (int j = 0; j < D; j++) {
                double d = x[j] - a * data[i][j];
                d2 += d * d;
            }
            logits[i] = -d2 / (2 * sg * sg);
        }
        double lse = Host.logSumExp(logits);
        double[] out = new double[D];
        for (int i = 0; i < M; i++) {
            double wi = Math.exp(logits[i] - lse);
            for (int j = 0; j < D; j++) {
                out[j] += wi * data[i][j];
            }
        }
        return out;
    }

    static double[][] queries(Random r, NoiseSchedule s, double t) {
        double[][] x = new double[B][D];
        for (int b = 0; b < B; b++) {
            double[] src = data[r.nextInt(M)];
            for (int j = 0; j < D; j++) {
                x[b][j] = s.alpha(t) * src[j] + s.sigma(t) * r.nextGaussian();
            }
        }
        return x;
    }

    static long[] mixedLabels() {
        long[] l = new long[B];
        for (int b = 0; b < B; b++) {
            l[b] = b % 4 == 3 ? Denoiser.UNCONDITIONAL : b % C;
        }
        return l;
    }

    /**
     * float64: the model drops the per-row |x|^2 term (softmax-invariant) and uses matrix products; logits are
     * O(|x| |x_i| alpha / sigma^2) <= ~1e3 at the smallest probed sigma, so their absolute rounding is ~1e-13 and the
     * weights agree to ~1e-13 relative; averages of O(1..5) data: 1e-12 relative to max(1, |x0|).
     */
    @Test
    void dataPredictionEqualsHostSoftmaxAverage() {
        NoiseSchedule s = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        Random r = new Random(1);
        long[] lab = mixedLabels();
        try (EmpiricalDenoiser e = model(s, DataType.FLOAT64, true); NDManager m = base.newSubManager()) {
            assertEquals(M, e.size());
            assertEquals(C, e.numClasses());
            assertEquals(PredictionType.DATA, e.predictionType());
            assertArrayEquals(new long[] {D}, e.sampleShape());
            for (double t : new double[] {0.05, 0.2, 0.5, 0.8, 1.0}) {
                double[][] x = queries(r, s, t);
                double[][] expected = new double[B][];
                for (int b = 0; b < B; b++) {
                    expected[b] = hostPosteriorMean(x[b], s.alpha(t), s.sigma(t), lab[b]);
                }
                try (NDArray xn = Host.nd(m, x); NDArray ln = m.create(lab); NDArray x0 = e.predict(xn, t, ln)) {
                    assertEquals(DataType.FLOAT64, x0.getDataType());
                    assertEquals(m, x0.getManager(), "result must be attached to x's manager");
                    Host.assertClose(expected, Host.rows(x0), 1e-12, "t=" + t);
                }
                // labels == null: all rows use every item
                try (NDArray xn = Host.nd(m, x); NDArray x0 = e.predict(xn, t, null)) {
                    double[][] got = Host.rows(x0);
                    for (int b = 0; b < B; b++) {
                        assertArrayEquals(hostPosteriorMean(x[b], s.alpha(t), s.sigma(t), Denoiser.UNCONDITIONAL),
                                got[b], 1e-12 * 5);
                    }
                }
            }
        }
    }

    /**
     * A class-c row equals the prediction of an unconditional model built from the class-c items only (independent
     * route to "uses only its class"); the same computation on a subset: 1e-12.
     */
    @Test
    void classRowsUseOnlyTheirClass() {
        NoiseSchedule s = VpLinearSchedule.standard();
        Random r = new Random(2);
        try (EmpiricalDenoiser e = model(s, DataType.FLOAT64, true); NDManager m = base.newSubManager()) {
            for (int c = 0; c < C; c++) {
                int n = 0;
                for (int l : labels) {
                    n += l == c ? 1 : 0;
                }
                double[][] sub = new double[n][];
                int k = 0;
                for (int i = 0; i < M; i++) {
                    if (labels[i] == c) {
                        sub[k++] = data[i];
                    }
                }
                NDManager sm = NDManager.newBaseManager();
                try (EmpiricalDenoiser only = new EmpiricalDenoiser(s, sm, Host.nd(sm, sub), null, 0)) {
                    for (double t : new double[] {0.3, 0.7}) {
                        double[][] x = queries(r, s, t);
                        long[] lab = new long[B];
                        java.util.Arrays.fill(lab, c);
                        try (NDArray xn = Host.nd(m, x); NDArray ln = m.create(lab);
                             NDArray a = e.predict(xn, t, ln); NDArray b = only.predict(xn, t, null)) {
                            Host.assertClose(Host.rows(b), Host.rows(a), 1e-12, "class " + c + " t=" + t);
                        }
                    }
                }
            }
        }
    }

    /**
     * At tiny noise (VP linear t = 1e-6, sigma ~ 3e-4) a noiseless data point x = alpha x_j is its own prediction: the
     * nearest other item is >= 0.3 away, so its weight is exp(-0.09 / 2e-7) = 0. Only rounding remains: 1e-12.
     */
    @Test
    void tinyNoiseReturnsTheDataPoint() {
        NoiseSchedule s = VpLinearSchedule.standard();
        double t = 1e-6;
        double minDist = Double.MAX_VALUE;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < i; j++) {
                double d2 = 0;
                for (int q = 0; q < D; q++) {
                    d2 += (data[i][q] - data[j][q]) * (data[i][q] - data[j][q]);
                }
                minDist = Math.min(minDist, Math.sqrt(d2));
            }
        }
        assertTrue(minDist > 0.3, "test data too clustered: " + minDist);
        try (EmpiricalDenoiser e = model(s, DataType.FLOAT64, true); NDManager m = base.newSubManager()) {
            double[][] x = new double[M][D];
            long[] lab = new long[M];
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < D; j++) {
                    x[i][j] = s.alpha(t) * data[i][j];
                }
                lab[i] = i % 2 == 0 ? labels[i] : Denoiser.UNCONDITIONAL;
            }
            try (NDArray xn = Host.nd(m, x); NDArray ln = m.create(lab); NDArray x0 = e.predict(xn, t, ln)) {
                Host.assertClose(data, Host.rows(x0), 1e-12, "tiny noise");
            }
        }
    }

    /**
     * float32 data and input: logits a x.x_i / sigma^2 are O(10..100) at these times, float32 relative rounding 6e-8
     * makes them wrong by up to ~1e-5 absolute, which moves the weights by ~1e-5 relative and x0 by ~1e-5 * spread;
     * 5e-5 relative to max(1, |x0|) covers it (the brief's "~1e-5").
     */
    @Test
    void float32AgreesWithFloat64() {
        NoiseSchedule s = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        Random r = new Random(3);
        long[] lab = mixedLabels();
        double worst = 0;
        try (EmpiricalDenoiser e64 = model(s, DataType.FLOAT64, true);
             EmpiricalDenoiser e32 = model(s, DataType.FLOAT32, true);
             NDManager m = base.newSubManager()) {
            assertEquals(DataType.FLOAT32, e32.dataType());
            for (double t : new double[] {0.2, 0.5, 0.8, 1.0}) {
                double[][] x = queries(r, s, t);
                try (NDArray x64 = Host.nd(m, x); NDArray x32 = Host.nd32(m, x); NDArray ln = m.create(lab);
                     NDArray a = e64.predict(x64, t, ln); NDArray b = e32.predict(x32, t, ln);
                     NDArray mixed = e32.predict(x64, t, ln)) {
                    assertEquals(DataType.FLOAT32, b.getDataType());
                    assertEquals(DataType.FLOAT64, mixed.getDataType(), "output follows the input's type");
                    worst = Math.max(worst, Host.maxScaledError(Host.rows(a), Host.rows(b)));
                    Host.assertClose(Host.rows(a), Host.rows(b), 5e-5, "float32 t=" + t);
                    Host.assertClose(Host.rows(a), Host.rows(mixed), 5e-5, "float32 model, float64 input t=" + t);
                }
            }
        }
        System.out.printf("empirical float32 vs float64: worst scaled error %.2e%n", worst);
    }

    @Test
    void imageShapedDataKeepsSampleShape() {
        NoiseSchedule s = VpLinearSchedule.standard();
        NDManager dm = NDManager.newBaseManager();
        try (EmpiricalDenoiser e = new EmpiricalDenoiser(s, dm, Host.nd(dm, data).reshape(M, 1, 2, 3), labels, C);
             NDManager m = base.newSubManager()) {
            assertArrayEquals(new long[] {1, 2, 3}, e.sampleShape());
            double[][] x = queries(new Random(4), s, 0.5);
            try (NDArray xn = Host.nd(m, x).reshape(B, 1, 2, 3); NDArray x0 = e.predict(xn, 0.5, null)) {
                assertEquals(new Shape(B, 1, 2, 3), x0.getShape());
                double[][] got = Host.rows(x0);
                for (int b = 0; b < B; b++) {
                    assertArrayEquals(hostPosteriorMean(x[b], s.alpha(0.5), s.sigma(0.5), Denoiser.UNCONDITIONAL),
                            got[b], 1e-12 * 5);
                }
            }
        }
    }

    @Test
    void invalidConstructionAndLabels() {
        NoiseSchedule s = VpLinearSchedule.standard();
        NDManager m1 = NDManager.newBaseManager();
        int[] bad = labels.clone();
        bad[5] = C;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EmpiricalDenoiser(s, m1, Host.nd(m1, data), bad, C));
        assertTrue(e.getMessage().contains("item 5"), e.getMessage());
        m1.close();
        NDManager m2 = NDManager.newBaseManager();
        int[] missing = new int[M]; // all class 0: class 1 and 2 empty
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new EmpiricalDenoiser(s, m2, Host.nd(m2, data), missing, C)).getMessage().contains("class 1"));
        m2.close();
        try (EmpiricalDenoiser u = model(s, DataType.FLOAT64, false); NDManager m = base.newSubManager()) {
            NDArray x = Host.nd(m, queries(new Random(5), s, 0.5));
            long[] lab = new long[B];
            java.util.Arrays.fill(lab, Denoiser.UNCONDITIONAL);
            u.predict(x, 0.5, m.create(lab)).close(); // all-unconditional labels are fine
            lab[0] = 1;
            assertThrows(IllegalArgumentException.class, () -> u.predict(x, 0.5, m.create(lab)));
        }
    }

    /**
     * Regression: the class-mask table used to be a DJL {@code toType(sameType, copy=true)} "copy", which aliases the
     * direct buffer of a closed temporary; after a garbage collection the masks (and every conditional prediction)
     * turned into garbage. The prediction must be identical after heavy GC and allocation churn.
     */
    @Test
    void classMasksSurviveGarbageCollection() {
        Random rnd = new Random(5);
        int m = 300;
        int d = 16;
        float[] data = new float[m * d];
        int[] labels = new int[m];
        for (int i = 0; i < m; i++) {
            labels[i] = i % 3;
            for (int j = 0; j < d; j++) {
                data[i * d + j] = (float) rnd.nextGaussian();
            }
        }
        NoiseSchedule schedule = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000);
        NDManager owner = NDManager.newBaseManager();
        try (EmpiricalDenoiser model = new EmpiricalDenoiser(schedule, owner,
                owner.create(data, new Shape(m, d)), labels, 3);
             NDManager mgr = NDManager.newBaseManager()) {
            NDArray x = mgr.randomNormal(new Shape(6, d));
            NDArray lab = mgr.create(new long[] {0, 1, 2, -1, 0, 1});
            float[] before = model.predict(x, 0.3, lab).toFloatArray();
            for (int round = 0; round < 5; round++) {
                for (int k = 0; k < 200; k++) {
                    java.nio.ByteBuffer.allocateDirect(1 << 16);
                }
                System.gc();
            }
            float[] after = model.predict(x, 0.3, lab).toFloatArray();
            assertArrayEquals(before, after, 0f);
        }
    }
}
