package io.solvertune.service.dashboard;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The dashboard's read endpoints (visibility, flags, limits) and the HTTP rules of its static pages. */
@QuarkusTest
class DashboardApiTest {

    @Inject
    TokenService tokens;

    @Inject
    ConfigPublisher publisher;

    @Inject
    AgroalDataSource ds;

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    @Test
    void pagesCarryAStrictPolicyAndTheLibrariesComeFromTheJar() {
        given().redirects().follow(false).get("/dashboard").then().statusCode(303)
                .header("Location", "/dashboard/");
        String csp = given().get("/dashboard/").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("app.js")).body(not(containsString("<script>")))
                .body(not(containsString("style=")))
                .header("X-Content-Type-Options", "nosniff").extract().header("Content-Security-Policy");
        assertEquals(DashboardRoutes.CSP, csp);
        assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), csp);
        assertTrue(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), csp);
        given().get("/dashboard/app.js").then().statusCode(200).header("Content-Security-Policy", DashboardRoutes.CSP)
                .body(not(containsString(".innerHTML")))
                .body(not(containsString("outerHTML"))).body(not(containsString("insertAdjacentHTML")))
                .body(not(containsString("document.write"))).body(not(containsString("eval(")));
        // uPlot from its webjar, not a CDN
        given().get("/webjars/uplot/1.6.30/dist/uPlot.iife.min.js").then().statusCode(200)
                .body(containsString("uPlot"));
        given().get("/dashboard/index.html").then().statusCode(200).body(not(containsString("http://")))
                .body(not(containsString("https://")));
    }

    @Test
    void overviewShowsOwnJobsToSubmittersAndWorkersToAdmins() throws Exception {
        TokenService.CreatedToken alice = tokens.create("dash-alice", Role.SUBMITTER);
        TokenService.CreatedToken bob = tokens.create("dash-bob", Role.SUBMITTER);
        String admin = tokens.create("dash-admin", Role.ADMIN).token();
        String reader = tokens.create("dash-reader", Role.READER).token();
        DashboardFixtures.jobs(ds, alice.info().id(), "dash-alice", "m-alice", 30, 6);
        DashboardFixtures.jobs(ds, bob.info().id(), "dash-bob", "m-bob", 2, 6);

        JsonPath a = as(alice.token()).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        // alice's 30 jobs: j % 10 == 0 failed (0, 10, 20), j % 25 == 1 running (1, 26)
        assertEquals(3, a.getInt("jobs.FAILED"));
        assertEquals(2, a.getInt("jobs.RUNNING"));
        assertEquals(25, a.getInt("jobs.SUCCEEDED"));
        assertEquals(3, a.getInt("stages.FAILED"));
        assertEquals(2, a.getInt("stages.RUNNING"));
        assertEquals(2 * 2, a.getInt("stages.PENDING"));
        assertTrue(a.getList("running.model").stream().allMatch("m-alice"::equals), a.prettify());
        assertEquals(2, a.getList("running").size());
        assertEquals(List.of(6L, 6L), a.getList("running.stagesTotal", Long.class));
        assertEquals(List.of(3L, 3L), a.getList("running.stagesSucceeded", Long.class));
        assertEquals("stage g7.5/fit-dc failed: fit diverged at step 3", a.getString("recentFailures[0].firstErrorLine"));
        assertEquals(3, a.getList("recentFailures").size());
        assertTrue(a.get("workers") == null, "workers are for admins");

        JsonPath b = as(bob.token()).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        assertEquals(1, b.getInt("jobs.FAILED"));
        assertEquals(1, b.getInt("jobs.RUNNING"));
        assertTrue(b.getList("recentFailures.model").stream().allMatch("m-bob"::equals));

        JsonPath r = as(admin).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        assertTrue(r.getInt("jobs.FAILED") >= 4);
        List<Map<String, Object>> workers = r.getList("workers");
        assertTrue(workers.stream().anyMatch(w -> String.valueOf(w.get("worker")).startsWith("bench-host:1:")),
                r.prettify());
        assertTrue(workers.stream().allMatch(w -> w.get("leaseExpiresAt") != null));

        as(reader).get("/api/v1/dashboard/overview").then().statusCode(403);
        given().get("/api/v1/dashboard/overview").then().statusCode(401);
    }

    @Test
    void modelConfigsListsCurrentConfigsWithMetricsAndFlags() {
        String admin = tokens.create("dash-admin2", Role.ADMIN).token();
        String reader = tokens.create("dash-reader2", Role.READER).token();
        String name = "dash-model-" + UUID.randomUUID().toString().substring(0, 8);
        long model = DashboardFixtures.model(name, null);
        List<Long> first = DashboardFixtures.publish(publisher, model, 3, new int[] {5, 6}, new double[] {1, 7.5}, 2);
        assertEquals(24, first.size());
        // a second publish of the same keys: new versions become latest, the old ones are no longer current
        List<Long> second = DashboardFixtures.publish(publisher, model, 3, new int[] {5, 6}, new double[] {1, 7.5}, 2);
        as(admin).put("/api/v1/configs/" + first.get(0) + "/stable").then().statusCode(200);

        JsonPath j = as(reader).get("/api/v1/dashboard/models/" + name + "/configs").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(48, j.getLong("versions"));
        assertEquals(List.of(1.0f, 7.5f), j.getList("guidances"));
        List<Long> ids = j.getList("configs.id", Long.class);
        assertTrue(ids.containsAll(second), "every latest version");
        assertTrue(ids.contains(first.get(0)), "the stable one");
        assertEquals(25, ids.size(), "old versions that nothing points at are left out");
        Map<String, Object> stable = j.getMap("configs.find { it.id == " + first.get(0) + " }");
        assertEquals(true, stable.get("stable"));
        assertEquals(false, stable.get("latest"));
        // recommended: the lowest MSE per (nfe, guidance) is the highest method index, variant 0
        List<Map<String, Object>> rec = j.getList("configs.findAll { it.recommended }");
        assertEquals(4, rec.size(), j.prettify());
        assertTrue(rec.stream().allMatch(c -> "dode".equals(c.get("method"))), rec.toString());
        Map<String, Object> any = j.getMap("configs[0]");
        assertTrue(((Map<?, ?>) any.get("metrics")).containsKey("heldOutStdErr"));

        as(reader).get("/api/v1/dashboard/models/no-such-model/configs").then().statusCode(404);
        given().get("/api/v1/dashboard/models/" + name + "/configs").then().statusCode(401);
    }

    @Test
    void firstErrorLine() {
        assertEquals("boom", DashboardResource.firstLine("  boom\n  at x\n"));
        assertEquals(null, DashboardResource.firstLine(null));
        assertEquals(501, DashboardResource.firstLine("x".repeat(900)).length());
    }
}
