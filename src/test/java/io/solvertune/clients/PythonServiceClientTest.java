package io.solvertune.clients;

import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.unipc.UniPc;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.Json;
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
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client against the real service (this Quarkus test's server, on the test database): a model (the
 * reference guided mixture), configs of several methods published through the real {@link ConfigPublisher}, tokens
 * of three roles, and a small tuning job spec; then {@code pytest -m service} exercises the client (token from the
 * environment, problem details, listing, ETag 304, aliases, recommended, exports, submit / wait / result), runs every
 * published config -- including the ones the job published -- through each Python driver and the README's "Use a
 * tuned config" snippets, and writes the outputs. Finally the Java sampler runs the same documents from the same
 * initial noise and every Python output must agree to 1e-9 relative (ComfyUI's float32 SIGMAS: 1e-3).
 */
@QuarkusTest
class PythonServiceClientTest {
    static final double RTOL = 1e-9;
    static final double FLOAT32_RTOL = 1e-3;
    static final String PROBLEM = "public_gmm_sd_d32_cfg5";
    static final double GUIDANCE = 5.0;
    static final String JOB = "{'model': '%s', 'methods': ['dode'], 'nfe': [5], 'guidance': [7.5],"
            + " 'spacings': ['logSNR'], 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16}}";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    TokenService tokens;

    @Inject
    ConfigPublisher publisher;

    @TestHTTPResource("/")
    URL server;

    @Test
    void pythonClientAgainstTheService(@TempDir Path dir) throws Exception {
        PythonSuite.assumeAvailable(true); // the drivers under test include the torch-based scheduler
        String reader = tokens.create("py-reader", Role.READER).token();
        String submitter = tokens.create("py-submitter", Role.SUBMITTER).token();
        String admin = tokens.create("py-admin", Role.ADMIN).token();
        String model = "py-gmm-" + System.nanoTime();
        JsonNode registered = JSON.readTree(given().header("Authorization", "Bearer " + submitter)
                .contentType("application/json")
                .body("{\"name\": \"" + model + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models")
                .then().statusCode(201).extract().asString());
        long modelId = registered.get("id").asLong();

        ReferenceProblem p = ReferenceProblem.load(PROBLEM);
        Map<String, Long> published = publish(modelId, p);

        Path spec = dir.resolve("job.json");
        Files.writeString(spec, String.format(JOB, model).replace('\'', '"'));
        Path out = Path.of("target", "python-tests", "service-outputs.npz").toAbsolutePath();
        Files.deleteIfExists(out);
        Path javaDownload = dir.resolve("config.json");
        readmeJavaClient(published.get("dc"), javaDownload, reader);

        Map<String, String> env = new LinkedHashMap<>();
        env.put("SOLVERTUNE_TEST_URL", server.toString());
        env.put("SOLVERTUNE_TEST_READER_TOKEN", reader);
        env.put("SOLVERTUNE_TEST_SUBMITTER_TOKEN", submitter);
        env.put("SOLVERTUNE_TEST_ADMIN_TOKEN", admin);
        env.put("SOLVERTUNE_TEST_MODEL", model);
        env.put("SOLVERTUNE_TEST_MODEL_ID", Long.toString(modelId));
        env.put("SOLVERTUNE_TEST_CONFIGS", JSON.writeValueAsString(published));
        env.put("SOLVERTUNE_TEST_JOB_SPEC", spec.toAbsolutePath().toString());
        env.put("SOLVERTUNE_TEST_REFERENCE", ReferenceProblem.resource("ref_" + PROBLEM + ".npz").toAbsolutePath()
                .toString());
        env.put("SOLVERTUNE_TEST_OUT", out.toString());
        env.put("SOLVERTUNE_TEST_JAVA_DOWNLOAD", javaDownload.toAbsolutePath().toString());
        env.put("SOLVERTUNE_TEST_CACHE", dir.resolve("cache").toAbsolutePath().toString());
        PythonSuite.run("service", List.of("-m", "service"), env);

        compare(p, out, reader);
    }

    // ---- what the Python client finds on the server ------------------------------------------------------------------

    private Map<String, Long> publish(long modelId, ReferenceProblem p) throws Exception {
        NoiseSchedule s = p.schedule;
        int nfe = 6;
        TimestepSpacing logSnr = new TimestepSpacing.LogSnr();
        List<ConfigCandidate> cs = new ArrayList<>();
        SolverSpec dpm2 = DpmSolver.plusPlusMultistep(2);
        double[] grid = dpm2.create().grid(s, new SamplerConfig(dpm2, logSnr, nfe, null, null, true, false),
                s.defaultTStart(), s.defaultTEnd());
        cs.add(candidate(modelId, "baseline", dpm2, nfe, logSnr, grid, ConfigValues.ofBaseline(Candidate.of(dpm2,
                logSnr), nfe, grid), 0.05));
        SolverSpec unipc = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);
        double[][] ratios = {{1.0}, {1.0}, {0.85}, {1.12}, {0.94}, {1.03}};
        cs.add(candidate(modelId, "dc", unipc, nfe, logSnr, grid, ConfigValues.of(set(CoefficientSet.Method.DC, unipc,
                logSnr, nfe, nfe, grid, List.of("ratio"), ratios)), 0.03));
        double[][] lambdas = {{0.0}, {0.1}, {-0.05}, {0.12}, {0.02}, {0.07}};
        cs.add(candidate(modelId, "dode", dpm2, nfe, logSnr, grid, ConfigValues.of(set(CoefficientSet.Method.DODE,
                dpm2, logSnr, nfe, nfe, grid, List.of("lambda"), lambdas)), 0.035));
        SolverSpec heun = new EdmHeun();
        double[] heunGrid = logSnr.times(s, s.defaultTStart(), s.defaultTEnd(), 3);
        double[][] biia = {{0.04}, {-0.03}, {0.02}};
        cs.add(candidate(modelId, "biia-edm", heun, nfe, logSnr, heunGrid, ConfigValues.of(set(
                CoefficientSet.Method.BIIA, heun, logSnr, 3, nfe, heunGrid, List.of("avg_0"), biia)), 0.045));
        JsonNode v3meta = JSON.readTree(ReferenceProblem.resource("v3_" + PROBLEM + ".json").toFile());
        DpmSolverV3 v3 = DpmSolverV3.of(EmsNpz.read(ReferenceProblem.resource("ems_" + PROBLEM),
                v3meta.get("t_start").asDouble(), v3meta.get("t_end").asDouble()), 2);
        SamplerConfig v3cfg = new SamplerConfig(v3, logSnr, nfe, null, null, true, false);
        double[] v3grid = v3.create().grid(s, v3cfg, s.defaultTStart(), s.defaultTEnd());
        ObjectNode v3opts = JsonNodeFactory.instance.objectNode().put("order", 2);
        cs.add(new ConfigCandidate(modelId, "dpmsolver-v3", "dpmsolver-v3", v3opts, nfe, GUIDANCE, "logSNR",
                v3grid[0], v3grid[v3grid.length - 1], ConfigValues.ofDpmSolverV3(v3, logSnr, nfe, true, false, v3grid),
                metrics(0.04), provenance(), true, 0.04));
        List<Long> ids = publisher.publish(System.nanoTime(), cs);
        assertEquals(cs.size(), ids.size());
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            out.put(cs.get(i).method(), ids.get(i));
        }
        return out;
    }

    private static CoefficientSet set(CoefficientSet.Method method, SolverSpec base, TimestepSpacing spacing, int steps,
                                      int nfe, double[] times, List<String> columns, double[][] values) {
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, method, base, spacing, steps, nfe, times, columns,
                values, null, null, null);
    }

    private static ConfigCandidate candidate(long modelId, String method, SolverSpec base, int nfe,
                                             TimestepSpacing spacing, double[] times, ConfigValues v, double mse) {
        return new ConfigCandidate(modelId, method, SolverCatalog.nameOf(base),
                Json.MAPPER.valueToTree(SolverCatalog.options(base)), nfe, GUIDANCE, spacing.id(), times[0],
                times[times.length - 1], v, metrics(mse), provenance(), true, mse);
    }

    private static ConfigMetrics metrics(double mse) {
        return ConfigMetrics.heldOut(mse);
    }

    /** Like the publishing tests': no schedule in the provenance, so the client takes the model's. */
    private static ConfigProvenance provenance() {
        return ConfigProvenance.codeVersion("python-client-test");
    }

    // ---- README "Use a tuned config", Java client ----------------------------------------------------------------------

    /**
     * Runs the {@code $J download} lines of the README's Java-client block through the same CLI entry point as
     * the jar (server and token as --server/--token, the config id replaced by the DC config's, the output path
     * by {@code target}); the {@code submit} and {@code wait} lines are the commands TuningServiceEndToEndTest runs.
     */
    private void readmeJavaClient(long configId, Path target, String token) throws Exception {
        String block = readmeBlock("Java client");
        Matcher m = Pattern.compile("(?m)^\\$J (download .*?)\\s*(#.*)?$").matcher(block);
        int runs = 0;
        while (m.find()) {
            List<String> args = new ArrayList<>(List.of(m.group(1).trim().split("\\s+")));
            assertTrue(args.get(1).matches("\\d+"), "README download line: " + m.group(1));
            args.set(1, Long.toString(configId));
            int o = args.indexOf("--out");
            Path file = runs == 0 ? target : target.resolveSibling("readme-" + runs + "-" + args.get(o + 1));
            args.set(o + 1, file.toString());
            args.addAll(List.of("--server", server.toString(), "--token", token));
            StringWriter outW = new StringWriter();
            StringWriter errW = new StringWriter();
            int code = Cli.run(args.toArray(String[]::new), new PrintWriter(outW, true), new PrintWriter(errW, true));
            assertEquals(0, code, "README line '$J " + m.group(1) + "': " + errW);
            assertTrue(Files.size(file) > 0);
            runs++;
        }
        assertTrue(runs >= 1, "the README's Java-client block has a '$J download' line");
    }

    /** The fenced code block that follows the README paragraph starting with {@code **<title>**}. */
    static String readmeBlock(String title) throws Exception {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        int at = readme.indexOf("**" + title + "**");
        assertTrue(at >= 0, "README has no '**" + title + "**' paragraph");
        int start = readme.indexOf("```", at);
        int body = readme.indexOf('\n', start) + 1;
        int end = readme.indexOf("```", body);
        return readme.substring(body, end);
    }

    // ---- the Java sampler on the same documents ----------------------------------------------------------------------

    private void compare(ReferenceProblem p, Path out, String token) throws Exception {
        Map<String, NpyArray> outputs = Npy.readNpz(out);
        assertTrue(outputs.size() >= 10, "python outputs: " + outputs.keySet());
        NpyArray xT = p.get("x_T");
        Map<Long, double[]> javaOut = new LinkedHashMap<>();
        List<String> checked = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(); GaussianMixtureDenoiser model = p.model()) {
            for (Map.Entry<String, NpyArray> e : outputs.entrySet()) {
                String[] key = e.getKey().split("__");
                long id = Long.parseLong(key[1]);
                double[] ours = javaOut.get(id);
                if (ours == null) {
                    JsonNode doc = JSON.readTree(given().header("Authorization", "Bearer " + token)
                            .get("/api/v1/configs/" + id).then().statusCode(200).extract().asByteArray());
                    try (NDManager m = manager.newSubManager()) {
                        NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
                        Guidance g = Guidance.classifierFree(0, doc.get("guidance").asDouble());
                        SampleResult r = Sampler.sample(samplerConfig(doc.get("values")), new ModelFunction(model, g),
                                x);
                        assertEquals(doc.get("nfe").asLong(), r.nfe(), "config " + id + " NFE");
                        ours = r.x().toDoubleArray();
                    }
                    javaOut.put(id, ours);
                }
                double[] theirs = e.getValue().asDoubles();
                assertEquals(ours.length, theirs.length, e.getKey());
                double worst = 0;
                for (int i = 0; i < ours.length; i++) {
                    worst = Math.max(worst, Math.abs(theirs[i] - ours[i]) / Math.max(1.0, Math.abs(ours[i])));
                }
                double tol = key[0].contains("comfyui") ? FLOAT32_RTOL : RTOL;
                assertTrue(worst <= tol, e.getKey() + ": Python vs Java max relative difference " + worst);
                checked.add(String.format(Locale.ROOT, "%s %.2e", e.getKey(), worst));
            }
        }
        System.out.println("python service outputs vs Java: " + checked);
    }

    /** The run a published config stands for (what {@code sample --config} and the Python client both do). */
    static SamplerConfig samplerConfig(JsonNode values) {
        return ConfigValues.parse(values).samplerConfig();
    }
}
