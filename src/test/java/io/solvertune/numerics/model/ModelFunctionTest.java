package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The solver-facing model wrapper: classifier-free guidance, call batching, NFE counting, NaN detection. */
class ModelFunctionTest {
    static final int B = 5;
    static final int D = 4;
    static final int K = 6;
    static NDManager base;
    static NoiseSchedule schedule;
    static GaussianMixtureDenoiser gmm;
    NDManager m;

    @BeforeAll
    static void init() {
        base = NDManager.newBaseManager();
        schedule = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        Random r = new Random(11);
        double[] w = new double[K];
        double[] s = new double[K];
        for (int k = 0; k < K; k++) {
            w[k] = 0.5 + r.nextDouble();
            s[k] = 0.2 + 0.5 * r.nextDouble();
        }
        gmm = new GaussianMixtureDenoiser(schedule, w, Host.gaussian(r, K, D, 2.0), s,
                GaussianMixtureDenoiser.moduloClasses(K, 2));
    }

    @AfterAll
    static void close() {
        gmm.close();
        base.close();
    }

    @BeforeEach
    void sub() {
        m = base.newSubManager();
    }

    @AfterEach
    void closeSub() {
        m.close();
    }

    /** Wraps a denoiser and records every call's batch size and labels. */
    static final class Counting implements Denoiser {
        final Denoiser inner;
        final List<Long> batches = new ArrayList<>();
        final List<long[]> labels = new ArrayList<>();

        Counting(Denoiser inner) {
            this.inner = inner;
        }

        @Override
        public PredictionType predictionType() {
            return inner.predictionType();
        }

        @Override
        public NoiseSchedule schedule() {
            return inner.schedule();
        }

        @Override
        public int numClasses() {
            return inner.numClasses();
        }

        @Override
        public long[] sampleShape() {
            return inner.sampleShape();
        }

        @Override
        public NDArray predict(NDArray x, double t, NDArray lab) {
            batches.add(x.getShape().get(0));
            labels.add(lab == null ? null : lab.toLongArray());
            return inner.predict(x, t, lab);
        }
    }

    private NDArray randomX(Random r, double t) {
        double[][] x = Host.gaussian(r, B, D, 1.0);
        for (double[] row : x) {
            for (int j = 0; j < D; j++) {
                row[j] = schedule.alpha(t) * 2.0 * row[j] + schedule.sigma(t) * row[j];
            }
        }
        return Host.nd(m, x);
    }

    private NDArray labels(long value) {
        long[] l = new long[B];
        java.util.Arrays.fill(l, value);
        return m.create(l);
    }

    /**
     * eps_u + w (eps_c - eps_u) from two separate unguided calls. Both routes evaluate the same per-row mixture (the
     * batched [uncond, cond] call is row-independent) and combine with the same three roundings; eps is O(1..10), so
     * 1e-13 relative to max(1, |eps|) allows a few ulp of disagreement and nothing more.
     */
    @Test
    void guidanceEqualsSeparateCalls() {
        Random r = new Random(5);
        double maxEffect = 0;
        for (double t : new double[] {0.02, 0.35, 0.8, 1.0}) {
            for (int c = 0; c < 2; c++) {
                for (double w : new double[] {0.0, 2.5, 7.5, -1.0}) {
                    NDArray x = randomX(r, t);
                    double[][] eu;
                    double[][] ec;
                    try (NDArray u = gmm.predict(x, t, labels(Denoiser.UNCONDITIONAL));
                         NDArray cc = gmm.predict(x, t, labels(c))) {
                        eu = Host.rows(u);
                        ec = Host.rows(cc);
                    }
                    double[][] expected = new double[B][D];
                    for (int i = 0; i < B; i++) {
                        for (int j = 0; j < D; j++) {
                            expected[i][j] = eu[i][j] + w * (ec[i][j] - eu[i][j]);
                        }
                    }
                    ModelFunction f = new ModelFunction(gmm, Guidance.classifierFree(c, w));
                    try (NDArray g = f.noise(x, t)) {
                        Host.assertClose(expected, Host.rows(g), 1e-13, "t=" + t + " class=" + c + " w=" + w);
                    }
                    maxEffect = Math.max(maxEffect, Host.maxScaledError(ec, expected));
                    x.close();
                }
            }
        }
        // guidance must really change the prediction somewhere (else the comparison could pass trivially)
        assertTrue(maxEffect > 1e-2, "guided and conditional predictions coincide everywhere: " + maxEffect);
    }

    @Test
    void unguidedLabelsAreAllUnconditionalNull() {
        Counting cd = new Counting(gmm);
        ModelFunction f = new ModelFunction(cd, Guidance.none());
        NDArray x = randomX(new Random(1), 0.5);
        try (NDArray e = f.noise(x, 0.5); NDArray u = gmm.predict(x, 0.5, null)) {
            assertArrayEquals(Host.flat(Host.rows(u)), Host.flat(Host.rows(e)), 0.0);
        }
        assertEquals(List.of((long) B), cd.batches);
        assertNull(cd.labels.get(0));
    }

