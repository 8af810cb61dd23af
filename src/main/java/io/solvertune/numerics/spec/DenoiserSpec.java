package io.solvertune.numerics.spec;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.solvertune.numerics.data.FashionMnist;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.EmpiricalDenoiser;
import io.solvertune.numerics.model.GaussianDenoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** Serializable description of an analytic or empirical model. Paths are relative to the spec file. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = DenoiserSpec.GaussianMixture.class, name = "gaussian_mixture"),
    @JsonSubTypes.Type(value = DenoiserSpec.Gaussian.class, name = "gaussian"),
    @JsonSubTypes.Type(value = DenoiserSpec.Empirical.class, name = "empirical"),
    @JsonSubTypes.Type(value = DenoiserSpec.TorchScript.class, name = "torchscript"),
})
public sealed interface DenoiserSpec {

    /** Builds the model on {@code schedule}; {@code baseDir} resolves relative paths. */
    Denoiser build(NoiseSchedule schedule, Path baseDir) throws IOException;

    /**
     * Mixture of isotropic Gaussians: either inline ({@code weights}, {@code means}, {@code stds}) or read from an
     * {@code .npz} with arrays {@code w}, {@code mu}, {@code s} (the layout of {@code shared/reference/ref_*.npz}).
     * Component {@code k} belongs to class {@code componentClasses[k]}, or {@code k % numClasses}; neither given means
     * an unconditional model.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record GaussianMixture(double[] weights, double[][] means, double[] stds, int[] componentClasses,
                           Integer numClasses, String npz) implements DenoiserSpec {
        @Override
        public Denoiser build(NoiseSchedule schedule, Path baseDir) throws IOException {
            double[] w = weights;
            double[][] mu = means;
            double[] s = stds;
            if (npz != null) {
                if (w != null || mu != null || s != null) {
                    throw new IllegalArgumentException("model: give either 'npz' or inline weights/means/stds, not both");
                }
                Map<String, NpyArray> a = Npy.readNpz(baseDir.resolve(npz));
                for (String k : new String[] {"w", "mu", "s"}) {
                    if (!a.containsKey(k)) {
                        throw new IllegalArgumentException("model.npz: " + npz + " has no array '" + k + "'");
                    }
                }
                w = a.get("w").asDoubles();
                mu = a.get("mu").asMatrix();
                s = a.get("s").asDoubles();
            }
            if (w == null || mu == null || s == null) {
                throw new IllegalArgumentException("model: gaussian_mixture needs 'weights', 'means' and 'stds' (or 'npz')");
            }
            int[] classes = componentClasses;
            if (classes == null && numClasses != null) {
                if (numClasses < 1) {
                    throw new IllegalArgumentException("model.numClasses: must be >= 1, got " + numClasses);
                }
                classes = GaussianMixtureDenoiser.moduloClasses(w.length, numClasses);
            }
            return new GaussianMixtureDenoiser(schedule, w, mu, s, classes);
        }
    }

    /** Gaussian data with a diagonal ({@code variances}) or full ({@code covariance}) covariance. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Gaussian(double[] mean, double[] variances, double[][] covariance) implements DenoiserSpec {
        @Override
        public Denoiser build(NoiseSchedule schedule, Path baseDir) {
            if (mean == null) {
                throw new IllegalArgumentException("model.mean: required");
            }
            if ((variances == null) == (covariance == null)) {
                throw new IllegalArgumentException("model: gaussian needs exactly one of 'variances' or 'covariance'");
            }
            return variances != null ? GaussianDenoiser.diagonal(schedule, mean, variances)
                    : GaussianDenoiser.full(schedule, mean, covariance);
        }
    }

    /**
     * The optimal denoiser of a finite dataset: {@code dataset = "fashion-mnist"} (Debian's IDX files in
     * {@code dir}, default {@code /usr/share/datasets/fashion-mnist}; the first {@code perClass} training images of each
     * class, scaled to [-1, 1]) or an {@code .npz} with {@code x} [M, ...] and optional int labels {@code y}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Empirical(String dataset, String dir, Integer perClass, Boolean classConditional, String npz,
                     String dtype) implements DenoiserSpec {
        @Override
        public Denoiser build(NoiseSchedule schedule, Path baseDir) throws IOException {
            DataType dt = parseDtype(dtype == null ? "float32" : dtype, "model.dtype");
            boolean cond = classConditional == null || classConditional;
            NDManager m = NDManager.newBaseManager();
            try {
                if (npz != null) {
                    Map<String, NpyArray> a = Npy.readNpz(baseDir.resolve(npz));
                    NpyArray x = a.get("x");
                    if (x == null) {
                        throw new IllegalArgumentException("model.npz: " + npz + " has no array 'x'");
                    }
                    NDArray data = toNd(m, x.asDoubles(), x.shape(), dt);
                    int[] labels = null;
                    int classes = 0;
                    if (cond && a.containsKey("y")) {
                        long[] y = a.get("y").longs();
                        if (y == null) {
                            throw new IllegalArgumentException("model.npz: 'y' must hold integer labels");
                        }
                        labels = new int[y.length];
                        for (int i = 0; i < y.length; i++) {
                            labels[i] = (int) y[i];
                            classes = Math.max(classes, labels[i] + 1);
                        }
                    }
                    return new EmpiricalDenoiser(schedule, m, data, labels, classes);
                }
                String name = dataset == null ? "fashion-mnist" : dataset.toLowerCase(Locale.ROOT);
                if (!name.equals("fashion-mnist")) {
                    throw new IllegalArgumentException("model.dataset: unknown dataset '" + dataset
                            + "' (known: fashion-mnist; or give 'npz')");
                }
                Path d = dir == null ? FashionMnist.DEBIAN_DIR : baseDir.resolve(dir);
                int per = perClass == null ? 200 : perClass;
                FashionMnist.Images imgs = FashionMnist.firstPerClass(d, FashionMnist.Split.TRAIN, per);
                NDArray data = m.create(imgs.pixels(), new Shape(imgs.count(), 1, FashionMnist.SIDE, FashionMnist.SIDE));
                if (dt != DataType.FLOAT32) {
                    NDArray c = data.toType(dt, true);
                    data.close();
                    data = c;
                }
                return new EmpiricalDenoiser(schedule, m, data, cond ? imgs.labels() : null,
                        cond ? FashionMnist.CLASSES : 0);
            } catch (IOException | RuntimeException e) {
                m.close();
                throw e;
            }
        }
    }

    /**
     * A user model exported as TorchScript ({@code torch.jit.save}) with {@code forward(x, t)} or
     * {@code forward(x, t, class)} returning a {@code predictionType} prediction of x's shape; see
     * {@link io.solvertune.numerics.model.TorchScriptDenoiser}. The schedule is the spec's. {@code file} is relative
     * to the spec; {@code numClasses} defaults to 0 (unconditional), {@code nullClass} (the label the module takes for
     * unconditional rows) to {@code numClasses}, {@code dtype} to float32, {@code device} to auto (a GPU if DJL reports
     * one). {@code timeInput}: {@code ddpm_index} (N't-1 of a vp_discrete schedule), {@code continuous} (t),
     * {@code sigma} (sigma/alpha, EDM-style nets) or {@code scaled_1000} (1000 t, flow models).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TorchScript(String file, long[] inputShape, String predictionType, Integer numClasses, Long nullClass,
                       String timeInput, String dtype, String device) implements DenoiserSpec {
        @Override
        public Denoiser build(NoiseSchedule schedule, Path baseDir) throws IOException {
            if (file == null) {
                throw new IllegalArgumentException("model.file: required (the TorchScript file, relative to the spec)");
            }
            if (inputShape == null || inputShape.length == 0) {
                throw new IllegalArgumentException("model.inputShape: required, e.g. [1, 28, 28]");
            }
            if (predictionType == null) {
                throw new IllegalArgumentException(
                        "model.predictionType: required (noise, data, v, score or flow_velocity)");
            }
            if (timeInput == null) {
                throw new IllegalArgumentException(
                        "model.timeInput: required (ddpm_index, continuous, sigma or scaled_1000)");
            }
            io.solvertune.numerics.model.PredictionType pt;
            io.solvertune.numerics.model.TorchScriptDenoiser.TimeInput ti;
            ai.djl.Device dev;
            try {
                pt = io.solvertune.numerics.model.PredictionType.parse(predictionType);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model.predictionType: " + e.getMessage(), e);
            }
            try {
                ti = io.solvertune.numerics.model.TorchScriptDenoiser.TimeInput.parse(timeInput);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model.timeInput: " + e.getMessage(), e);
            }
            try {
                dev = io.solvertune.numerics.model.TorchScriptDenoiser.parseDevice(device);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("model." + e.getMessage(), e);
            }
            int k = numClasses == null ? 0 : numClasses;
            long nul = nullClass == null ? k : nullClass;
            DataType dt = parseDtype(dtype == null ? "float32" : dtype, "model.dtype");
            return io.solvertune.numerics.model.TorchScriptDenoiser.load(schedule,
                    new io.solvertune.numerics.model.TorchScriptDenoiser.Config(baseDir.resolve(file), inputShape, pt,
                            k, nul, ti, dt, dev));
        }
    }

    /** Parses {@code float32} / {@code float64}. */
    static DataType parseDtype(String s, String field) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "float32", "f32" -> DataType.FLOAT32;
            case "float64", "f64", "double" -> DataType.FLOAT64;
            default -> throw new IllegalArgumentException(field + ": expected float32 or float64, got '" + s + "'");
        };
    }

    private static NDArray toNd(NDManager m, double[] v, long[] shape, DataType dt) {
        return io.solvertune.numerics.nd.Nd.create(m, v, new Shape(shape), dt);
    }
}
