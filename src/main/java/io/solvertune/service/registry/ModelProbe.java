package io.solvertune.service.registry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.TorchScriptDenoiser;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.ModelHash;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Accepts a model only if it works: builds the {@link Denoiser} from its spec exactly as the CLI and the job workers
 * do ({@link ModelSpec#build}; TorchScript modules go through {@link TorchScriptDenoiser#load}, which checks the
 * signature, output shape, NaN and in-place writes), runs a test forward pass at the model's shape — a batch of
 * {@value #BATCH} noise-level samples at the start and the end time of the schedule, with a class row and an
 * unconditional row for conditional models — and checks the default guidance against the classes. Failures are
 * {@link IllegalArgumentException}s in the {@code "field: message"} convention of the numerics layer.
 */
final class ModelProbe {

    /** Batch size of the test forward pass. */
    static final int BATCH = 2;
    /** Largest sample (values per sample) a model may declare: the test pass allocates a few copies of it. */
    static final long MAX_SAMPLE_VALUES = 1L << 22;

    /** What the registry records about a model that passed. */
    record Facts(String kind, int[] inputShape, int numClasses, String predictionType, String dtype,
                 Long parameterCount, String contentHash) {
    }

    private ModelProbe() {
    }

    /** The registry's kind of a model spec: analytic | empirical | torchscript. */
    static String kindOf(DenoiserSpec model) {
        if (model instanceof DenoiserSpec.GaussianMixture || model instanceof DenoiserSpec.Gaussian) {
            return "analytic";
        }
        if (model instanceof DenoiserSpec.Empirical) {
            return "empirical";
        }
        if (model instanceof DenoiserSpec.TorchScript) {
            return "torchscript";
        }
        throw new IllegalArgumentException("model: unsupported model type " + model.getClass().getSimpleName());
    }

    /**
     * Builds, runs and hashes the model.
     *
     * @param baseDir resolves relative file references (presets); client specs carry none, uploads absolute paths
     */
    static Facts probe(ModelSpec spec, Path baseDir) throws IOException {
        String kind = kindOf(spec.model());
        if (spec.model() instanceof DenoiserSpec.TorchScript ts && ts.inputShape() != null) {
            checkSize(ts.inputShape(), "model.inputShape");
        }
        DataType dt = spec.dataType();
        try (Denoiser d = spec.build(baseDir)) {
            long[] shape = d.sampleShape();
            checkSize(shape, "model");
            int k = d.numClasses();
            forwardPass(d, shape, k, dt);
            checkGuidance(d, spec.guidanceOrNone(), k);
            Long params = d instanceof TorchScriptDenoiser t && t.parameterCount().isPresent()
                    ? t.parameterCount().getAsLong() : null;
            int[] intShape = Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
            return new Facts(kind, intShape, k, d.predictionType().id(), dt.name().toLowerCase(Locale.ROOT), params,
                    ModelHash.of(spec, baseDir));
        }
    }

    private static void checkSize(long[] shape, String field) {
        long n = 1;
        for (long s : shape) {
            if (s < 1) {
                throw new IllegalArgumentException(field + ": dimensions must be positive, got "
                        + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, s);
            if (n > MAX_SAMPLE_VALUES) {
                throw new IllegalArgumentException(field + ": a sample of shape " + Arrays.toString(shape)
                        + " is larger than the " + MAX_SAMPLE_VALUES + " values this server accepts");
            }
        }
    }

    private static void forwardPass(Denoiser d, long[] shape, int k, DataType dt) {
        NoiseSchedule s = d.schedule();
        long[] batchShape = new long[shape.length + 1];
        batchShape[0] = BATCH;
        System.arraycopy(shape, 0, batchShape, 1, shape.length);
        Shape xs = new Shape(batchShape);
        Random r = new Random(5L);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray labels = k > 0 ? m.create(new long[] {0, Denoiser.UNCONDITIONAL}) : null;
            for (double t : new double[] {s.tMax(), s.defaultTEnd()}) {
                double scale = Math.hypot(s.alpha(t), s.sigma(t));
                double[] v = new double[Math.toIntExact(xs.size())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = scale * r.nextGaussian();
                }
                try (NDManager step = m.newSubManager()) {
                    NDArray x = Nd.create(step, v, xs, dt);
                    NDArray out = d.predict(x, t, labels);
                    if (!out.getShape().equals(xs)) {
                        throw new IllegalArgumentException("model: the prediction for x of shape " + xs
                                + " has shape " + out.getShape() + " at t = " + t);
                    }
                    try (NDArray finite = out.isNaN().logicalOr(out.isInfinite()).any()) {
                        if (finite.getBoolean()) {
                            throw new IllegalArgumentException("model: the prediction contains NaN or infinite values"
                                    + " at t = " + t + (k > 0 ? " (class 0 and unconditional rows)" : ""));
                        }
                    }
                }
            }
        }
    }

    private static void checkGuidance(Denoiser d, Guidance g, int k) {
        long[] rows = g.perSeedClass() && k > 0 ? g.rowLabels(new long[] {0, 1}, k) : null;
        new ModelFunction(d, g, rows); // the constructor checks labels against the model's classes
    }
}
