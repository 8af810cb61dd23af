package io.solvertune.service.configs;

import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.numerics.solver.dpm.DpmSolver;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.Header;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.registry.ModelReadAccessChanged;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.job.ResolvedModel;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The in-memory alias and {@code best} path ({@link ConfigFastPath} with {@link ConfigPointers}): answered from memory
 * once warm, the same bytes and headers as the resources, pointers that move at once in this process and within the
 * TTL when another process moves them, and exactly the resources' access rules.
 */
@QuarkusTest
class ConfigFastPathTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong JOBS = new AtomicLong(System.currentTimeMillis() % 1_000_000_000L * 1000 + 500);
    private static final AtomicLong NAMES = new AtomicLong();

    @Inject
    ConfigPublisher publisher;

    @Inject
    TokenService tokens;

    @Inject
    ConfigFastPath fastPath;

    @Inject
    ConfigPointers pointers;

    @Inject
    Event<ModelReadAccessChanged> accessChanged;

    @Inject
    EntityManager em;

    @ConfigProperty(name = "solvertune.configs.pointer-cache.ttl")
    Duration pointerTtl;

    String reader;
    String admin;

    @BeforeEach
    void tokens() {
        reader = tokens.create("fast-reader", Role.READER).token();
        admin = tokens.create("fast-admin", Role.ADMIN).token();
    }

    // ---- fixtures ----------------------------------------------------------------------------------------------------

    private record Model(long id, String name) {
    }

    private static Model model(boolean anonymousRead) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = new ModelEntity();
            m.name = "fast-model-" + NAMES.incrementAndGet() + "-" + System.nanoTime();
            m.kind = "analytic";
            m.spec = JSON.readTree("{\"preset\": \"gmm-sd-d32\"}");
            m.contentHash = CanonicalJson.sha256(m.name);
            m.schedule = JSON.valueToTree(ResolvedModel.specOf(m.spec).schedule());
            m.predictionType = "noise";
            m.anonymousRead = anonymousRead;
            m.persist();
            return new Model(m.id, m.name);
        });
    }

    private static NoiseSchedule schedule(Model m) {
        return QuarkusTransaction.requiringNew().call(() ->
                ResolvedModel.specOf(ModelEntity.<ModelEntity>findById(m.id()).spec).schedule().build());
    }

    /** A validated untuned-baseline candidate (DPM-Solver++ 2M) of a model at (NFE, guidance) with a held-out MSE. */
    private static ConfigCandidate baseline(Model m, int nfe, double guidance, double mse, String solverType) {
        NoiseSchedule s = schedule(m);
        TimestepSpacing spacing = new TimestepSpacing.LogSnr();
        Candidate c = Candidate.of(DpmSolver.plusPlusMultistep(2), spacing);
        ConfigValues v = ConfigValues.ofBaseline(c, nfe, spacing.times(s, s.defaultTStart(), s.defaultTEnd(), nfe));
        ConfigMetrics metrics = ConfigMetrics.heldOut(mse);
        ConfigProvenance prov = ConfigProvenance.codeVersion("test");
        return new ConfigCandidate(m.id(), "baseline", "dpmsolver++", JSON.valueToTree(Map.of("method", "multistep",
                "order", "2", "solver_type", solverType)), nfe, guidance, spacing.id(), s.defaultTStart(),
                s.defaultTEnd(), v, metrics, prov, true, mse);
    }

    private long publish(ConfigCandidate c) {
        return publisher.publish(JOBS.incrementAndGet(), List.of(c)).get(0);
    }

    private static RequestSpecification as(String token) {
        return token == null ? given() : given().header("Authorization", "Bearer " + token);
    }

    private static String latest(Model m, String query) {
        return "/api/v1/models/" + m.name() + "/configs/latest" + query;
    }

    private static String best(Model m, String query) {
        return "/api/v1/configs/best?model=" + m.name() + query;
    }

    /** Sends the request until the fast path answers it (the first ones warm the caches); fails if it never does. */
    private Response fast(Supplier<Response> request) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            long before = fastPath.answered();
            Response r = request.get();
            if (fastPath.answered() == before + 1) {
                return r;
            }
            assertTrue(System.nanoTime() < deadline, "never answered from memory: " + r.statusCode() + " "
                    + r.asString());
        }
    }

    /** Sends the request with the model's pointers and flag forgotten, so that the resource answers it. */
    private Response viaResource(Model m, Supplier<Response> request) {
        pointers.clear();
        accessChanged.fire(new ModelReadAccessChanged(m.id()));
        long before = fastPath.answered();
        Response r = request.get();
        assertEquals(before, fastPath.answered(), "answered by the resource");
        return r;
    }

    /** Sends the request and asserts that the resource, not the fast path, answered it. */
    private Response notFast(Supplier<Response> request) {
        long before = fastPath.answered();
        Response r = request.get();
        assertEquals(before, fastPath.answered(), "the fast path answered " + r.statusCode());
        return r;
    }

    private static Map<String, List<String>> headers(Response r) {
        Map<String, List<String>> out = new TreeMap<>();
        for (Header h : r.headers()) {
            out.computeIfAbsent(h.getName().toLowerCase(java.util.Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
        }
        return out;
    }

    private static void assertSameAnswer(Response resource, Response fast, String what) {
        assertEquals(resource.statusCode(), fast.statusCode(), what);
        assertEquals(headers(resource), headers(fast), what);
        assertArrayEquals(resource.asByteArray(), fast.asByteArray(), what);
    }

    // ---- tests -------------------------------------------------------------------------------------------------------

    @Test
    void aliasAndBestAreAnsweredFromMemoryOnceWarm() {
        Model m = model(false);
        long a = publish(baseline(m, 6, 7.5, 0.02, "dpmsolver"));
        as(admin).put("/api/v1/configs/" + a + "/stable").then().statusCode(200);
        fast(() -> as(reader).get(latest(m, "?nfe=6&guidance=7.5"))).then().statusCode(200)
                .header("X-Config-Id", "" + a).header("X-Config-Alias", "latest");
        fast(() -> as(reader).get(best(m, "&nfe=6&guidance=7.5"))).then().statusCode(200)
                .header("X-Config-Id", "" + a).header("X-Config-Alias", "recommended");
        fast(() -> as(reader).get("/api/v1/models/" + m.id() + "/configs/stable")).then().statusCode(200)
                .header("X-Config-Id", "" + a).header("X-Config-Alias", "stable");
        // once warm, every lookup is answered on the event loop (which refuses blocking database work)
        long before = fastPath.answered();
        for (int i = 0; i < 10; i++) {
            as(reader).get(latest(m, "?nfe=6&guidance=7.5")).then().statusCode(200).header("X-Config-Id", "" + a);
            as(reader).get(best(m, "&nfe=6&guidance=7.5")).then().statusCode(200).header("X-Config-Id", "" + a);
            as(reader).get("/api/v1/models/" + m.id() + "/configs/stable").then().statusCode(200);
        }
        assertEquals(before + 30, fastPath.answered());
    }

    @Test
    void fastAnswersAreByteForByteTheResourcesAnswers() {
        Model closed = model(false);
        Model open = model(true);
        long c6 = publish(baseline(closed, 6, 7.5, 0.02, "dpmsolver"));
        long o5 = publish(baseline(open, 5, 1.0, 0.03, "dpmsolver"));
        as(admin).put("/api/v1/configs/" + c6 + "/stable").then().statusCode(200);
        String etag = as(reader).get("/api/v1/configs/" + c6).header("ETag");
        String openEtag = given().get("/api/v1/configs/" + o5).header("ETag");
        Map<String, Supplier<Response>> requests = new java.util.LinkedHashMap<>();
        requests.put("latest", () -> as(reader).get(latest(closed, "?method=baseline&nfe=6&guidance=7.5")));
        requests.put("latest 304", () -> as(reader).header("If-None-Match", etag).get(latest(closed, "?nfe=6")));
        requests.put("latest other etag", () -> as(reader).header("If-None-Match", "\"" + "0".repeat(64) + "\"")
                .get(latest(closed, "?nfe=6")));
        requests.put("stable by id", () -> as(reader).get("/api/v1/models/" + closed.id() + "/configs/stable"));
        requests.put("best", () -> as(reader).get(best(closed, "&nfe=6&guidance=7.5")));
        requests.put("best 304", () -> as(reader).header("If-None-Match", "W/" + etag)
                .get(best(closed, "&nfe=6&guidance=7.5")));
        requests.put("by id", () -> as(reader).get("/api/v1/configs/" + c6));
        requests.put("by id 304", () -> as(reader).header("If-None-Match", etag).get("/api/v1/configs/" + c6));
        requests.put("anonymous latest", () -> given().get(latest(open, "")));
        requests.put("anonymous best, default guidance", () -> given().get(best(open, "&nfe=5")));
        requests.put("anonymous best 304", () -> given().header("If-None-Match", "*").get(best(open, "&nfe=5")));
        requests.put("anonymous by id", () -> given().header("Accept", "application/json").get("/api/v1/configs/" + o5));
        requests.put("token on an open model", () -> as(reader).header("If-None-Match", openEtag)
                .get(latest(open, "?nfe=5&guidance=1")));
        for (Map.Entry<String, Supplier<Response>> e : requests.entrySet()) {
            Model m = e.getKey().contains("anonymous") || e.getKey().contains("open") ? open : closed;
            Response resource = viaResource(m, e.getValue());
            assertTrue(resource.statusCode() == 200 || resource.statusCode() == 304, e.getKey());
            assertSameAnswer(resource, fast(e.getValue()), e.getKey());
        }
    }

    @Test
    void aPublishOrPromotionInThisProcessMovesThePointersAtOnce() {
        Model m = model(false);
        long v1 = publish(baseline(m, 6, 7.5, 0.02, "dpmsolver"));
        String latest = latest(m, "?nfe=6&guidance=7.5");
        String best = best(m, "&nfe=6&guidance=7.5");
        String stable = "/api/v1/models/" + m.name() + "/configs/stable?nfe=6";
        as(admin).put("/api/v1/configs/" + v1 + "/stable").then().statusCode(200);
        for (String url : List.of(latest, best, stable)) {
            fast(() -> as(reader).get(url)).then().header("X-Config-Id", "" + v1);
        }
        // a new version of the key with a lower held-out MSE: latest and recommended move, stable stays
        long v2 = publish(baseline(m, 6, 7.5, 0.01, "dpmsolver"));
        as(reader).get(latest).then().statusCode(200).header("X-Config-Id", "" + v2).header("X-Config-Version", "2");
        as(reader).get(best).then().statusCode(200).header("X-Config-Id", "" + v2);
        as(reader).get(stable).then().statusCode(200).header("X-Config-Id", "" + v1);
        for (String url : List.of(latest, best)) {
            fast(() -> as(reader).get(url)).then().header("X-Config-Id", "" + v2);
        }
        fast(() -> as(reader).get(stable)).then().header("X-Config-Id", "" + v1);
        as(admin).put("/api/v1/configs/" + v2 + "/stable").then().statusCode(200);
        as(reader).get(stable).then().statusCode(200).header("X-Config-Id", "" + v2);
        fast(() -> as(reader).get(stable)).then().header("X-Config-Id", "" + v2);
        // a second key makes the unfiltered lookup ambiguous at once: the resource's 400 names both
        long other = publish(baseline(m, 6, 7.5, 0.03, "taylor"));
        as(reader).get(latest).then().statusCode(400).body("detail", containsString("2 keys"))
                .body("detail", containsString("" + other));
        as(reader).get(best).then().statusCode(200).header("X-Config-Id", "" + other); // that publish's best
    }

    @Test
    void aPointerMovedByAnotherProcessIsSeenWithinTheTtl() throws InterruptedException {
        Model m = model(false);
        long v1 = publish(baseline(m, 6, 7.5, 0.02, "dpmsolver"));
        long v2 = publish(baseline(m, 6, 7.5, 0.01, "dpmsolver"));
        String latest = latest(m, "?nfe=6&guidance=7.5");
        String best = best(m, "&nfe=6&guidance=7.5");
        fast(() -> as(reader).get(latest)).then().header("X-Config-Id", "" + v2);
        fast(() -> as(reader).get(best)).then().header("X-Config-Id", "" + v2);
        // another instance on the same database moves both pointers back to v1 (no event reaches this process)
        QuarkusTransaction.requiringNew().run(() -> {
            em.createNativeQuery("UPDATE config_aliases SET config_id = :c WHERE model_id = :m AND alias = 'latest'")
                    .setParameter("c", v1).setParameter("m", m.id()).executeUpdate();
            em.createNativeQuery("UPDATE config_recommendations SET config_id = :c WHERE model_id = :m")
                    .setParameter("c", v1).setParameter("m", m.id()).executeUpdate();
        });
        long committed = System.nanoTime();
        // every snapshot read before the commit has expired one TTL later. Meanwhile fetch the config by id, which
        // keeps the token verdict and the model's flag warm (so the next alias lookup would be answered from memory
        // if the snapshot were still there) without touching the snapshot (no refresh-ahead read renews it)
        while (System.nanoTime() - committed <= pointerTtl.toNanos()) {
            as(reader).get("/api/v1/configs/" + v2).then().statusCode(200);
            Thread.sleep(50);
        }
        as(reader).get(latest).then().statusCode(200).header("X-Config-Id", "" + v1);
        as(reader).get(best).then().statusCode(200).header("X-Config-Id", "" + v1);
        fast(() -> as(reader).get(latest)).then().header("X-Config-Id", "" + v1);
        fast(() -> as(reader).get(best)).then().header("X-Config-Id", "" + v1);
    }

    @Test
    void accessIsExactlyTheResources() {
        Model closed = model(false);
        Model open = model(true);
        long c = publish(baseline(closed, 6, 1.0, 0.02, "dpmsolver"));
        long o = publish(baseline(open, 6, 1.0, 0.02, "dpmsolver"));
        TokenService.CreatedToken shortLived = tokens.create("fast-short-lived", Role.READER);
        List<String> closedUrls = List.of(latest(closed, "?nfe=6"), best(closed, "&nfe=6"), "/api/v1/configs/" + c);
        for (String url : closedUrls) {
            fast(() -> as(shortLived.token()).get(url)).then().statusCode(200);
            fast(() -> as(admin).get(url)).then().statusCode(200); // every role includes reader
            notFast(() -> given().get(url)).then().statusCode(401).header("WWW-Authenticate", containsString("Bearer"));
            notFast(() -> given().header("Authorization", "Basic abc").get(url)).then().statusCode(401);
            notFast(() -> given().header("Authorization", "Bearer").get(url)).then().statusCode(401);
            notFast(() -> as("st_not-a-token").get(url)).then().statusCode(401);
            notFast(() -> as("st_not-a-token").get(url)).then().statusCode(401); // remembered as unknown, still 401
        }
        tokens.revoke(shortLived.info().id());
        for (String url : closedUrls) {
            notFast(() -> as(shortLived.token()).get(url)).then().statusCode(401);
        }
        List<String> openUrls = List.of(latest(open, "?nfe=6"), best(open, "&nfe=6"), "/api/v1/configs/" + o);
        for (String url : openUrls) {
            fast(() -> given().get(url)).then().statusCode(200)
                    .header("Cache-Control", containsString("public"));
            notFast(() -> as("st_not-a-token").get(url)).then().statusCode(401); // a broken token is reported
        }
        // the admin closes the open model: anonymous reads stop at once, on every path
        as(admin).contentType("application/json").body("{\"anonymousRead\": false}")
                .patch("/api/v1/models/" + open.id()).then().statusCode(200);
        for (String url : openUrls) {
            given().get(url).then().statusCode(401);
            fast(() -> as(reader).get(url)).then().statusCode(200).header("Cache-Control", containsString("private"));
        }
    }

    @Test
    void unusualRequestsAreLeftToTheResource() {
        Model m = model(false);
        long a = publish(baseline(m, 6, 7.5, 0.02, "dpmsolver"));
        publish(baseline(m, 8, 7.5, 0.02, "dpmsolver"));
        String base = "/api/v1/models/" + m.name() + "/configs/latest";
        fast(() -> as(reader).get(base + "?nfe=6")).then().header("X-Config-Id", "" + a);
        fast(() -> as(reader).get(best(m, "&nfe=6&guidance=7.5"))).then().header("X-Config-Id", "" + a);
        fast(() -> as(reader).get("/api/v1/configs/" + a)).then().statusCode(200);
        // content negotiation: the resources answer 406 where JSON is not acceptable
        for (String url : List.of(base + "?nfe=6", best(m, "&nfe=6&guidance=7.5"), "/api/v1/configs/" + a)) {
            notFast(() -> as(reader).header("Accept", "text/html").get(url)).then().statusCode(406);
            notFast(() -> as(reader).header("Accept", "application/json;q=0.5, text/html;q=0.1").get(url)).then()
                    .statusCode(200);
        }
        // errors keep their problem details
        notFast(() -> as(reader).get(base)).then().statusCode(400).body("detail", containsString("2 keys"));
        notFast(() -> as(reader).get(base + "?nfe=5")).then().statusCode(404).body("detail", containsString("nfe=5"));
        notFast(() -> as(reader).get(base + "?nfe=x")).then().statusCode(400).body("errors[0].field", equalTo("nfe"));
        notFast(() -> as(reader).get(base + "?nfe=6&guidance=-1")).then().statusCode(400)
                .body("errors[0].field", equalTo("guidance"));
        notFast(() -> as(reader).get("/api/v1/models/" + m.name() + "/configs/newest?nfe=6")).then().statusCode(400)
                .body("errors[0].field", equalTo("alias"));
        notFast(() -> as(reader).get(best(m, "&nfe=6"))).then().statusCode(404)
                .body("detail", containsString("nfe 6 guidance 7.5"));
        notFast(() -> as(reader).get(best(m, ""))).then().statusCode(400).body("errors[0].field", equalTo("nfe"));
        notFast(() -> as(reader).get("/api/v1/configs/best?nfe=6")).then().statusCode(400)
                .body("errors[0].field", equalTo("model"));
        notFast(() -> as(reader).get("/api/v1/models/no-such-model/configs/latest")).then().statusCode(404);
        // encodings, repeated or unknown parameters: the resource decides (and here answers the same config)
        notFast(() -> as(reader).urlEncodingEnabled(false).get(base + "?nfe=%36")).then().statusCode(200)
                .header("X-Config-Id", "" + a);
        notFast(() -> as(reader).get(base + "?nfe=6&nfe=6")).then().statusCode(200).header("X-Config-Id", "" + a);
        notFast(() -> as(reader).get(base + "?nfe=6&cachebuster=1")).then().statusCode(200)
                .header("X-Config-Id", "" + a);
        notFast(() -> as(reader).urlEncodingEnabled(false).get("/api/v1/models/" + m.name().replace("-", "%2D")
                + "/configs/latest?nfe=6")).then().statusCode(200).header("X-Config-Id", "" + a);
        notFast(() -> as(reader).urlEncodingEnabled(false).get("/api/v1/models/" + m.id()
                + "/configs/latest?nfe=6&guidance=7.5&")).then().statusCode(200).header("X-Config-Id", "" + a);
    }
}