    @Test
    void scaleOneMakesOneConditionalCallOfBatchB() {
        Counting cd = new Counting(gmm);
        ModelFunction f = new ModelFunction(cd, Guidance.classifierFree(1, 1.0));
        NDArray x = randomX(new Random(2), 0.4);
        try (NDArray e = f.noise(x, 0.4); NDArray c = gmm.predict(x, 0.4, labels(1))) {
            // scale 1 is the plain conditional model
            Host.assertClose(Host.rows(c), Host.rows(e), 0.0, "scale 1");
        }
        assertEquals(List.of((long) B), cd.batches);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1}, cd.labels.get(0));
    }

    @Test
    void guidedEvaluationIsOneCallOfBatch2B() {
        Counting cd = new Counting(gmm);
        ModelFunction f = new ModelFunction(cd, Guidance.classifierFree(0, 5.0));
        NDArray x = randomX(new Random(3), 0.6);
        f.noise(x, 0.6).close();
        assertEquals(List.of(2L * B), cd.batches);
        long[] l = cd.labels.get(0);
        for (int i = 0; i < B; i++) {
            assertEquals(Denoiser.UNCONDITIONAL, l[i], "first half unconditional");
            assertEquals(0L, l[B + i], "second half conditional");
        }
    }

    @Test
    void nfeCountsEvaluationsNotRows() {
        Counting cd = new Counting(gmm);
        ModelFunction f = new ModelFunction(cd, Guidance.classifierFree(1, 3.0));
        assertEquals(0, f.nfe());
        NDArray x = randomX(new Random(4), 0.5);
        for (int i = 0; i < 7; i++) {
            (i % 2 == 0 ? f.noise(x, 0.5 + 0.01 * i) : f.data(x, 0.5 + 0.01 * i)).close();
        }
        assertEquals(7, f.nfe());
        assertEquals(7, cd.batches.size());
        assertTrue(f.modelNanos() > 0);
    }

    @Test
    void evalConvertsToTheRequestedType() {
        ModelFunction f = new ModelFunction(gmm, Guidance.none());
        double t = 0.3;
        NDArray x = randomX(new Random(8), t);
        try (NDArray eps = f.noise(x, t); NDArray x0 = f.data(x, t)) {
            double[][] xe = Host.rows(x);
            double[][] e = Host.rows(eps);
            double[][] expected = new double[B][D];
            for (int i = 0; i < B; i++) {
                for (int j = 0; j < D; j++) {
                    expected[i][j] = (xe[i][j] - schedule.sigma(t) * e[i][j]) / schedule.alpha(t);
                }
            }
            Host.assertClose(expected, Host.rows(x0), 1e-13, "data prediction");
        }
    }

    /** A model returning a constant (NaN, infinity, or a finite value) of x's shape. */
    static class Constant implements Denoiser {
        final double value;

        Constant(double value) {
            this.value = value;
        }

        @Override
        public PredictionType predictionType() {
            return PredictionType.NOISE;
        }

        @Override
        public NoiseSchedule schedule() {
            return schedule;
        }

        @Override
        public long[] sampleShape() {
            return new long[] {D};
        }

        @Override
        public NDArray predict(NDArray x, double t, NDArray labels) {
            double[] v = new double[(int) x.getShape().size()];
            v[v.length / 2] = value; // a single bad element among zeros
            return x.getManager().create(v, x.getShape());
        }
    }

    @Test
    void nonFiniteOutputRaises() {
        NDArray x = randomX(new Random(9), 0.5);
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            int before = m.getManagedArrays().size();
            ModelFunction f = new ModelFunction(new Constant(bad), Guidance.none());
            NonFiniteModelOutputException e = assertThrows(NonFiniteModelOutputException.class,
                    () -> f.data(x, 0.25));
            assertEquals(0.25, e.time());
            assertTrue(e.getMessage().contains("0.25"), e.getMessage());
            assertEquals(before, m.getManagedArrays().size(), "the bad output must be closed");
        }
        // float32 too
        try (NDArray x32 = x.toType(DataType.FLOAT32, true)) {
            Denoiser nan32 = new Constant(Double.NaN) {
                @Override
                public NDArray predict(NDArray xx, double t, NDArray labels) {
                    float[] v = new float[(int) xx.getShape().size()];
                    v[0] = Float.NaN;
                    return xx.getManager().create(v, xx.getShape());
                }
            };
            assertThrows(NonFiniteModelOutputException.class, () -> new ModelFunction(nan32, Guidance.none()).noise(x32, 0.5));
        }
        // checks can be switched off; a finite output passes
        new ModelFunction(new Constant(Double.NaN), Guidance.none(), false).noise(x, 0.5).close();
        new ModelFunction(new Constant(3.0), Guidance.none()).noise(x, 0.5).close();
    }

    @Test
    void invalidGuidanceIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ModelFunction(gmm, Guidance.classifierFree(2, 3.0)));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("range"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ModelFunction(gmm, Guidance.classifierFree(7, 1.0)));

        Random r = new Random(3);
        GaussianMixtureDenoiser uncond = new GaussianMixtureDenoiser(schedule, new double[] {1, 2},
                Host.gaussian(r, 2, D, 1), new double[] {0.5, 0.5}, null);
        try (uncond) {
            e = assertThrows(IllegalArgumentException.class, () -> new ModelFunction(uncond, new Guidance(null, 3.0)));
            assertTrue(e.getMessage().contains("class label"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new ModelFunction(uncond, Guidance.classifierFree(0, 1.0)));
            // an unconditional model with scale 1 and no label is fine
            new ModelFunction(uncond, Guidance.none());
        }
        assertThrows(IllegalArgumentException.class, () -> Guidance.classifierFree(-1, 2.0));
        assertThrows(IllegalArgumentException.class, () -> Guidance.classifierFree(0, Double.NaN));
    }

    @Test
    void guidedEvaluationDoesNotLeak() {
        NDArray x = randomX(new Random(10), 0.5);
        ModelFunction f = new ModelFunction(gmm, Guidance.classifierFree(1, 4.0));
        int before = m.getManagedArrays().size();
        NDArray e = f.noise(x, 0.5);
        assertEquals(before + 1, m.getManagedArrays().size(), "only the result may remain");
        e.close();
        NDArray d = f.data(x, 0.5);
        assertEquals(before + 1, m.getManagedArrays().size(), "only the result may remain (data)");
        d.close();
        assertEquals(new Shape(B, D), x.getShape());
    }
}
