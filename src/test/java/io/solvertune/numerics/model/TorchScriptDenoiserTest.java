package io.solvertune.numerics.model;

import io.solvertune.numerics.solver.ddim.Ddim;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.TorchScriptDenoiser.Config;
import io.solvertune.numerics.model.TorchScriptDenoiser.TimeInput;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * User models as TorchScript, against the fixtures of {@code src/test/resources/torchscript/make_fixtures.py}
 * (written by torch 1.13, loaded by DJL's libtorch 2.7.1):
 * <ul>
 *   <li>{@code uncond_eps.pt}: {@code forward(x, t) = 0.5 x + t / 1024};</li>
 *   <li>{@code cond_eps.pt}: {@code forward(x, t, y) = -1.5 x + 0.25 + t / 1024 + (y + 1)}, classes 0..9, null 10
 *       (the Fashion-MNIST UNet convention: x [B, 1, 28, 28] f32, t [B] f32 DDPM index, y [B] int64);</li>
 *   <li>one file per rejection case.</li>
 * </ul>
 */
class TorchScriptDenoiserTest {
    static final Path DIR = Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/torchscript");
    static final long[] UNCOND_SHAPE = {2, 3, 3};
    static final long[] MNIST = {1, 28, 28};
    static final double F32 = 2e-6;

    static NDManager base;
    static VpDiscreteSchedule schedule;
    static TorchScriptDenoiser uncond;
    static TorchScriptDenoiser cond;
    NDManager m;

    @TempDir
    Path tmp;

    @BeforeAll
    static void init() throws IOException {
        base = NDManager.newBaseManager();
        schedule = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000);
        uncond = TorchScriptDenoiser.load(schedule, uncondConfig());
        cond = TorchScriptDenoiser.load(schedule, condConfig());
    }

    @AfterAll
    static void close() {
        uncond.close();
        cond.close();
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

    static Config uncondConfig() {
        return Config.of(DIR.resolve("uncond_eps.pt"), UNCOND_SHAPE, PredictionType.NOISE, TimeInput.DDPM_INDEX)
                .withDevice(Device.cpu());
    }

    static Config condConfig() {
        return Config.of(DIR.resolve("cond_eps.pt"), MNIST, PredictionType.NOISE, TimeInput.DDPM_INDEX)
                .withClasses(10, 10).withDevice(Device.cpu());
    }

    // ---------------------------------------------------------------- formulas of the fixtures (host side)

    static double[] uncondFormula(double[] x, int b, double modelTime) {
        double[] e = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            e[i] = 0.5 * x[i] + modelTime / 1024.0;
        }
        return e;
    }

    /** {@code -1.5 x + 0.25 + t/1024 + (y + 1)} with the module's label y per row. */
    static double[] condFormula(double[] x, long[] moduleLabels, double modelTime) {
        int per = x.length / moduleLabels.length;
        double[] e = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            e[i] = -1.5 * x[i] + 0.25 + modelTime / 1024.0 + (moduleLabels[i / per] + 1);
        }
        return e;
    }

    static double[] randn(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }

    static long[] batchShape(int b, long[] sample) {
        long[] s = new long[sample.length + 1];
        s[0] = b;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    static void assertClose(double[] expected, double[] got, double tol, String what) {
        assertEquals(expected.length, got.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tol * Math.max(1.0, Math.abs(expected[i])), what + " [" + i + "]");
        }
    }

    static IllegalArgumentException rejected(Config c) {
        return rejected(schedule, c);
    }

    static IllegalArgumentException rejected(NoiseSchedule s, Config c) {
        return assertThrows(IllegalArgumentException.class, () -> TorchScriptDenoiser.load(s, c).close());
    }

    static void assertMessage(IllegalArgumentException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message should contain '" + p + "': " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- outputs

    @Test
    void unconditionalOutputMatchesTheFixtureFormula() {
        Random r = new Random(1);
        int b = 4;
        double[] xv = randn(r, (int) (b * 18));
        NDArray x = Nd.create(m, xv, new Shape(batchShape(b, UNCOND_SHAPE)), DataType.FLOAT32);
        for (double t : new double[] {1.0, 0.5, 0.37, schedule.defaultTEnd()}) {
            NDArray out = uncond.predict(x, t, null);
            assertEquals(x.getShape(), out.getShape());
            assertEquals(DataType.FLOAT32, out.getDataType());
            assertSame(m, out.getManager(), "the result belongs to x's manager");
            assertNotSame(x, out);
            assertClose(uncondFormula(Nd.toDoubles(x), b, schedule.modelInputTime(t)), Nd.toDoubles(out), F32,
                    "t=" + t);
            out.close();
        }
        // all-unconditional label arrays are accepted by an unconditional model
        try (NDArray labels = m.full(new Shape(b), -1L, DataType.INT64); NDArray out = uncond.predict(x, 0.5, labels)) {
            assertEquals(x.getShape(), out.getShape());
        }
        try (NDArray labels = m.create(new long[] {-1, 2, -1, -1})) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> uncond.predict(x, 0.5, labels));
            assertMessage(e, "unconditional but got class label 2");
        }
    }

    @Test
    void resultIsAFreshNormalTensor() {
        // libtorch returns inference tensors, which refuse in-place updates outside inference mode; the denoiser
        // hands out a copy that solvers may update in place, and x is untouched
        NDArray x = m.ones(new Shape(batchShape(2, UNCOND_SHAPE)));
        NDArray out = uncond.predict(x, 0.5, null);
        out.muli(2.0);
        out.addi(x);
        assertEquals(1.0f, x.toFloatArray()[0]);
        out.close();
    }

    @Test
    void metadata() throws Exception {
        Path f = DIR.resolve("uncond_eps.pt");
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        assertEquals(sha, uncond.sha256());
        assertEquals(64, uncond.sha256().length());
        assertEquals(Files.size(f), uncond.fileSize());
        assertEquals(2, uncond.parameterCount().orElseThrow(), "a, b");
        assertEquals(1 + 1 + 11, cond.parameterCount().orElseThrow(), "conv weight, conv bias, emb[11]");
        assertEquals("forward(Tensor x, Tensor t) -> Tensor", uncond.signature().orElseThrow().describe());
        assertEquals("forward(Tensor x, Tensor t, Tensor y) -> Tensor", cond.signature().orElseThrow().describe());
        assertEquals(Device.cpu(), uncond.device());
        assertArrayEquals(UNCOND_SHAPE, uncond.sampleShape());
        assertEquals(PredictionType.NOISE, uncond.predictionType());
        assertEquals(0, uncond.numClasses());
        assertEquals(10, cond.numClasses());
        assertSame(schedule, cond.schedule());
    }

    @Test
    void defaultDeviceIsWhatDjlReports() throws IOException {
        Device expected = Engine.getEngine("PyTorch").getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        assertEquals(expected, TorchScriptDenoiser.defaultDevice());
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(schedule, uncondConfig().withDevice(null))) {
            assertEquals(expected, d.device());
            // inputs on the CPU work whatever the model's device: moved there and back
            NDArray x = m.zeros(new Shape(batchShape(3, UNCOND_SHAPE)));
            try (NDArray out = d.predict(x, 1.0, null)) {
                assertEquals(x.getDevice(), out.getDevice());
                assertEquals(schedule.modelInputTime(1.0) / 1024.0, out.toFloatArray()[0], 1e-6);
            }
        }
    }

    // ---------------------------------------------------------------- time input

    @Test
    void ddpmIndexTimeInputGivesTheTrainingIndex() {
        // at x = 0 the unconditional fixture returns t_model / 1024: the module sees exactly N' t - 1
        int nPrime = (int) Math.round(schedule.modelInputTime(1.0)) + 1;
        assertTrue(nPrime > 900 && nPrime <= 1000, "N' = " + nPrime);
        NDArray x = m.zeros(new Shape(batchShape(2, UNCOND_SHAPE)));
        for (int n : new int[] {0, 1, 499, nPrime - 2, nPrime - 1}) {
            double t = (n + 1.0) / nPrime;
            try (NDArray out = uncond.predict(x, t, null)) {
                float[] v = out.toFloatArray();
                assertEquals(n, v[0] * 1024.0, 1e-3, "grid point " + n);
                assertEquals(v[0], v[v.length - 1], "t broadcast to every row");
            }
        }
        // between grid points the index is fractional (continuous-time solvers evaluate anywhere)
        double t = 0.4321;
        try (NDArray out = uncond.predict(x, t, null)) {
            assertEquals(nPrime * t - 1.0, out.toFloatArray()[0] * 1024.0, 1e-3);
        }
        assertEquals(nPrime * t - 1.0, uncond.modelTime(t), 1e-12);
    }

    @Test
    void ddpmIndexUsesTheClippedGridLength() throws IOException {
        // squaredcos_cap_v2 loses its last 4 steps to the lambda clipping: N' = 996, so t = 1 is index 995, not 999
        VpDiscreteSchedule cosine = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, 1000);
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(cosine, uncondConfig())) {
            NDArray x = m.zeros(new Shape(batchShape(1, UNCOND_SHAPE)));
            try (NDArray out = d.predict(x, 1.0, null)) {
                assertEquals(995.0, out.toFloatArray()[0] * 1024.0, 1e-3);
            }
            try (NDArray out = d.predict(x, 1.0 / 996, null)) {
                assertEquals(0.0, out.toFloatArray()[0] * 1024.0, 1e-3);
            }
        }
    }

    @Test
    void otherTimeInputs() throws IOException {
        NoiseSchedule vp = new VpLinearSchedule(0.1, 20.0);
        NoiseSchedule edm = EdmSchedule.standard();
        NoiseSchedule flow = new RectifiedFlowSchedule(1.0);
        Object[][] cases = {
            {TimeInput.CONTINUOUS, vp, 0.3, 0.3},
            {TimeInput.SIGMA, vp, 0.3, vp.sigma(0.3) / vp.alpha(0.3)},
            {TimeInput.SIGMA, edm, 7.5, 7.5},
            {TimeInput.SCALED_1000, flow, 0.25, 250.0},
        };
        for (Object[] c : cases) {
            TimeInput ti = (TimeInput) c[0];
            NoiseSchedule s = (NoiseSchedule) c[1];
            double t = (double) c[2];
            double expected = (double) c[3];
            Config cfg = new Config(DIR.resolve("uncond_eps.pt"), UNCOND_SHAPE, PredictionType.NOISE, 0, 0, ti,
                    DataType.FLOAT64, Device.cpu());
            try (TorchScriptDenoiser d = TorchScriptDenoiser.load(s, cfg)) {
                assertEquals(expected, d.modelTime(t), 1e-12, ti + " on " + s.getClass().getSimpleName());
                NDArray x = Nd.create(m, new double[36], new Shape(batchShape(2, UNCOND_SHAPE)), DataType.FLOAT64);
                try (NDArray out = d.predict(x, t, null)) {
                    assertEquals(expected, out.toDoubleArray()[0] * 1024.0, 1e-9 * Math.max(1, expected));
                }
            }
        }
        assertEquals(TimeInput.SCALED_1000, TimeInput.parse("scaled_1000"));
        assertEquals(TimeInput.DDPM_INDEX, TimeInput.parse("DDPM_INDEX"));
        IllegalArgumentException e = rejected(vp, uncondConfig());
        assertMessage(e, "timeInput ddpm_index needs a vp_discrete schedule");
    }

    // ---------------------------------------------------------------- data types

    @Test
    void float64ModuleAndDtypeConversion() throws IOException {
        Random r = new Random(2);
        double[] xv = randn(r, 3 * 18);
        Shape shape = new Shape(batchShape(3, UNCOND_SHAPE));
        double tm = schedule.modelInputTime(0.8);
        // a module that works in float64: double-precision results
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(schedule, uncondConfig().withDtype(DataType.FLOAT64))) {
            NDArray x = m.create(xv, shape);
            try (NDArray out = d.predict(x, 0.8, null)) {
                assertEquals(DataType.FLOAT64, out.getDataType());
                assertClose(uncondFormula(xv, 3, tm), out.toDoubleArray(), 1e-14, "float64");
            }
            // float32 states into a float64 module: converted there and back
            NDArray x32 = Nd.create(m, xv, shape, DataType.FLOAT32);
            try (NDArray out = d.predict(x32, 0.8, null)) {
                assertEquals(DataType.FLOAT32, out.getDataType());
            }
        }
        // float64 states into a float32 module (specs sample in float64 by default): float32 accuracy, float64 out
        NDArray x = m.create(xv, shape);
        try (NDArray out = uncond.predict(x, 0.8, null)) {
            assertEquals(DataType.FLOAT64, out.getDataType());
            assertClose(uncondFormula(xv, 3, tm), out.toDoubleArray(), F32, "float32 module, float64 x");
        }
    }

    // ---------------------------------------------------------------- labels

    @Test
    void labelsMapUnconditionalRowsToTheNullClass() {
        Random r = new Random(3);
        int b = 5;
        double[] xv = randn(r, b * 784);
        NDArray x = Nd.create(m, xv, new Shape(batchShape(b, MNIST)), DataType.FLOAT32);
        double t = 0.6;
        double tm = schedule.modelInputTime(t);
        try (NDArray labels = m.create(new long[] {-1, 0, 3, 9, -1}); NDArray out = cond.predict(x, t, labels)) {
            assertClose(condFormula(Nd.toDoubles(x), new long[] {10, 0, 3, 9, 10}, tm), Nd.toDoubles(out), F32,
                    "labels");
        }
        try (NDArray out = cond.predict(x, t, null)) {
            assertClose(condFormula(Nd.toDoubles(x), new long[] {10, 10, 10, 10, 10}, tm), Nd.toDoubles(out), F32,
                    "null labels");
        }
        try (NDArray labels = m.create(new int[] {1, 1, 1, -1, 2}); NDArray out = cond.predict(x, t, labels)) {
            assertClose(condFormula(Nd.toDoubles(x), new long[] {1, 1, 1, 10, 2}, tm), Nd.toDoubles(out), F32,
                    "int32 labels");
        }
        for (long bad : new long[] {10, -2, 11}) {
            try (NDArray labels = m.create(new long[] {0, 1, bad, 2, 3})) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> cond.predict(x, t, labels));
                assertMessage(e, "class label " + bad + " is out of range", "10 classes");
            }
        }
        try (NDArray labels = m.create(new long[] {0, 1})) {
            assertThrows(IllegalArgumentException.class, () -> cond.predict(x, t, labels));
        }
    }

    @Test
    void nullClassIsValidatedAndMustNotBeAClass() {
        // the module's embedding has 11 rows: null class 11 fails the validation pass, named in the message
        IllegalArgumentException e = rejected(condConfig().withClasses(10, 11));
        assertMessage(e, "forward(x, t, class)", "class = [0, 11]", "failed", "index 11 is out of bounds");
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> condConfig().withClasses(10, 3));
        assertMessage(e2, "nullClass 3 is one of the classes 0..9");
    }

    @Test
    void optionalClassArgument() throws IOException {
        // forward(x, t, y: Optional[Tensor] = None) fits both declarations
        Config base = Config.of(DIR.resolve("cond_optional.pt"), MNIST, PredictionType.NOISE, TimeInput.DDPM_INDEX)
                .withDevice(Device.cpu());
        NDArray x = m.zeros(new Shape(batchShape(2, MNIST)));
        double tm = schedule.modelInputTime(0.5);
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(schedule, base);
             NDArray out = d.predict(x, 0.5, null)) {
            assertEquals(tm / 1024.0, out.toFloatArray()[0], 1e-5, "called as forward(x, t)");
        }
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(schedule, base.withClasses(10, 10));
             NDArray labels = m.create(new long[] {4, -1});
             NDArray out = d.predict(x, 0.5, labels)) {
            float[] v = out.toFloatArray();
            assertEquals(tm / 1024.0 + 5, v[0], 1e-4);
            assertEquals(tm / 1024.0 + 11, v[v.length - 1], 1e-4);
        }
    }

    // ---------------------------------------------------------------- through the solver stack

    /** Records every call's batch size and labels. */
    static final class Recording implements Denoiser {
        final Denoiser inner;
        final List<Long> batches = new ArrayList<>();
        final List<long[]> labels = new ArrayList<>();

        Recording(Denoiser inner) {
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
        public NDArray predict(NDArray x, double t, NDArray l) {
            batches.add(x.getShape().get(0));
            labels.add(l == null ? null : l.toLongArray());
            return inner.predict(x, t, l);
        }
    }

    @Test
    void classifierFreeGuidanceIsOneBatchedCall() {
        int b = 3;
        double s = 2.5;
        Recording rec = new Recording(cond);
        ModelFunction mf = new ModelFunction(rec, Guidance.classifierFree(3, s));
        Random r = new Random(4);
        double[] xv = randn(r, b * 784);
        NDArray x = Nd.create(m, xv, new Shape(batchShape(b, MNIST)), DataType.FLOAT32);
        double t = 0.7;
        double tm = schedule.modelInputTime(t);
        int before = m.getManagedArrays().size();
        try (NDArray eps = mf.noise(x, t)) {
            assertEquals(before + 1, m.getManagedArrays().size(), "only the result may remain");
            assertEquals(List.of((long) (2 * b)), rec.batches, "one call on [uncond, cond]");
            assertArrayEquals(new long[] {-1, -1, -1, 3, 3, 3}, rec.labels.get(0));
            assertEquals(1, mf.nfe());
            // eps_u + s (eps_c - eps_u): the class shifts are 11 (null) and 4 (class 3)
            double[] e = condFormula(Nd.toDoubles(x), new long[] {10, 10, 10}, tm);
            for (int i = 0; i < e.length; i++) {
                e[i] += s * (4 - 11);
            }
            assertClose(e, Nd.toDoubles(eps), 1e-5, "guided");
        }
    }

    /** The unconditional fixture written with NDArray operations: {@code 0.5 x + t_model / 1024}. */
    static final class Reference implements Denoiser {
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
            return UNCOND_SHAPE.clone();
        }

        @Override
        public NDArray predict(NDArray x, double t, NDArray labels) {
            NDArray r = x.mul(0.5);
            return r.addi(schedule.modelInputTime(t) / 1024.0);
        }
    }

    @Test
    void ddimSamplingMatchesTheSameFormulaAndLeaksNothing() {
        SamplerConfig cfg = SamplerConfig.of(new Ddim(), new TimestepSpacing.TimeUniform(), 5);
        Random r = new Random(5);
        int b = 4;
        double[] xv = randn(r, b * 18);
        NDArray xT = Nd.create(m, xv, new Shape(batchShape(b, UNCOND_SHAPE)), DataType.FLOAT32);
        int before = m.getManagedArrays().size();
        SampleResult got = Sampler.sample(cfg, new ModelFunction(uncond, Guidance.none()), xT);
        assertEquals(before + 1, m.getManagedArrays().size(), "only the sample may remain");
        SampleResult ref = Sampler.sample(cfg, new ModelFunction(new Reference(), Guidance.none()), xT);
        assertEquals(5, got.nfe());
        assertArrayEquals(ref.grid(), got.grid());
        assertClose(Nd.toDoubles(ref.x()), Nd.toDoubles(got.x()), 1e-4, "DDIM, 5 steps");
        for (double v : Nd.toDoubles(got.x())) {
            assertTrue(Double.isFinite(v));
        }
        got.x().close();
        ref.x().close();

        // a guided conditional run in float64 states (the default of model specs)
        NDArray x64 = m.create(randn(r, 2 * 784), new Shape(batchShape(2, MNIST)));
        before = m.getManagedArrays().size();
        SampleResult guided = Sampler.sample(cfg, new ModelFunction(cond, Guidance.classifierFree(7, 3.0)), x64);
        assertEquals(before + 1, m.getManagedArrays().size(), "only the sample may remain (guided)");
        assertEquals(DataType.FLOAT64, guided.x().getDataType());
        assertEquals(5, guided.nfe());
        guided.x().close();
    }

    @Test
    void concurrentPredictionsAgree() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Double>> results = new ArrayList<>();
            for (int task = 0; task < 8; task++) {
                int seed = task;
                results.add(pool.submit(() -> {
                    double worst = 0;
                    try (NDManager own = NDManager.newBaseManager()) {
                        Random r = new Random(seed);
                        for (int i = 0; i < 10; i++) {
                            double[] xv = randn(r, 3 * 784);
                            NDArray x = Nd.create(own, xv, new Shape(batchShape(3, MNIST)), DataType.FLOAT32);
                            long[] lab = {seed % 10, -1, i % 10};
                            double t = 0.1 + 0.08 * i;
                            try (NDArray labels = own.create(lab); NDArray out = cond.predict(x, t, labels)) {
                                double[] e = condFormula(Nd.toDoubles(x),
                                        new long[] {seed % 10, 10, i % 10}, schedule.modelInputTime(t));
                                double[] g = Nd.toDoubles(out);
                                for (int j = 0; j < e.length; j++) {
                                    worst = Math.max(worst, Math.abs(e[j] - g[j]) / Math.max(1, Math.abs(e[j])));
                                }
                            }
                            x.close();
                        }
                    }
                    return worst;
                }));
            }
            for (Future<Double> f : results) {
                assertTrue(f.get() < F32, "concurrent result error " + f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void inputShapeIsChecked() {
        NDArray x = m.zeros(new Shape(2, 784));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cond.predict(x, 0.5, null));
        assertMessage(e, "expected x of shape [B, 1, 28, 28], got [2, 784]");
    }

    // ---------------------------------------------------------------- rejections at load time

    @Test
    void rejectsFilesThatAreNotTorchScript() throws IOException {
        assertMessage(rejected(uncondConfigFor("not_torchscript.pt")),
                "not_torchscript.pt is not a loadable TorchScript module", "not a zip archive", "libtorch:");
        assertMessage(rejected(uncondConfigFor("state_dict.pt")),
                "state_dict.pt is not a loadable TorchScript module", "torch.save() checkpoint", "torch.jit.save");
        assertMessage(rejected(uncondConfigFor("no_such_file.pt")), "cannot load", "no such file");
        Path empty = Files.createFile(tmp.resolve("empty.pt"));
        assertMessage(rejected(new Config(empty, UNCOND_SHAPE, PredictionType.NOISE, 0, 0, TimeInput.DDPM_INDEX,
                DataType.FLOAT32, Device.cpu())), "the file is empty");
        // a legacy (pre-1.6, non-zip) torch.save pickle starts with the pickle protocol marker
        Path legacy = Files.write(tmp.resolve("legacy.pt"), new byte[] {(byte) 0x80, 2, 'c', 'x'});
        assertMessage(rejected(new Config(legacy, UNCOND_SHAPE, PredictionType.NOISE, 0, 0, TimeInput.DDPM_INDEX,
                DataType.FLOAT32, Device.cpu())), "legacy torch.save() pickle");
    }

    static Config uncondConfigFor(String file) {
        return new Config(DIR.resolve(file), UNCOND_SHAPE, PredictionType.NOISE, 0, 0, TimeInput.DDPM_INDEX,
                DataType.FLOAT32, Device.cpu());
    }

    @Test
    void rejectsWrongSignatures() {
        assertMessage(rejected(uncondConfigFor("wrong_signature.pt")),
                "wrong signature: expected forward(x, t) (2 arguments), but the module declares"
                        + " forward(Tensor x) -> Tensor (it takes 1 argument)");
        assertMessage(rejected(uncondConfigFor("wrong_signature.pt").withClasses(10, 10)),
                "wrong signature: expected forward(x, t, class) (3 arguments)", "forward(Tensor x) -> Tensor");
        assertMessage(rejected(uncondConfigFor("scalar_time.pt")),
                "wrong signature: expected forward(x, t) with tensor arguments", "argument 't' is declared as 'float'");
        assertMessage(rejected(uncondConfigFor("tuple_output.pt")),
                "forward must return one Tensor", "-> (Tensor, Tensor)");
    }

    @Test
    void rejectsClassArgumentMismatches() {
        assertMessage(rejected(uncondConfig().withClasses(10, 10)),
                "numClasses = 10 was declared but the module takes no class argument",
                "expected forward(x, t, class), the module declares forward(Tensor x, Tensor t) -> Tensor");
        assertMessage(rejected(condConfig().withClasses(0, 0)),
                "declared unconditional (numClasses = 0) but the module requires a class argument",
                "forward(Tensor x, Tensor t, Tensor y) -> Tensor");
    }

    @Test
    void rejectsBadOutputs() {
        assertMessage(rejected(uncondConfigFor("wrong_shape.pt")),
                "the output shape [2, 18] differs from the input shape [2, 2, 3, 3]");
        // finite for model times <= 500: caught by the pass at tMax (index N'-1)
        String tMax = (long) schedule.modelInputTime(1.0) + ".0";
        assertMessage(rejected(uncondConfigFor("nan_output.pt")),
                "the output contains NaN or infinite values", "t = " + tMax, "continuous t = 1.0");
        assertMessage(rejected(uncondConfigFor("inplace.pt")), "forward modifies its input x in place");
    }

    @Test
    void rejectsModulesFailingAtTheDeclaredShapeOrType() {
        IllegalArgumentException shape = rejected(new Config(DIR.resolve("cond_eps.pt"), new long[] {3, 28, 28},
                PredictionType.NOISE, 10, 10, TimeInput.DDPM_INDEX, DataType.FLOAT32, Device.cpu()));
        assertMessage(shape, "forward(x, t, class) with x [2, 3, 28, 28] float32", "failed: RuntimeError:",
                "expected input[2, 3, 28, 28] to have 1 channels");
        assertTrue(shape.getMessage().length() < 800, "the TorchScript traceback is cut: " + shape.getMessage());
        assertMessage(rejected(condConfig().withDtype(DataType.FLOAT64)),
                "Input type (double) and bias type (float) should be the same", "does the module support float64");
    }

    /**
     * The Fashion-MNIST UNet of {@code tuning-jobs/fmnist-unet} (read only, when it has been exported): forward(x [B,
     * 1, 28, 28] f32, t [B] f32 = DDPM index, y [B] int64, null class 10) -> eps, linear DDPM schedule. Another file
     * can be given with {@code -Dsolvertune.fmnistUnet=path}.
     */
    @Test
    void fashionMnistUnetConventionWhenExported() throws IOException {
        String override = System.getProperty("solvertune.fmnistUnet");
        Path unet = override != null ? Path.of(override)
                : Path.of(System.getProperty("basedir", ".")).resolve("tuning-jobs/fmnist-unet/unet.pt");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(unet), "no exported " + unet);
        VpDiscreteSchedule linear = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000, 1e-4, 0.02,
                VpDiscreteSchedule.DEFAULT_CLIPPED_LAMBDA);
        assertEquals(999.0, linear.modelInputTime(1.0), 1e-9, "t = 1 is DDPM index 999");
        Config c = Config.of(unet, MNIST, PredictionType.NOISE, TimeInput.DDPM_INDEX).withClasses(10, 10)
                .withDevice(Device.cpu());
        try (TorchScriptDenoiser d = TorchScriptDenoiser.load(linear, c)) {
            assertEquals(3, d.signature().orElseThrow().arguments().size());
            ModelFunction mf = new ModelFunction(d, Guidance.classifierFree(3, 2.0));
            NDArray x = Nd.create(m, randn(new Random(6), 2 * 784), new Shape(batchShape(2, MNIST)), DataType.FLOAT32);
            try (NDArray eps = mf.noise(x, 0.5)) {
                assertEquals(x.getShape(), eps.getShape());
            }
        }
    }

    // ---------------------------------------------------------------- spec

    @Test
    void specWithTypeTorchscriptLoadsThroughModelSpec() throws IOException {
        Path specFile = DIR.resolve("cond_eps_spec.json");
        ModelSpec spec = ModelSpec.read(specFile);
        DenoiserSpec.TorchScript ts = assertInstanceOf(DenoiserSpec.TorchScript.class, spec.model());
        assertEquals("cond_eps.pt", ts.file());
        try (Denoiser d = spec.build(specFile.getParent())) {
            TorchScriptDenoiser t = assertInstanceOf(TorchScriptDenoiser.class, d);
            assertEquals(10, t.numClasses());
            assertEquals(10L, t.config().nullClass());
            assertArrayEquals(MNIST, t.sampleShape());
            assertEquals(cond.sha256(), t.sha256());
            ModelFunction mf = new ModelFunction(t, spec.guidanceOrNone());
            NDArray x = m.zeros(new Shape(batchShape(2, MNIST)));
            try (NDArray eps = mf.noise(x, 0.5)) {
                double tm = schedule.modelInputTime(0.5);
                assertEquals(0.25 + tm / 1024.0 + 11 + 2.0 * (4 - 11), eps.toFloatArray()[0], 1e-4);
            }
        }
        // round trip: the record serialises back to the same JSON fields
        String json = ModelSpec.MAPPER.writeValueAsString(ts);
        assertTrue(json.contains("\"type\":\"torchscript\"") && json.contains("\"inputShape\":[1,28,28]"), json);
    }

    @Test
    void specDefaultsAndErrors() throws IOException {
        Files.copy(DIR.resolve("uncond_eps.pt"), tmp.resolve("model.pt"));
        String schedule = "{\"type\": \"vp_discrete\", \"preset\": \"linear\", \"numTrainTimesteps\": 1000}";
        Path ok = write("ok.json", "{\"schedule\": " + schedule + ", \"model\": {\"type\": \"torchscript\","
                + " \"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\","
                + " \"timeInput\": \"ddpm_index\", \"device\": \"cpu\"}}");
        try (Denoiser d = ModelSpec.read(ok).build(tmp)) {
            TorchScriptDenoiser t = (TorchScriptDenoiser) d;
            assertEquals(0, t.numClasses());
            assertEquals(DataType.FLOAT32, t.config().dtype());
            assertEquals(PredictionType.NOISE, t.predictionType());
        }
        String[][] bad = {
            {"\"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\"", "model.timeInput: required"},
            {"\"file\": \"model.pt\", \"predictionType\": \"eps\", \"timeInput\": \"ddpm_index\"", "model.inputShape: required"},
            {"\"inputShape\": [2, 3, 3], \"predictionType\": \"eps\", \"timeInput\": \"ddpm_index\"", "model.file: required"},
            {"\"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"x_0\", \"timeInput\": \"ddpm_index\"",
                "model.predictionType: unknown prediction type 'x_0'"},
            {"\"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\", \"timeInput\": \"index\"",
                "model.timeInput: unknown time input 'index'"},
            {"\"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\", \"timeInput\": \"ddpm_index\","
                + " \"device\": \"tpu\"", "model.device: expected cpu, gpu, gpu:N or auto, got 'tpu'"},
            {"\"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\", \"timeInput\": \"ddpm_index\","
                + " \"dtype\": \"float16\"", "model.dtype: expected float32 or float64"},
            {"\"file\": \"model.pt\", \"inputShape\": [2, 0, 3], \"predictionType\": \"eps\", \"timeInput\": \"ddpm_index\"",
                "inputShape must have positive dimensions"},
        };
        for (String[] c : bad) {
            Path f = write("bad.json", "{\"schedule\": " + schedule + ", \"model\": {\"type\": \"torchscript\", "
                    + c[0] + "}}");
            ModelSpec spec = ModelSpec.read(f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spec.build(tmp).close());
            assertMessage(e, c[1]);
        }
        if (Engine.getEngine("PyTorch").getGpuCount() == 0) {
            Path f = write("gpu.json", "{\"schedule\": " + schedule + ", \"model\": {\"type\": \"torchscript\","
                    + " \"file\": \"model.pt\", \"inputShape\": [2, 3, 3], \"predictionType\": \"eps\","
                    + " \"timeInput\": \"ddpm_index\", \"device\": \"gpu\"}}");
            ModelSpec spec = ModelSpec.read(f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spec.build(tmp).close());
            assertMessage(e, "model.device: gpu requested but DJL reports no GPU");
        }
        // unknown fields are errors, as for every spec
        Path typo = write("typo.json", "{\"schedule\": " + schedule + ", \"model\": {\"type\": \"torchscript\","
                + " \"file\": \"model.pt\", \"inputshape\": [2, 3, 3]}}");
        assertThrows(IOException.class, () -> ModelSpec.read(typo));
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(tmp.resolve(name), content);
    }
}
