package io.solvertune.numerics.spec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.data.FashionMnist;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.EmpiricalDenoiser;
import io.solvertune.testing.RequiresFashionMnist;
import io.solvertune.numerics.model.GaussianDenoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model spec files: the shipped {@code tuning-jobs/models/*.json} load and build, and malformed specs fail with a
 * message that names the offending field.
 */
class ModelSpecTest {
    /** Maven runs tests with the module directory as working directory. */
    static final Path MODELS = Path.of(System.getProperty("basedir", ".")).resolve("tuning-jobs/models");

    @TempDir
    Path tmp;

    static List<Path> shippedSpecs() throws IOException {
        assertTrue(Files.isDirectory(MODELS), "missing " + MODELS.toAbsolutePath());
        try (Stream<Path> s = Files.list(MODELS)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void everyShippedSpecLoadsAndBuilds() throws IOException {
        List<Path> specs = shippedSpecs();
        assertTrue(specs.size() >= 4, "expected the four shipped specs, found " + specs);
        List<String> built = new ArrayList<>();
        for (Path p : specs) {
            ModelSpec spec = ModelSpec.read(p);
            boolean fashion = spec.model() instanceof DenoiserSpec.Empirical e && e.npz() == null;
            if (fashion && !FashionMnist.available(FashionMnist.DEBIAN_DIR)) {
                continue;
            }
            try (Denoiser d = spec.build(p.getParent()); NDManager m = NDManager.newBaseManager()) {
                // one guided evaluation at mid time proves the pieces fit together
                ModelFunction f = new ModelFunction(d, spec.guidanceOrNone());
                long[] shape = new long[d.sampleShape().length + 1];
                shape[0] = 2;
                System.arraycopy(d.sampleShape(), 0, shape, 1, d.sampleShape().length);
                try (NDArray x = m.randomNormal(0f, 1f, new Shape(shape), spec.dataType());
                     NDArray eps = f.noise(x, 0.5 * d.schedule().tMax())) {
                    assertEquals(x.getShape(), eps.getShape(), p.toString());
                    assertEquals(spec.dataType(), eps.getDataType(), p.toString());
                }
                built.add(p.getFileName().toString());
            }
        }
        System.out.println("built model specs: " + built);
        assertTrue(built.contains("gmm_sd_d8.json") && built.contains("gmm_linear_d8.json")
                && built.contains("gmm_sd_d32_cfg5.json"), "built: " + built);
    }

    @Test
    void shippedSpecContents() throws IOException {
        ModelSpec cfg = ModelSpec.read(MODELS.resolve("gmm_sd_d32_cfg5.json"));
        assertEquals(new Guidance(0, 5.0), cfg.guidance());
        assertEquals(DataType.FLOAT64, cfg.dataType());
        try (Denoiser d = cfg.build(MODELS)) {
            GaussianMixtureDenoiser g = assertInstanceOf(GaussianMixtureDenoiser.class, d);
            assertEquals(2, g.numClasses());
            assertArrayEquals(new long[] {32}, g.sampleShape());
            assertInstanceOf(VpDiscreteSchedule.class, g.schedule());
            assertEquals(1000, ((VpDiscreteSchedule) g.schedule()).gridSize());
        }
        ModelSpec lin = ModelSpec.read(MODELS.resolve("gmm_linear_d8.json"));
        assertEquals(Guidance.none(), lin.guidanceOrNone());
        try (Denoiser d = lin.build(MODELS)) {
            assertInstanceOf(VpLinearSchedule.class, d.schedule());
            assertEquals(0, d.numClasses());
            assertArrayEquals(new long[] {8}, d.sampleShape());
        }
    }

    @Test
    @RequiresFashionMnist
    void shippedFashionSpec() throws IOException {
        ModelSpec spec = ModelSpec.read(MODELS.resolve("fashion_mnist_empirical.json"));
        assertEquals(DataType.FLOAT32, spec.dataType());
        assertEquals(new Guidance(7, 1.0), spec.guidance());
        try (Denoiser d = spec.build(MODELS)) {
            EmpiricalDenoiser e = assertInstanceOf(EmpiricalDenoiser.class, d);
            assertEquals(2000, e.size());
            assertEquals(10, e.numClasses());
            assertEquals(DataType.FLOAT32, e.dataType());
            assertArrayEquals(new long[] {1, 28, 28}, e.sampleShape());
        }
    }

    // ---------------------------------------------------------------- malformed specs

    private Path spec(String json) throws IOException {
        Path f = Files.createTempFile(tmp, "spec", ".json");
        Files.writeString(f, json);
        return f;
    }

    /** Reading (and, if reading succeeds, building) fails with a message naming {@code field}. */
    private Exception failsNaming(String field, String json) throws IOException {
        Path f = spec(json);
        Exception e = assertThrows(Exception.class, () -> {
            ModelSpec s = ModelSpec.read(f);
            s.build(tmp).close();
        }, json);
        assertTrue(e instanceof IOException || e instanceof IllegalArgumentException,
                "unexpected exception type " + e);
        assertTrue(String.valueOf(e.getMessage()).contains(field),
                "message should name '" + field + "': " + e.getMessage());
        return e;
    }

    static final String SCHED = "{\"type\":\"vp_linear\",\"beta0\":0.1,\"beta1\":20.0}";
    static final String GAUSS = "{\"type\":\"gaussian\",\"mean\":[0,1],\"variances\":[1,2]}";

    @Test
    void validInlineSpecsBuild() throws IOException {
        try (Denoiser d = ModelSpec.read(spec("{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + "}")).build(tmp)) {
            assertInstanceOf(GaussianDenoiser.class, d);
        }
        String gmm = "{\"type\":\"gaussian_mixture\",\"weights\":[1,2,3],\"means\":[[0,0],[1,1],[2,0]],"
                + "\"stds\":[0.5,0.5,0.1],\"componentClasses\":[0,1,0]}";
        ModelSpec s = ModelSpec.read(spec("{\"schedule\":" + SCHED + ",\"model\":" + gmm
                + ",\"guidance\":{\"classLabel\":1},\"dtype\":\"f64\"}"));
        assertEquals(new Guidance(1, 1.0), s.guidance(), "missing scale means 1");
        try (Denoiser d = s.build(tmp)) {
            assertEquals(2, d.numClasses());
        }
        // round trip of the record through the mapper
        String json = ModelSpec.MAPPER.writeValueAsString(s);
        ModelSpec back = ModelSpec.MAPPER.readValue(json, ModelSpec.class);
        assertEquals(ModelSpec.MAPPER.writeValueAsString(back), json);
        assertFalse(json.contains("null"), "nulls are omitted: " + json);
    }

    @Test
    void empiricalFromNpz() throws IOException {
        Map<String, NpyArray> a = new LinkedHashMap<>();
        double[] x = new double[6 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(i);
        }
        a.put("x", NpyArray.ofDoubles(x, 6, 3));
        a.put("y", NpyArray.ofLongs(new long[] {0, 1, 2, 0, 1, 2}, 6));
        Npy.writeNpz(tmp.resolve("data.npz"), a, true);
        ModelSpec s = ModelSpec.read(spec("{\"schedule\":" + SCHED
                + ",\"model\":{\"type\":\"empirical\",\"npz\":\"data.npz\",\"dtype\":\"float64\"}}"));
        try (Denoiser d = s.build(tmp)) {
            EmpiricalDenoiser e = assertInstanceOf(EmpiricalDenoiser.class, d);
            assertEquals(6, e.size());
            assertEquals(3, e.numClasses());
            assertEquals(DataType.FLOAT64, e.dataType());
        }
        assertEquals(DataType.FLOAT32, s.dataType(), "empirical models sample in float32 by default");
        // npz without 'x'
        a.remove("x");
        Npy.writeNpz(tmp.resolve("nox.npz"), a, false);
        failsNaming("'x'", "{\"schedule\":" + SCHED + ",\"model\":{\"type\":\"empirical\",\"npz\":\"nox.npz\"}}");
        // gaussian mixture npz without 'mu'
        Map<String, NpyArray> g = new LinkedHashMap<>();
        g.put("w", NpyArray.ofDoubles(new double[] {1}, 1));
        g.put("s", NpyArray.ofDoubles(new double[] {1}, 1));
        Npy.writeNpz(tmp.resolve("nomu.npz"), g, false);
        failsNaming("'mu'", "{\"schedule\":" + SCHED + ",\"model\":{\"type\":\"gaussian_mixture\",\"npz\":\"nomu.npz\"}}");
    }

    @Test
    void unknownFieldsAreNamed() throws IOException {
        failsNaming("colour", "{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + ",\"colour\":1}");
        failsNaming("beta2", "{\"schedule\":{\"type\":\"vp_linear\",\"beta0\":0.1,\"beta1\":20,\"beta2\":1},\"model\":"
                + GAUSS + "}");
        failsNaming("mode", "{\"schedule\":" + SCHED
                + ",\"model\":{\"type\":\"gaussian\",\"mean\":[0],\"variances\":[1],\"mode\":2}}");
        failsNaming("weight", "{\"schedule\":" + SCHED + ",\"model\":" + GAUSS
                + ",\"guidance\":{\"classLabel\":0,\"weight\":2}}");
        failsNaming("gaussian_mix", "{\"schedule\":" + SCHED + ",\"model\":{\"type\":\"gaussian_mix\"}}");
    }

    @Test
    void wrongTypesAreNamed() throws IOException {
        failsNaming("beta0", "{\"schedule\":{\"type\":\"vp_linear\",\"beta0\":\"low\",\"beta1\":20},\"model\":"
                + GAUSS + "}");
        failsNaming("mean", "{\"schedule\":" + SCHED
                + ",\"model\":{\"type\":\"gaussian\",\"mean\":\"zero\",\"variances\":[1]}}");
        failsNaming("numTrainTimesteps", "{\"schedule\":{\"type\":\"vp_discrete\",\"preset\":\"linear\","
                + "\"numTrainTimesteps\":[1000]},\"model\":" + GAUSS + "}");
        failsNaming("scale", "{\"schedule\":" + SCHED + ",\"model\":" + GAUSS
                + ",\"guidance\":{\"classLabel\":0,\"scale\":\"big\"}}");
        failsNaming("dtype", "{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + ",\"dtype\":\"float16\"}");
        failsNaming("model.dtype", "{\"schedule\":" + SCHED
                + ",\"model\":{\"type\":\"empirical\",\"npz\":\"a.npz\",\"dtype\":\"int8\"}}");
    }

    @Test
    void missingRequiredFieldsAreNamed() throws IOException {
        failsNaming("schedule", "{\"model\":" + GAUSS + "}");
        failsNaming("model", "{\"schedule\":" + SCHED + "}");
        failsNaming("type", "{\"schedule\":{\"beta0\":0.1,\"beta1\":20},\"model\":" + GAUSS + "}");
        failsNaming("mean", "{\"schedule\":" + SCHED + ",\"model\":{\"type\":\"gaussian\",\"variances\":[1]}}");
        failsNaming("variances", "{\"schedule\":" + SCHED + ",\"model\":{\"type\":\"gaussian\",\"mean\":[1]}}");
        failsNaming("weights", "{\"schedule\":" + SCHED
                + ",\"model\":{\"type\":\"gaussian_mixture\",\"means\":[[0]],\"stds\":[1]}}");
    }

    /**
     * A continuous schedule without one of its (primitive) parameters is reported with the parameter's name, whether
     * the mapper rejects the absence or the schedule's validation rejects the resulting default.
     */
    @Test
    void missingPrimitiveScheduleParametersAreNamed() throws IOException {
        failsNaming("beta1", "{\"schedule\":{\"type\":\"vp_linear\",\"beta0\":0.1},\"model\":" + GAUSS + "}");
        failsNaming("sigmaMax", "{\"schedule\":{\"type\":\"edm\",\"sigmaMin\":0.002},\"model\":" + GAUSS + "}");
        failsNaming("shift", "{\"schedule\":{\"type\":\"rectified_flow\"},\"model\":" + GAUSS + "}");
    }

    @Test
    void missingFileAndTrailingGarbage() throws IOException {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ModelSpec.read(tmp.resolve("nope.json")));
        Path f = spec("{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + "} {}");
        assertThrows(IOException.class, () -> ModelSpec.read(f));
        assertNull(ModelSpec.MAPPER.readValue("{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + "}", ModelSpec.class)
                .guidance());
        assertInstanceOf(ScheduleSpec.VpLinear.class, ModelSpec.MAPPER.readValue(
                "{\"schedule\":" + SCHED + ",\"model\":" + GAUSS + "}", ModelSpec.class).schedule());
    }
}
