package io.solvertune.clients;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.cli.Cli;
import io.solvertune.client.ApiException;
import io.solvertune.client.ConfigDocument;
import io.solvertune.client.ExportVerdict;
import io.solvertune.client.Model;
import io.solvertune.client.SolvertuneClient;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client library ({@link SolvertuneClient}) and {@code sample --config} against the real service: configs
 * of every kind (a baseline, a DC-Solver set, a learned grid, a ConsistencySolver table, DPM-Solver-v3 with inline
 * statistics) published through the real
 * {@link ConfigPublisher}; the client reads them byte for byte, by id, alias and recommendation, revalidates its disk
 * cache with a 304, lists export verdicts, turns refusals into problem details naming the fields; and
 * {@code sample --config} runs each config — from the server and from a downloaded file — to exactly the output of
 * the solver the config was built from.
 */
@QuarkusTest
class JavaClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double GUIDANCE = 5.0;
    private static final int NFE = 6;

    @Inject
    TokenService tokens;

    @Inject
    ConfigPublisher publisher;

    @TestHTTPResource("/")
    URL server;

    /** What the test published: the config ids and the exact run each stands for. */
    private record Published(Map<String, Long> ids, Map<String, SamplerConfig> runs) {
    }

    @Test
    void clientAndSampleConfigAgainstTheService(@TempDir Path dir) throws Exception {
        String reader = tokens.create("java-reader", Role.READER).token();
        String submitter = tokens.create("java-submitter", Role.SUBMITTER).token();
        String model = "java-gmm-" + System.nanoTime();
        long modelId = JSON.readTree(given().header("Authorization", "Bearer " + submitter)
                .contentType("application/json")
                .body("{\"name\": \"" + model + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models")
                .then().statusCode(201).extract().asString()).get("id").asLong();
        ModelSpec spec = ModelSpec.read(presetFile(dir));
        NoiseSchedule schedule;
        try (Denoiser d = spec.build(dir)) {
            schedule = d.schedule();
        }
        Published pub = publish(modelId, schedule);

        Path cache = dir.resolve("cache");
        SolvertuneClient st = SolvertuneClient.builder().url(server.toString()).token(reader).cacheDir(cache).build();

        // models and configs, typed
        Model m = st.model(model);
        assertEquals(modelId, m.id());
        assertEquals("noise", m.predictionType());
        assertEquals(pub.ids().size(), st.configs(model, null, null, null).size());
        assertEquals(1, st.configs(model, "dc", NFE, GUIDANCE).size());

        // a document by id: the served bytes exactly, with their ETag
        long dcId = pub.ids().get("dc");
        byte[] served = given().header("Authorization", "Bearer " + reader).get("/api/v1/configs/" + dcId)
                .then().statusCode(200).extract().asByteArray();
        ConfigDocument dc = st.config(dcId);
        assertArrayEquals(served, dc.body());
        assertNotNull(dc.etag());
        assertEquals("dc", dc.method());
        assertEquals(NFE, dc.nfe());
        assertEquals(GUIDANCE, dc.guidance());

        // the disk cache is revalidated with If-None-Match: a 304 returns the cached bytes. Proven by planting
        // other (self-consistent) bytes under the same ETag: only a 304 can return them.
        poisonCache(cache, "\"values\"", "\"values\" ");
        ConfigDocument again = st.config(dcId);
        assertFalse(java.util.Arrays.equals(served, again.body()), "the second fetch was answered from the cache");
        assertEquals(dc.etag(), again.etag());
        SolvertuneClient fresh = SolvertuneClient.builder().url(server.toString()).token(reader).noCache().build();
        assertArrayEquals(served, fresh.config(dcId).body());

        // alias and recommendation
        assertEquals(dcId, fresh.alias(model, SolvertuneClient.Alias.LATEST, Map.of("method", "dc")).id());
        ConfigDocument best = fresh.recommended(model, NFE, GUIDANCE);
        assertEquals(pub.ids().get("dc"), best.id(), "the lowest held-out MSE among the published");

        // export verdicts, and a refused download carries the reason
        List<ExportVerdict> verdicts = fresh.exports(dcId);
        assertTrue(verdicts.stream().anyMatch(v -> v.format().equals("json") && v.supported()), verdicts.toString());
        ExportVerdict kd = verdicts.stream().filter(v -> v.format().equals("k-diffusion")).findFirst().orElseThrow();
        assertFalse(kd.supported(), "stock k-diffusion cannot run DC-Solver's ratios: " + kd);
        ApiException refused = assertThrows(ApiException.class,
                () -> fresh.download(dcId, "k-diffusion", dir.resolve("kd.json")));
        assertEquals(409, refused.status());
        assertFalse(Files.exists(dir.resolve("kd.json")), "a refused download writes nothing");
        Path file = dir.resolve("dc.json");
        assertEquals(served.length, fresh.download(dcId, "json", file));

        // refusals are problem details: status, title, and the offending fields
        assertEquals(404, assertThrows(ApiException.class, () -> fresh.config(987_654_321L)).status());
        SolvertuneClient stranger = SolvertuneClient.builder().url(server.toString()).token("st_nope").noCache()
                .build();
        assertEquals(401, assertThrows(ApiException.class, () -> stranger.config(dcId)).status());
        SolvertuneClient sub = SolvertuneClient.builder().url(server.toString()).token(submitter).noCache().build();
        ObjectNode bad = JSON.createObjectNode().put("model", model).put("nfe", "many");
        ApiException invalid = assertThrows(ApiException.class, () -> sub.submit(bad, null));
        assertEquals(400, invalid.status());
        assertTrue(invalid.errors().stream().anyMatch(e -> e.field().equals("nfe")), invalid.errors().toString());
        assertTrue(invalid.getMessage().startsWith("400 "), invalid.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fresh.config(0));

        // sample --config: every kind, from the server and from the downloaded file, equals its solver's run
        NpyArray noise = noise(dir);
        Path specFile = presetFile(dir);
        for (Map.Entry<String, Long> e : pub.ids().entrySet()) {
            double[] expected = run(spec, dir, pub.runs().get(e.getKey()), noise);
            Path out = dir.resolve(e.getKey() + ".npy");
            Run r = cli("sample", "--spec", specFile.toString(), "--class", "0", "--noise",
                    dir.resolve("noise.npy").toString(), "--config", Long.toString(e.getValue()), "--server",
                    server.toString(), "--token", reader, "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("config " + e.getValue() + ": " + e.getKey() + ", NFE " + NFE), r.out());
            assertArrayEquals(expected, Npy.read(out).doubles(), e.getKey() + " from the server");
        }
        Run fromFile = cli("sample", "--spec", specFile.toString(), "--class", "0", "--noise",
                dir.resolve("noise.npy").toString(), "--config", file.toString(), "--out",
                dir.resolve("file.npy").toString());
        assertEquals(0, fromFile.code(), fromFile.err());
        assertArrayEquals(run(spec, dir, pub.runs().get("dc"), noise), Npy.read(dir.resolve("file.npy")).doubles());
        Run byAlias = cli("sample", "--spec", specFile.toString(), "--class", "0", "--noise",
                dir.resolve("noise.npy").toString(), "--config", model + ":recommended?nfe=" + NFE + "&guidance="
                        + GUIDANCE, "--server", server.toString(), "--token", reader, "--out",
                dir.resolve("best.npy").toString());
        assertEquals(0, byAlias.code(), byAlias.err());
        assertArrayEquals(run(spec, dir, pub.runs().get("dc"), noise), Npy.read(dir.resolve("best.npy")).doubles());

        // a config is not silently run with other settings or on another model
        Run mixed = cli("sample", "--spec", specFile.toString(), "--noise", dir.resolve("noise.npy").toString(),
                "--config", file.toString(), "--steps", "8", "--out", dir.resolve("x.npy").toString());
        assertEquals(2, mixed.code());
        assertTrue(mixed.err().contains("--steps: not with --config"), mixed.err());
        Path other = dir.resolve("other.json");
        ObjectNode otherSpec = (ObjectNode) JSON.readTree(specFile.toFile());
        ((ObjectNode) otherSpec.get("schedule")).put("numTrainTimesteps", 999);
        Files.writeString(other, JSON.writeValueAsString(otherSpec));
        Run wrongModel = cli("sample", "--spec", other.toString(), "--noise", dir.resolve("noise.npy").toString(),
                "--config", file.toString(), "--out", dir.resolve("y.npy").toString());
        assertEquals(2, wrongModel.code());
        assertTrue(wrongModel.err().contains("validated for model " + model), wrongModel.err());
        assertEquals(1, wrongModel.err().strip().lines().count(), "one-line CLI error: " + wrongModel.err());

        readmeJavaBlock(model, reader, dir, best);
    }

    /**
     * Compiles the README's "Java client library" block (its lines as the body of a method, the URL and token given
     * to the builder instead of the environment, {@code my-model} replaced by this test's model and the output path
     * by a temporary one) against the main classes, and runs it: the document it writes is the recommended config's
     * bytes.
     */
    private void readmeJavaBlock(String model, String token, Path dir, ConfigDocument best) throws Exception {
        String block = PythonServiceClientTest.readmeBlock("Java client library");
        Path written = dir.resolve("readme-config.json");
        String body = block.replace("SolvertuneClient.builder()", "SolvertuneClient.builder().url(\"" + server
                + "\").token(\"" + token + "\")").replace("\"my-model\"", "\"" + model + "\"")
                .replace("Path.of(\"config.json\")", "Path.of(\"" + written.toString().replace("\\", "/") + "\")");
        assertFalse(body.equals(block), "the README block names SolvertuneClient.builder() and my-model");
        String source = "import io.solvertune.client.*;\nimport java.nio.file.Path;\nimport java.util.List;\n"
                + "public class ReadmeSnippet {\n public static void run() throws Exception {\n" + body + "\n }\n}\n";
        Path src = dir.resolve("src/ReadmeSnippet.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, source);
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        String cp = String.join(java.io.File.pathSeparator, location(SolvertuneClient.class),
                location(ObjectMapper.class), location(com.fasterxml.jackson.core.JsonParser.class),
                location(com.fasterxml.jackson.annotation.JsonInclude.class));
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        java.io.ByteArrayOutputStream diag = new java.io.ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-cp", cp, "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "the README's Java block compiles:\n" + diag.toString(StandardCharsets.UTF_8) + "\n" + source);
        try (java.net.URLClassLoader cl = new java.net.URLClassLoader(new URL[] {classes.toUri().toURL()},
                JavaClientTest.class.getClassLoader())) {
            cl.loadClass("ReadmeSnippet").getMethod("run").invoke(null);
        }
        assertArrayEquals(best.body(), Files.readAllBytes(written), "the README block wrote the recommended config");
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** The preset's spec as a user's file (the registry hashes {"preset": ...} to the same content hash). */
    private static Path presetFile(Path dir) throws Exception {
        Path f = dir.resolve("gmm-sd-d32.json");
        if (!Files.exists(f)) {
            try (var in = JavaClientTest.class.getResourceAsStream("/presets/gmm-sd-d32.json")) {
                Files.write(f, in.readAllBytes());
            }
        }
        return f;
    }

    private static NpyArray noise(Path dir) throws Exception {
        java.util.Random rnd = new java.util.Random(20261206);
        double[] v = new double[4 * 32];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextGaussian();
        }
        NpyArray a = NpyArray.ofDoubles(v, 4, 32);
        Npy.write(dir.resolve("noise.npy"), a);
        return a;
    }

    private static double[] run(ModelSpec spec, Path dir, SamplerConfig cfg, NpyArray noise) throws Exception {
        try (Denoiser d = spec.build(dir); NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(noise.doubles(), new Shape(noise.shape())).toType(spec.dataType(), false);
            NDArray r = Sampler.sample(cfg, new ModelFunction(d, Guidance.classifierFree(0, GUIDANCE)), x).x();
            return r.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        }
    }

    /** Rewrites every cached body (and its recorded hash), keeping its ETag. */
    private static void poisonCache(Path cache, String from, String to) throws Exception {
        int n = 0;
        try (var files = Files.list(cache)) {
            for (Path meta : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                String name = meta.getFileName().toString();
                Path body = cache.resolve(name.substring(0, name.length() - 5) + ".body");
                String b = Files.readString(body, StandardCharsets.UTF_8).replace(from, to);
                Files.writeString(body, b, StandardCharsets.UTF_8);
                ObjectNode mj = (ObjectNode) JSON.readTree(meta.toFile());
                mj.put("bodySha256", sha256(b.getBytes(StandardCharsets.UTF_8)));
                Files.writeString(meta, JSON.writeValueAsString(mj));
                n++;
            }
        }
        assertEquals(1, n, "one cached document");
    }

    private static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    // ---- publishing -------------------------------------------------------------------------------------------------

    private Published publish(long modelId, NoiseSchedule s) throws Exception {
        TimestepSpacing logSnr = new TimestepSpacing.LogSnr();
        List<ConfigCandidate> cs = new ArrayList<>();
        Map<String, SamplerConfig> runs = new LinkedHashMap<>();
        SolverSpec dpm2 = DpmSolver.plusPlusMultistep(2);
        SamplerConfig dpmRun = new SamplerConfig(dpm2, logSnr, NFE, null, null, true, false);
        double[] grid = dpm2.create().grid(s, dpmRun, s.defaultTStart(), s.defaultTEnd());
        cs.add(candidate(modelId, "baseline", dpm2, logSnr, grid, ConfigValues.ofBaseline(Candidate.of(dpm2, logSnr),
                NFE, grid), 0.05));
        runs.put("baseline", dpmRun);

        SolverSpec unipc = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);
        double[][] ratios = {{1.0}, {1.0}, {0.85}, {1.12}, {0.94}, {1.03}};
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC, unipc,
                logSnr, NFE, NFE, grid, List.of("ratio"), ratios, null, null, null);
        cs.add(candidate(modelId, "dc", unipc, logSnr, grid, ConfigValues.of(set), 0.03));
        runs.put("dc", new SamplerConfig(MethodCatalog.spec(set), logSnr, NFE, null, null, true, false));

        // a learned grid (TIMESTEPS: the base solver on an explicit grid) and a ConsistencySolver table
        double[] learned = grid.clone();
        for (int i = 1; i < NFE; i++) {
            learned[i] += 0.25 * (learned[i + 1] - learned[i]) * (i % 2 == 0 ? 1 : 0.5);
        }
        TimestepSpacing explicit = new TimestepSpacing.Explicit(learned);
        CoefficientSet timesteps = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS,
                dpm2, explicit, NFE, NFE, learned, List.of(), new double[NFE][0], null, null, null);
        cs.add(candidate(modelId, "timesteps", dpm2, explicit, learned, ConfigValues.of(timesteps), 0.045));
        runs.put("timesteps", new SamplerConfig(MethodCatalog.spec(timesteps), explicit, NFE, null, null, true, false));
        int order = 3;
        SolverSpec ddimBase = Consistency.Form.DATA.base(order);
        double[] ddimGrid = ddimBase.create().grid(s, new SamplerConfig(ddimBase, logSnr, NFE, null, null, true, false),
                s.defaultTStart(), s.defaultTEnd());
        double[][] table = new double[NFE][];
        for (int i = 0; i < NFE; i++) {
            table[i] = new double[Consistency.columns(order, i)];
            for (int j = 0; j < table[i].length; j++) {
                table[i][j] = 0.2 - 0.1 * j + 0.03 * i;
            }
        }
        CoefficientSet consistency = new CoefficientSet(CoefficientSet.FORMAT_VERSION,
                CoefficientSet.Method.CONSISTENCY, ddimBase, logSnr, NFE, NFE, ddimGrid,
                Consistency.columnNames(order), table, null, null, null);
        cs.add(candidate(modelId, "consistency-solver", ddimBase, logSnr, ddimGrid, ConfigValues.of(consistency),
                0.06));
        runs.put("consistency-solver", new SamplerConfig(MethodCatalog.spec(consistency), logSnr, NFE, null, null,
                true, false));

        String problem = "public_gmm_sd_d32_cfg5";
        JsonNode v3meta = JSON.readTree(ReferenceProblem.resource("v3_" + problem + ".json").toFile());
        DpmSolverV3 v3 = DpmSolverV3.of(EmsNpz.read(ReferenceProblem.resource("ems_" + problem),
                v3meta.get("t_start").asDouble(), v3meta.get("t_end").asDouble()), 2);
        SamplerConfig v3run = new SamplerConfig(v3, logSnr, NFE, null, null, true, false);
        double[] v3grid = v3.create().grid(s, v3run, s.defaultTStart(), s.defaultTEnd());
        cs.add(new ConfigCandidate(modelId, "dpmsolver-v3", "dpmsolver-v3",
                JsonNodeFactory.instance.objectNode().put("order", 2), NFE, GUIDANCE, "logSNR", v3grid[0],
                v3grid[v3grid.length - 1], ConfigValues.ofDpmSolverV3(v3, logSnr, NFE, true, false, v3grid),
                metrics(0.04), provenance(), true, 0.04));
        runs.put("dpmsolver-v3", new SamplerConfig(v3, logSnr, NFE, v3grid[0], v3grid[v3grid.length - 1], true,
                false));

        List<Long> ids = publisher.publish(System.nanoTime(), cs);
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            out.put(cs.get(i).method(), ids.get(i));
        }
        return new Published(out, runs);
    }

    private static ConfigCandidate candidate(long modelId, String method, SolverSpec base, TimestepSpacing spacing,
                                             double[] times, ConfigValues v, double mse) {
        return new ConfigCandidate(modelId, method, SolverCatalog.nameOf(base),
                Json.MAPPER.valueToTree(SolverCatalog.options(base)), NFE, GUIDANCE, spacing.id(), times[0],
                times[times.length - 1], v, metrics(mse), provenance(), true, mse);
    }

    private static ConfigMetrics metrics(double mse) {
        return ConfigMetrics.heldOut(mse);
    }

    private static ConfigProvenance provenance() {
        return ConfigProvenance.codeVersion("java-client-test");
    }
}
