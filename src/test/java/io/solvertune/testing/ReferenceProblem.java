package io.solvertune.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/** One problem of {@code shared/reference} (copied to test resources): model, schedule, x_T, outputs. */
public final class ReferenceProblem {
    public static final String[] NAMES = {"public_gmm_linear_d8", "public_gmm_sd_d8", "public_gmm_sd_d32_cfg5"};

    public final String name;
    public final JsonNode meta;
    public final Map<String, NpyArray> arrays;
    public final NoiseSchedule schedule;
    public final Guidance guidance;
    public final double tStart;
    public final double tEnd;

    private ReferenceProblem(String name) {
        this.name = name;
        try {
            this.meta = new ObjectMapper().readTree(resource("ref_" + name + ".json").toFile());
            this.arrays = Npy.readNpz(resource("ref_" + name + ".npz"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.schedule = meta.get("discrete").asBoolean()
                ? VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000)
                : new VpLinearSchedule(0.1, 20.0);
        this.guidance = meta.get("guidance").isNull() ? Guidance.none()
                : Guidance.classifierFree(0, meta.get("guidance").asDouble());
        this.tStart = meta.get("t_start").asDouble();
        this.tEnd = meta.get("t_end").asDouble();
    }

    public static ReferenceProblem load(String name) {
        return new ReferenceProblem(name);
    }

    /** Path of a file in the copied reference folder. */
    public static Path resource(String file) {
        try {
            return Path.of(ReferenceProblem.class.getResource("/reference/" + file).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource reference/" + file, e);
        }
    }

    /** The exact mixture model (class of component k is k % 2 for guided problems). */
    public GaussianMixtureDenoiser model() {
        NpyArray w = arrays.get("w");
        NpyArray mu = arrays.get("mu");
        NpyArray s = arrays.get("s");
        int k = w.size();
        int[] classes = guidance.conditional() ? GaussianMixtureDenoiser.moduloClasses(k, 2) : null;
        return new GaussianMixtureDenoiser(schedule, w.asDoubles(), mu.asMatrix(), s.asDoubles(), classes);
    }

    /**
     * Samples this problem's {@code x_T} with {@code cfg} on its exact model and guidance (a scoped NDManager); the final
     * state as doubles. Fails if the run spent another number of model calls than {@code cfg.steps()}.
     */
    public double[] sample(io.solvertune.numerics.solver.SamplerConfig cfg) {
        NpyArray xT = get("x_T");
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager();
             GaussianMixtureDenoiser model = model()) {
            ai.djl.ndarray.NDArray x = m.create(xT.doubles(), new ai.djl.ndarray.types.Shape(xT.shape()));
            io.solvertune.numerics.solver.SampleResult r = io.solvertune.numerics.solver.Sampler.sample(cfg,
                    new io.solvertune.numerics.model.ModelFunction(model, guidance), x);
            if (r.nfe() != cfg.steps()) {
                throw new AssertionError(name + ": the run spent " + r.nfe() + " model calls, expected " + cfg.steps());
            }
            return r.x().toDoubleArray();
        }
    }

    public NpyArray get(String key) {
        NpyArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalArgumentException(name + ": no array " + key);
        }
        return a;
    }

    /** Configuration keys in the json, in order. */
    public java.util.List<String> configKeys() {
        java.util.List<String> keys = new java.util.ArrayList<>();
        meta.get("configs").forEach(c -> keys.add(c.get("key").asText()));
        return keys;
    }
}
