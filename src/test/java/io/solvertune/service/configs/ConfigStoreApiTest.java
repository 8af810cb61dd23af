package io.solvertune.service.configs;

import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.exports.ConfigExports;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.unipc.UniPc;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.persistence.SolverConfigEntity;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CascadePolynomialRegression;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.job.ResolvedModel;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The config store and its download API: versions, aliases, recommended, ETags, roles, exports and round trips. */
@QuarkusTest
class ConfigStoreApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong JOBS = new AtomicLong(System.currentTimeMillis() % 1_000_000_000L * 1000);
    private static final AtomicLong NAMES = new AtomicLong();
    private static final String FLOW_SPEC = "{\"schedule\": {\"type\": \"rectified_flow\", \"shift\": 3.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5, 2.0], [1.0, 0.0, -2.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2},"
            + " \"dtype\": \"float64\"}";

    @Inject
    ConfigPublisher publisher;

    @Inject
    TokenService tokens;

    @Inject
    EntityManager em;

    String reader;
    String admin;

    @BeforeEach
    void tokens() {
        reader = tokens.create("reader", Role.READER).token();
        admin = tokens.create("admin", Role.ADMIN).token();
    }

    // ---- fixtures --------------------------------------------------------------------------------------------------

    private long model(boolean anonymousRead) {
        return model("{\"preset\": \"gmm-sd-d32\"}", anonymousRead);
    }

    private long model(String spec, boolean anonymousRead) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = new ModelEntity();
            m.name = "cfg-model-" + NAMES.incrementAndGet() + "-" + System.nanoTime();
            m.kind = "analytic";
            m.spec = JSON.readTree(spec);
            m.contentHash = CanonicalJson.sha256(m.name);
            m.schedule = JSON.valueToTree(ResolvedModel.specOf(m.spec).schedule());
            m.predictionType = "noise";
            m.anonymousRead = anonymousRead;
            m.persist();
            return m.id;
        });
    }

    private static NoiseSchedule schedule(long modelId) {
        return QuarkusTransaction.requiringNew().call(() ->
                ResolvedModel.specOf(ModelEntity.<ModelEntity>findById(modelId).spec).schedule().build());
    }

    private static double[] grid(NoiseSchedule s, TimestepSpacing spacing, int steps) {
        return spacing.times(s, s.defaultTStart(), s.defaultTEnd(), steps);
    }

    private static ConfigCandidate candidate(long modelId, String method, String solver, JsonNode options, int nfe,
                                             double guidance, String spacing, NoiseSchedule s, ConfigValues v,
                                             double mse) {
        ConfigMetrics metrics = ConfigMetrics.heldOut(mse);
        ConfigProvenance prov = ConfigProvenance.codeVersion("test");
        return new ConfigCandidate(modelId, method, solver, options, nfe, guidance, spacing, s.defaultTStart(),
                s.defaultTEnd(), v, metrics, prov, true, mse);
    }

    private static ConfigCandidate baseline(long modelId, NoiseSchedule s, int nfe, double guidance, double mse) {
        return baseline(modelId, s, nfe, guidance, mse, new TimestepSpacing.LogSnr());
    }

    private static ConfigCandidate baseline(long modelId, NoiseSchedule s, int nfe, double guidance, double mse,
                                            TimestepSpacing spacing) {
        SolverSpec spec = DpmSolver.plusPlusMultistep(2);
        Candidate c = Candidate.of(spec, spacing);
        ConfigValues v = ConfigValues.ofBaseline(c, nfe, grid(s, spacing, nfe));
        return candidate(modelId, "baseline", "dpmsolver++", JSON.valueToTree(Map.of("method", "multistep",
                "order", "2", "solver_type", "dpmsolver")), nfe, guidance, spacing.id(), s, v, mse);
    }

    private static CoefficientSet dcSet(NoiseSchedule s, int nfe, double wobble) {
        double[][] values = new double[nfe][];
        for (int i = 0; i < nfe; i++) {
            values[i] = new double[] {i < 2 ? 1.0 : 1.0 + wobble * (i % 2 == 0 ? 1 : -1)};
        }
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC,
                new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3), new TimestepSpacing.LogSnr(),
                nfe, nfe, grid(s, new TimestepSpacing.LogSnr(), nfe), List.of("ratio"), values, null, null, null);
    }

    private static ConfigCandidate dc(long modelId, NoiseSchedule s, int nfe, double guidance, double mse,
                                      double wobble, CascadePolynomialRegression cpr) {
        ConfigValues v = cpr == null ? ConfigValues.of(dcSet(s, nfe, wobble)) : ConfigValues.of(dcSet(s, nfe, wobble), cpr);
        return candidate(modelId, "dc", "unipc", JSON.valueToTree(Map.of("prediction", "data", "variant", "bh2",
                "order", "3")), nfe, guidance, "logSNR", s, v, mse);
    }

    private static EmpiricalModelStatistics ems(NoiseSchedule s) {
        Random r = new Random(7);
        int k = 12;
        int d = 4;
        double[] l = new double[(k + 1) * d];
        double[] sv = new double[l.length];
        double[] b = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = 1 + 0.1 * r.nextGaussian();
            sv[i] = 0.01 * r.nextGaussian();
            b[i] = 0.01 * r.nextGaussian();
        }
        return new EmpiricalModelStatistics(new EmsGrid(k, s.defaultTStart(), s.defaultTEnd()), new long[] {d}, l, sv,
                b, s.spec(), "test statistics");
    }

    private static ConfigCandidate v3(long modelId, NoiseSchedule s, int nfe, double guidance, double mse) {
        DpmSolverV3 spec = DpmSolverV3.of(ems(s), 2);
        ConfigValues v = ConfigValues.ofDpmSolverV3(spec, new TimestepSpacing.LogSnr(), nfe, true, false,
                grid(s, new TimestepSpacing.LogSnr(), nfe));
        return candidate(modelId, "dpmsolver-v3", "dpmsolver-v3", JSON.createObjectNode().put("order", "2"), nfe,
                guidance, "logSNR", s, v, mse);
    }

    private RequestSpecification as(String token) {
        return token == null ? given() : given().header("Authorization", "Bearer " + token);
    }

    private static JsonNode json(byte[] bytes) throws IOException {
        return JSON.readTree(bytes);
    }

    private static Map<String, byte[]> unzip(byte[] zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = z.getNextEntry()) != null) {
                out.put(e.getName(), z.readAllBytes());
            }
        }
        return out;
    }

    // ---- versions, aliases, recommended ------------------------------------------------------------------------------

    @Test
    void twoJobsGiveVersionsOneAndTwoAndLatestMovesStableOnlyByAdmin() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        long job1 = JOBS.incrementAndGet();
        long job2 = JOBS.incrementAndGet();
        long v1 = publisher.publish(job1, List.of(dc(m, s, 6, 1.0, 0.02, 0.05, null))).get(0);
        long v2 = publisher.publish(job2, List.of(dc(m, s, 6, 1.0, 0.01, 0.07, null))).get(0);
        as(reader).get("/api/v1/configs/" + v1).then().statusCode(200).body("version", equalTo(1))
                .body("jobId", equalTo(job1));
        as(reader).get("/api/v1/configs/" + v2).then().statusCode(200).body("version", equalTo(2));

        String latest = "/api/v1/models/" + m + "/configs/latest?method=dc&nfe=6&guidance=1";
        as(reader).get(latest).then().statusCode(200).header("X-Config-Id", "" + v2)
                .header("X-Config-Version", "2").header("Cache-Control", containsString("max-age=60"))
                .body("id", equalTo((int) v2));
        String stable = "/api/v1/models/" + m + "/configs/stable?method=dc&nfe=6";
        as(reader).get(stable).then().statusCode(404).body("detail", containsString("stable"));
        as(reader).put("/api/v1/configs/" + v1 + "/stable").then().statusCode(403);
        as(admin).put("/api/v1/configs/" + v1 + "/stable").then().statusCode(200).body("configId", equalTo((int) v1));
        as(reader).get(stable).then().statusCode(200).header("X-Config-Id", "" + v1).header("X-Config-Version", "1");
        as(admin).put("/api/v1/configs/999999999/stable").then().statusCode(404);

        // a third publish moves latest, not stable
        long v3 = publisher.publish(JOBS.incrementAndGet(), List.of(dc(m, s, 6, 1.0, 0.03, 0.01, null))).get(0);
        as(reader).get(latest).then().statusCode(200).header("X-Config-Id", "" + v3).header("X-Config-Version", "3");
        as(reader).get(stable).then().statusCode(200).header("X-Config-Id", "" + v1);
        // the filters must pin one key
        publisher.publish(JOBS.incrementAndGet(), List.of(baseline(m, s, 6, 1.0, 0.05)));
        as(reader).get("/api/v1/models/" + m + "/configs/latest?nfe=6").then().statusCode(400)
                .body("detail", containsString("2 keys"));
        as(reader).get("/api/v1/models/" + m + "/configs/newest").then().statusCode(400)
                .body("errors[0].field", equalTo("alias"));
    }

    @Test
    void recommendedIsTheLowestHeldOutMseAmongMethodsAndBaselines() {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        List<Long> ids = publisher.publish(JOBS.incrementAndGet(), List.of(
                dc(m, s, 6, 7.5, 0.030, 0.05, null),
                baseline(m, s, 6, 7.5, 0.010),           // the baseline wins at NFE 6, guidance 7.5
                v3(m, s, 6, 7.5, 0.020),
                dc(m, s, 8, 7.5, 0.004, 0.05, null),     // DC wins at NFE 8
                baseline(m, s, 8, 7.5, 0.009),
                new ConfigCandidate(m, "dode", "ddim", null, 8, 7.5, "logSNR", 1, 0.001,
                        null, null, null, false, 0.0001))); // not validated: neither stored nor ranked
        assertEquals(5, ids.size());
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=6&guidance=7.5").then().statusCode(200)
                .header("X-Config-Id", "" + ids.get(1)).body("method", equalTo("baseline"));
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=8&guidance=7.5").then().statusCode(200)
                .header("X-Config-Id", "" + ids.get(3)).body("method", equalTo("dc"));
        // exact match only, and the 404 says what is missing and what exists
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=5&guidance=7.5").then().statusCode(404)
                .body("detail", containsString("nfe 5")).body("detail", containsString("nfe 6 guidance 7.5"));
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=6").then().statusCode(404)
                .body("detail", containsString("guidance 1.0"));
        long other = model(false);
        as(reader).get("/api/v1/configs/best?model=" + other + "&nfe=6&guidance=7.5").then().statusCode(404)
                .body("detail", containsString("no publish has covered this model"));
        as(reader).get("/api/v1/configs/best?model=no-such-model&nfe=6").then().statusCode(404)
                .body("detail", containsString("no-such-model"));
        // a later publish covering (6, 7.5) replaces the recommendation
        long better = publisher.publish(JOBS.incrementAndGet(), List.of(v3(m, s, 6, 7.5, 0.005))).get(0);
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=6&guidance=7.5").then().statusCode(200)
                .header("X-Config-Id", "" + better);
    }

    /** A trained ConsistencySolver table (noise form, order 4) with its training in the provenance. */
    private static ConfigCandidate consistency(long modelId, NoiseSchedule s, int nfe, double guidance, double mse) {
        var form = io.solvertune.numerics.solver.consistency.Consistency.Form.NOISE;
        TimestepSpacing sp = new TimestepSpacing.Karras(7.0);
        double[][] values = new double[nfe][];
        for (int i = 0; i < nfe; i++) {
            values[i] = new double[io.solvertune.numerics.solver.consistency.Consistency.columns(4, i)];
            java.util.Arrays.fill(values[i], 0.1 * (i % 3 - 1));
        }
        values[1][0] = 0.3;
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.CONSISTENCY,
                form.base(4), sp, nfe, nfe, grid(s, sp, nfe),
                io.solvertune.numerics.solver.consistency.Consistency.columnNames(4), values, null, null, null);
        ConfigProvenance.Training training = new ConfigProvenance.Training("rl-grpo-ppo", "gaussian", "expected",
                Map.of("iterations", 2, "group", 4, "learningRate", 3e-3), 2, new ConfigProvenance.SeedRange(0, 8), 1,
                List.of(new ConfigProvenance.RewardPoint(0, 5, -0.2, 0.9), new ConfigProvenance.RewardPoint(1, 6, -0.1,
                        0.8)));
        ConfigProvenance p = ConfigProvenance.codeVersion("test");
        ConfigProvenance prov = new ConfigProvenance(p.jobId(), p.modelId(), p.modelName(), p.modelHash(),
                p.schedule(), p.guidance(), nfe, set.times(), p.teacher(), p.seeds(), p.codeVersion(), p.platform(),
                p.metrics(), "g" + guidance + "/fit-consistency-solver", training, null);
        double[] t = set.times();
        return new ConfigCandidate(modelId, "consistency-solver", "dpmsolver", JSON.valueToTree(
                io.solvertune.numerics.solver.catalog.SolverCatalog.options(form.base(4))), nfe, guidance, "karras",
                t[0], t[t.length - 1], ConfigValues.of(set), ConfigMetrics.heldOut(mse), prov, true, mse);
    }

    @Test
    void aConsistencySolverTableIsRecommendedWhenItWinsAndExportsOnlyAsJson() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        List<Long> ids = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(m, s, 6, 7.5, 0.010),
                consistency(m, s, 6, 7.5, 0.004), baseline(m, s, 5, 7.5, 0.010), consistency(m, s, 5, 7.5, 0.02)));
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=6&guidance=7.5").then().statusCode(200)
                .header("X-Config-Id", "" + ids.get(1)).body("method", equalTo("consistency-solver"));
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=5&guidance=7.5").then().statusCode(200)
                .header("X-Config-Id", "" + ids.get(2)).body("method", equalTo("baseline"));
        JsonNode doc = json(as(reader).get("/api/v1/configs/" + ids.get(1)).then().statusCode(200).extract()
                .asByteArray());
        assertEquals("CONSISTENCY", doc.at("/values/coefficientSet/method").asText());
        assertEquals("rl-grpo-ppo", doc.at("/provenance/training/trainer").asText());
        assertEquals(2, doc.at("/provenance/training/rewardCurve").size());
        assertEquals(4, doc.at("/provenance/training/hyperparameters/group").asInt());
        JsonNode formats = json(as(reader).get("/api/v1/configs/" + ids.get(1) + "/exports").then().statusCode(200)
                .extract().asByteArray()).get("formats");
        for (JsonNode f : formats) {
            boolean json = f.get("format").asText().equals("json");
            assertEquals(json, f.get("supported").asBoolean(), f.toString());
            if (!json) {
                assertTrue(f.get("alternatives").toString().contains("json"), f.toString());
                as(reader).get(f.get("href").asText()).then().statusCode(409).body("detail",
                        containsString(f.get("reason").asText()));
            }
        }
        as(reader).get("/api/v1/configs/" + ids.get(1) + "/export/diffusers").then().statusCode(409)
                .body("detail", containsString("consistency coefficients change every step"));
    }

    @Test
    void publishIsIdempotentPerJobAndRowsAreImmutable() {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        long job = JOBS.incrementAndGet();
        List<ConfigCandidate> cs = List.of(dc(m, s, 6, 1.0, 0.02, 0.05, null), baseline(m, s, 6, 1.0, 0.03));
        List<Long> first = publisher.publish(job, cs);
        List<Long> again = publisher.publish(job, cs);
        assertEquals(first, again);
        long rows = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "SELECT count(c) FROM SolverConfigEntity c WHERE c.jobId = :j", Long.class)
                .setParameter("j", job).getSingleResult());
        assertEquals(2, rows);
        RuntimeException e = assertThrows(RuntimeException.class, () -> QuarkusTransaction.requiringNew().run(() ->
                em.createNativeQuery("UPDATE solver_configs SET nfe = 7 WHERE id = " + first.get(0)).executeUpdate()));
        assertTrue(String.valueOf(rootMessage(e)).contains("immutable"), rootMessage(e));
        // a rejected publish leaves nothing behind
        long bad = JOBS.incrementAndGet();
        ConfigCandidate wrongNfe = dc(m, s, 6, 1.0, 0.02, 0.05, null);
        ConfigCandidate lying = new ConfigCandidate(m, "dc", "unipc", null, 5, 1.0, "logSNR", wrongNfe.tStart(),
                wrongNfe.tEnd(), wrongNfe.values(), null, null, true, 0.01);
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class,
                () -> publisher.publish(bad, List.of(baseline(m, s, 6, 1.0, 0.03), lying)));
        assertTrue(iae.getMessage().startsWith("candidates[1].nfe:"), iae.getMessage());
        long none = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "SELECT count(c) FROM SolverConfigEntity c WHERE c.jobId = :j", Long.class)
                .setParameter("j", bad).getSingleResult());
        assertEquals(0, none);
        SolverConfigEntity stored = QuarkusTransaction.requiringNew().call(() ->
                SolverConfigEntity.<SolverConfigEntity>findById(first.get(0)));
        assertEquals(CanonicalJson.sha256(stored.document), stored.sha256);
    }

    private static String rootMessage(Throwable t) {
        String msg = t.getMessage();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                msg = c.getMessage();
            }
        }
        return msg;
    }

    // ---- fetching ----------------------------------------------------------------------------------------------------

    @Test
    void fetchByIdHasAStrongETagAnd304() {
        long m = model(false);
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(m, schedule(m), 5, 1.0, 0.1))).get(0);
        Response r = as(reader).get("/api/v1/configs/" + id);
        r.then().statusCode(200).contentType(containsString("application/json"))
                .header("Cache-Control", equalTo(ConfigsResource.IMMUTABLE_PRIVATE));
        String etag = r.header("ETag");
        assertEquals("\"" + CanonicalJson.sha256(r.asByteArray()) + "\"", etag);
        as(reader).header("If-None-Match", etag).get("/api/v1/configs/" + id).then().statusCode(304)
                .header("ETag", etag);
        as(reader).header("If-None-Match", "\"" + "0".repeat(64) + "\", " + etag).get("/api/v1/configs/" + id)
                .then().statusCode(304);
        as(reader).header("If-None-Match", "\"" + "0".repeat(64) + "\"").get("/api/v1/configs/" + id).then()
                .statusCode(200);
        // served twice (cache), same bytes
        assertArrayEquals(r.asByteArray(), as(reader).get("/api/v1/configs/" + id).asByteArray());
        as(reader).get("/api/v1/configs/987654321").then().statusCode(404).body("detail", containsString("987654321"));
        as(reader).get("/api/v1/configs/abc").then().statusCode(400).body("errors[0].field", equalTo("id"));
    }

    @Test
    void anonymousReadFollowsTheModel() {
        long open = model(true);
        long closed = model(false);
        long a = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(open, schedule(open), 5, 1.0, 0.1))).get(0);
        long b = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(closed, schedule(closed), 5, 1.0, 0.1)))
                .get(0);
        given().get("/api/v1/configs/" + a).then().statusCode(200)
                .header("Cache-Control", equalTo(ConfigsResource.IMMUTABLE_PUBLIC));
        given().get("/api/v1/configs/" + b).then().statusCode(401).header("WWW-Authenticate", containsString("Bearer"));
        given().get("/api/v1/configs/987654321").then().statusCode(401);
        given().get("/api/v1/configs?model=" + open).then().statusCode(200).body("items.size()", equalTo(1));
        given().get("/api/v1/configs?model=" + closed).then().statusCode(401);
        given().get("/api/v1/configs").then().statusCode(401);
        given().get("/api/v1/configs/best?model=" + open + "&nfe=5").then().statusCode(200);
        given().get("/api/v1/configs/" + a + "/export/k-diffusion").then().statusCode(200);
        given().get("/api/v1/configs/" + b + "/export/k-diffusion").then().statusCode(401);
        as(reader).get("/api/v1/configs/" + b).then().statusCode(200);
    }

    @Test
    void theCachedFastPathNeverWidensAccess() {
        long closed = model(false);
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(closed, schedule(closed), 5, 1.0, 0.1)))
                .get(0);
        TokenService.CreatedToken t = tokens.create("short-lived", Role.READER);
        // warm every cache (config bytes, model flag, token verdict), then check what the fast path answers
        for (int i = 0; i < 3; i++) {
            as(t.token()).get("/api/v1/configs/" + id).then().statusCode(200);
        }
        String etag = as(t.token()).get("/api/v1/configs/" + id).header("ETag");
        as(t.token()).header("If-None-Match", etag).get("/api/v1/configs/" + id).then().statusCode(304)
                .header("ETag", etag).header("Cache-Control", ConfigsResource.IMMUTABLE_PRIVATE);
        given().get("/api/v1/configs/" + id).then().statusCode(401);
        given().header("Authorization", "Basic abc").get("/api/v1/configs/" + id).then().statusCode(401);
        given().header("Authorization", "Bearer st_not-a-token").get("/api/v1/configs/" + id).then().statusCode(401);
        given().header("Authorization", "Bearer st_not-a-token").get("/api/v1/configs/" + id).then().statusCode(401);
        tokens.revoke(t.info().id());
        as(t.token()).get("/api/v1/configs/" + id).then().statusCode(401);
        as(reader).get("/api/v1/configs/" + id).then().statusCode(200);
        // a model made readable anonymously becomes so within the model-flag TTL (test profile: 1 s)
        QuarkusTransaction.requiringNew().run(() ->
                ModelEntity.<ModelEntity>findById(closed).anonymousRead = true);
        long deadline = System.currentTimeMillis() + 5_000;
        int status;
        do {
            status = given().get("/api/v1/configs/" + id).statusCode();
        } while (status != 200 && System.currentTimeMillis() < deadline);
        assertEquals(200, status);
        given().get("/api/v1/configs/" + id).then().statusCode(200)
                .header("Cache-Control", ConfigsResource.IMMUTABLE_PUBLIC);
    }

    @Test
    void openApiDocumentsTheConfigEndpoints() {
        String doc = given().get("/q/openapi?format=json").then().statusCode(200).extract().asString();
        for (String path : List.of("/api/v1/configs", "/api/v1/configs/best", "/api/v1/configs/{id}",
                "/api/v1/configs/{id}/stable", "/api/v1/configs/{id}/export/{format}", "/api/v1/configs/{id}/exports",
                "/api/v1/models/{model}/configs/{alias}")) {
            assertTrue(doc.contains("\"" + path + "\""), path);
        }
    }

    @Test
    void listsFilterAndPageAndRefuseMalformedParameters() {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        publisher.publish(JOBS.incrementAndGet(), List.of(baseline(m, s, 5, 1.0, 0.1), baseline(m, s, 6, 1.0, 0.1),
                dc(m, s, 6, 1.0, 0.05, 0.02, null), dc(m, s, 8, 2.0, 0.05, 0.02, null)));
        as(reader).get("/api/v1/configs?model=" + m).then().statusCode(200).body("items.size()", equalTo(4));
        as(reader).get("/api/v1/configs?model=" + m + "&nfe=6").then().statusCode(200).body("items.size()", equalTo(2));
        as(reader).get("/api/v1/configs?model=" + m + "&method=dc&guidance=2").then().statusCode(200)
                .body("items.size()", equalTo(1)).body("items[0].nfe", equalTo(8));
        Response p1 = as(reader).get("/api/v1/configs?model=" + m + "&limit=3");
        p1.then().statusCode(200).body("items.size()", equalTo(3));
        String next = p1.path("next");
        as(reader).get(next).then().statusCode(200).body("items.size()", equalTo(1)).body("next", equalTo(null));
        as(reader).get("/api/v1/configs?model=" + m + "&nfe=abc").then().statusCode(400)
                .body("errors[0].field", equalTo("nfe"));
        as(reader).get("/api/v1/configs?model=" + m + "&nfe=-3").then().statusCode(400)
                .body("errors[0].field", equalTo("nfe"));
        as(reader).get("/api/v1/configs?model=" + m + "&guidance=-1").then().statusCode(400)
                .body("errors[0].field", equalTo("guidance"));
        as(reader).get("/api/v1/configs?model=" + m + "&limit=100000").then().statusCode(400)
                .body("errors[0].field", equalTo("limit"));
        as(reader).get("/api/v1/configs/best?model=" + m + "&nfe=x").then().statusCode(400)
                .body("errors[0].field", equalTo("nfe"));
        as(reader).get("/api/v1/configs/best?model=" + m).then().statusCode(400)
                .body("errors[0].field", equalTo("nfe"));
        as(reader).get("/api/v1/models/" + m + "/configs/latest?nfe=0").then().statusCode(400)
                .body("errors[0].field", equalTo("nfe"));
    }

    // ---- exports -----------------------------------------------------------------------------------------------------

    /** DPM-Solver++(2M) on integer timesteps (999, 832, ..., 166, then 1/N): reproducible in every sigma consumer. */
    private static ConfigCandidate integerBaseline(long modelId, NoiseSchedule s, double guidance, double mse) {
        VpDiscreteSchedule vp = (VpDiscreteSchedule) s;
        int[] n = {999, 832, 666, 500, 333, 166, 0};
        double[] t = new double[n.length];
        for (int i = 0; i < n.length; i++) {
            t[i] = (n[i] + 1.0) / vp.gridSize();
        }
        return baseline(modelId, s, 6, guidance, mse, new TimestepSpacing.Explicit(t));
    }

    @Test
    void sigmaExportsConvertBackToTheConfigTimes() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        ConfigCandidate c = integerBaseline(m, s, 7.5, 0.02);
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(c)).get(0);
        double[] times = c.values().times();

        JsonNode k = json(as(reader).get("/api/v1/configs/" + id + "/export/k-diffusion").then().statusCode(200)
                .extract().asByteArray());
        assertTrue(k.get("sigmaSpace").asText().startsWith("vp:"));
        JsonNode sigmas = k.get("sigmas");
        assertEquals(times.length, sigmas.size(), "no trailing 0: the run ends at the config's end noise level");
        assertEquals(sigmas.size() - 1, k.get("steps").asInt());
        for (int i = 0; i < times.length; i++) {
            double sigma = sigmas.get(i).asDouble();
            // the VP sigma of a discrete schedule is sqrt((1 - alphas_cumprod) / alphas_cumprod)
            assertEquals(s.sigma(times[i]) / s.alpha(times[i]), sigma, 1e-12 * sigma);
            assertEquals(times[i], ConfigExports.timeOf(s, sigma), 1e-9 * times[i]);
            if (i > 0) {
                assertTrue(sigma < sigmas.get(i - 1).asDouble());
            }
        }
        assertTrue(k.get("usage").asText().contains("sample_dpmpp_2m"), k.get("usage").asText());

        JsonNode comfy = json(as(reader).get("/api/v1/configs/" + id + "/export/comfyui").then().statusCode(200)
                .extract().asByteArray());
        // 2M with the official lowered last step: dpmpp_2m on all but the last sigma, then euler on the last two
        JsonNode stages = comfy.path("call").path("arguments").path("stages");
        assertEquals(2, stages.size());
        String[] first = stages.get(0).get("manualSigmas").asText().split(",\\s*");
        String[] second = stages.get(1).get("manualSigmas").asText().split(",\\s*");
        assertEquals(times.length - 1, first.length);
        assertEquals(2, second.length);
        for (int i = 0; i < first.length; i++) {
            assertEquals(sigmas.get(i).asDouble(), Double.parseDouble(first[i])); // plain decimal, exact
        }
        assertEquals(sigmas.get(times.length - 1).asDouble(), Double.parseDouble(second[1]));
    }

    @Test
    void diffusersExportCarriesTheSchedulerTheGridAndTheGuidance() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        ConfigCandidate c = baseline(m, s, 6, 7.5, 0.02);
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(c)).get(0);
        Response r = as(reader).get("/api/v1/configs/" + id + "/export/diffusers");
        r.then().statusCode(200).contentType("application/zip")
                .header("Content-Disposition", containsString("diffusers.zip"));
        Map<String, byte[]> files = unzip(r.asByteArray());
        assertEquals(List.of("scheduler/scheduler_config.json", "schedule.json", "call.json", "guider_config.json"),
                List.copyOf(files.keySet()));
        JsonNode sc = json(files.get("scheduler/scheduler_config.json"));
        assertEquals("DPMSolverMultistepScheduler", sc.get("_class_name").asText());
        assertEquals("dpmsolver++", sc.get("algorithm_type").asText());
        assertEquals("midpoint", sc.get("solver_type").asText());
        assertEquals(2, sc.get("solver_order").asInt());
        assertTrue(sc.get("lower_order_final").asBoolean(), "6 steps: official and diffusers both lower the last");
        assertEquals("sigma_min", sc.get("final_sigmas_type").asText());
        assertEquals("scaled_linear", sc.get("beta_schedule").asText());
        assertEquals(0.00085, sc.get("beta_start").asDouble());
        assertEquals(0.012, sc.get("beta_end").asDouble());
        assertEquals(1000, sc.get("num_train_timesteps").asInt());
        assertEquals("epsilon", sc.get("prediction_type").asText());
        JsonNode sched = json(files.get("schedule.json"));
        assertEquals("assign", sched.get("mode").asText(), "a logSNR grid is not on integer timesteps");
        double[] times = c.values().times();
        VpDiscreteSchedule vp = (VpDiscreteSchedule) s;
        assertEquals(times.length, sched.get("sigmas").size());
        assertEquals(times.length - 1, sched.get("timesteps").size());
        for (int i = 0; i < times.length; i++) {
            assertEquals(times[i], ConfigExports.timeOf(s, sched.get("sigmas").get(i).asDouble()), 1e-9 * times[i]);
            if (i < times.length - 1) {
                // timesteps are the network's timestep index n = t N' - 1; back to t via (n + 1) / N'
                assertEquals(times[i], (sched.get("timesteps").get(i).asDouble() + 1) / vp.gridSize(), 1e-12);
            }
        }
        JsonNode call = json(files.get("call.json"));
        assertTrue(call.get("code").asText().contains("scheduler.set_timesteps(num_inference_steps=6)"));
        assertEquals(7.5, json(files.get("guider_config.json")).get("guidance_scale").asDouble());
        // exports are immutable: same bytes, ETag = sha256, 304
        Response again = as(reader).get("/api/v1/configs/" + id + "/export/diffusers");
        assertArrayEquals(r.asByteArray(), again.asByteArray());
        assertEquals("\"" + CanonicalJson.sha256(r.asByteArray()) + "\"", r.header("ETag"));
        as(reader).header("If-None-Match", r.header("ETag")).get("/api/v1/configs/" + id + "/export/diffusers")
                .then().statusCode(304);
    }

    @Test
    void dpmSolverV3ExportHoldsTheStoredStatisticsInTheOfficialFourDimensionalLayout(
            @org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(v3(m, s, 6, 1.0, 0.01))).get(0);
        byte[] zip = as(reader).get("/api/v1/configs/" + id + "/export/dpmsolver-v3").then().statusCode(200)
                .extract().asByteArray();
        Map<String, byte[]> files = unzip(zip);
        assertEquals(List.of("l.npz", "sb.npz", "ems.json", "call.json"), List.copyOf(files.keySet()));
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Files.write(tmp.resolve(f.getKey()), f.getValue());
        }
        EmpiricalModelStatistics stored = ems(s);
        // the official layout: l.npz[l], sb.npz[s, b] of shape [K + 1, D, 1, 1]
        assertArrayEquals(new long[] {13, 4, 1, 1}, Npy.readNpz(tmp.resolve("l.npz")).get("l").shape());
        EmpiricalModelStatistics official = EmsNpz.read(tmp, stored.tStart(), stored.tEnd());
        assertArrayEquals(stored.l(), official.l());
        assertArrayEquals(stored.s(), official.s());
        assertArrayEquals(stored.b(), official.b());
        assertEquals(stored.grid(), official.grid());
        JsonNode call = json(files.get("call.json"));
        assertEquals("logSNR", call.path("arguments").path("constructor").get("skip_type").asText());
        // the native document's values decode to the same statistics
        JsonNode doc = json(as(reader).get("/api/v1/configs/" + id).asByteArray());
        assertEquals(stored, ((ConfigValues.DpmSolverV3) ConfigValues.parse(doc.get("values"))).ems());
        // statistics-only formats refuse other methods, DC formats refuse DPM-Solver-v3, and no stock scheduler
        // runs DPM-Solver-v3
        as(reader).get("/api/v1/configs/" + id + "/export/dc-ratios").then().statusCode(409)
                .body("detail", containsString("only DC-Solver")).body("errors[0].field", equalTo("format"));
        as(reader).get("/api/v1/configs/" + id + "/export/diffusers").then().statusCode(409)
                .body("detail", containsString("DPM-Solver-v3 needs its statistics"))
                .body("errors[1].field", equalTo("alternatives"))
                .body("errors[1].message", equalTo("json, dpmsolver-v3"));
    }

    @Test
    void dcExportsAreTheOfficialRatiosListAndCprIsRefused() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        double[] coeffs = new double[36];
        for (int i = 0; i < 36; i++) {
            coeffs[i] = 0.01 * (i - 18);
        }
        CascadePolynomialRegression cpr = new CascadePolynomialRegression(coeffs);
        List<Long> ids = publisher.publish(JOBS.incrementAndGet(), List.of(dc(m, s, 6, 7.5, 0.02, 0.05, cpr),
                dc(m, s, 8, 7.5, 0.02, 0.05, null), baseline(m, s, 6, 7.5, 0.03)));
        JsonNode ratios = json(as(reader).get("/api/v1/configs/" + ids.get(0) + "/export/dc-ratios").then()
                .statusCode(200).extract().asByteArray());
        double[][] expected = dcSet(s, 6, 0.05).values();
        assertEquals(6, ratios.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(expected[i][0], ratios.get(i).asDouble());
        }
        // the official CPR is read only by DC-Solver's diffusers fork, which runs another solver
        as(reader).get("/api/v1/configs/" + ids.get(0) + "/export/dc-cpr").then().statusCode(409)
                .body("detail", containsString("DCSolverMultistepScheduler"));
        as(reader).get("/api/v1/configs/" + ids.get(1) + "/export/dc-cpr").then().statusCode(409)
                .body("detail", containsString("without cascade polynomial"));
        // a fitted DC set runs in no stock scheduler
        as(reader).get("/api/v1/configs/" + ids.get(0) + "/export/diffusers").then().statusCode(409)
                .body("detail", containsString("would run plain unipc data bh2 o3"))
                .body("detail", containsString("json, dc-ratios"));
        as(reader).get("/api/v1/configs/" + ids.get(2) + "/export/dc-ratios").then().statusCode(409);
        as(reader).get("/api/v1/configs/" + ids.get(2) + "/export/dpmsolver-v3").then().statusCode(409)
                .body("detail", containsString("dpmsolver++ multistep o2"));
        as(reader).get("/api/v1/configs/" + ids.get(2) + "/export/onnx").then().statusCode(404)
                .body("detail", containsString("k-diffusion"));
        // json export = the document
        byte[] doc = as(reader).get("/api/v1/configs/" + ids.get(2)).asByteArray();
        assertArrayEquals(doc, as(reader).get("/api/v1/configs/" + ids.get(2) + "/export/json").asByteArray());
        assertEquals(new String(doc, StandardCharsets.UTF_8), CanonicalJson.write(json(doc)));
    }

    @Test
    void theExportListingMatchesWhatEachExportAnswers() throws IOException {
        long m = model(false);
        NoiseSchedule s = schedule(m);
        List<Long> ids = publisher.publish(JOBS.incrementAndGet(), List.of(integerBaseline(m, s, 7.5, 0.02),
                dc(m, s, 6, 7.5, 0.02, 0.05, null)));
        for (long id : ids) {
            JsonNode listing = json(as(reader).get("/api/v1/configs/" + id + "/exports").then().statusCode(200)
                    .extract().asByteArray());
            assertEquals(id, listing.get("configId").asLong());
            JsonNode formats = listing.get("formats");
            assertEquals(7, formats.size());
            for (JsonNode f : formats) {
                int status = as(reader).get(f.get("href").asText()).statusCode();
                if (f.get("supported").asBoolean()) {
                    assertEquals(200, status, f.toString());
                    assertFalse(f.get("code").asText().isBlank());
                } else {
                    assertEquals(409, status, f.toString());
                    assertTrue(f.get("alternatives").toString().contains("json"), f.toString());
                    as(reader).get(f.get("href").asText()).then().body("detail",
                            containsString(f.get("reason").asText()));
                }
            }
        }
        JsonNode first = json(as(reader).get("/api/v1/configs/" + ids.get(0) + "/exports").asByteArray());
        assertTrue(first.get("formats").get(1).get("supported").asBoolean(), "diffusers");
        assertTrue(first.get("formats").get(3).get("supported").asBoolean(), "comfyui");
        given().get("/api/v1/configs/" + ids.get(0) + "/exports").then().statusCode(401);
    }

    @Test
    void flowsExportToDiffusersWithFlowSigmasAndToSigmaLists() throws IOException {
        long m = model(FLOW_SPEC, false);
        NoiseSchedule s = schedule(m);
        SolverSpec euler = new EdmEuler();
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        ConfigValues v = ConfigValues.ofBaseline(Candidate.of(euler, sp), 6, grid(s, sp, 6));
        long id = publisher.publish(JOBS.incrementAndGet(), List.of(candidate(m, "baseline", "euler",
                JSON.createObjectNode(), 6, 1.0, "time_uniform", s, v, 0.1), baseline(m, s, 6, 1.0, 0.1,
                sp))).get(0);
        Map<String, byte[]> files = unzip(as(reader).get("/api/v1/configs/" + id + "/export/diffusers").then()
                .statusCode(200).extract().asByteArray());
        JsonNode sc = json(files.get("scheduler/scheduler_config.json"));
        assertEquals("DPMSolverMultistepScheduler", sc.get("_class_name").asText());
        assertEquals(1, sc.get("solver_order").asInt(), "an Euler step on a flow is a first-order DPM-Solver++ step");
        assertTrue(sc.get("use_flow_sigmas").asBoolean());
        assertEquals(3.0, sc.get("flow_shift").asDouble());
        assertEquals("sigma_min", sc.get("final_sigmas_type").asText());
        assertFalse(sc.has("beta_schedule"), "a flow has no betas");
        JsonNode sched = json(files.get("schedule.json"));
        double[] grid = ConfigValues.parse(json(as(reader).get("/api/v1/configs/" + id).asByteArray())
                .get("values")).times();
        for (int i = 0; i < grid.length; i++) {
            assertEquals(grid[i], sched.get("sigmas").get(i).asDouble(), 0.0, "flow sigma = t");
            if (i < grid.length - 1) {
                assertEquals(1000 * grid[i], sched.get("timesteps").get(i).asDouble(), 1e-12);
            }
        }
        JsonNode k = json(as(reader).get("/api/v1/configs/" + id + "/export/k-diffusion").then().statusCode(200)
                .extract().asByteArray());
        assertTrue(k.get("sigmaSpace").asText().startsWith("flow:"));
        for (int i = 0; i < grid.length; i++) {
            assertEquals(grid[i], k.get("sigmas").get(i).asDouble());
        }
        assertNotEquals(0.0, grid[grid.length - 1]);
        // 2M on a flow: k-diffusion works in log sigma, not the flow's half log-SNR
        long twoM = publisher.publish(JOBS.incrementAndGet(), List.of(baseline(m, s, 8, 1.0, 0.1, sp))).get(0);
        as(reader).get("/api/v1/configs/" + twoM + "/export/k-diffusion").then().statusCode(409)
                .body("detail", containsString("sigma = t"));
    }
}
