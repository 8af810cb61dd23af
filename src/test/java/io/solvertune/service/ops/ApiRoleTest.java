package io.solvertune.service.ops;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.jobs.WorkerPool;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** solvertune.role=api: the API is served, no worker runs, a submitted job waits for a worker elsewhere. */
@QuarkusTest
@TestProfile(OpsTestProfile.Api.class)
class ApiRoleTest {

    @Inject
    WorkerPool pool;
    @Inject
    TokenService tokens;

    @Test
    void anApiProcessServesTheApiAndRunsNoWorkers() throws Exception {
        assertTrue(pool.owners().isEmpty());
        assertEquals(0, pool.configured());
        given().get("/api/v1/solvers").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200)
                .body("checks.find { it.name == 'job workers' }.data.configured", equalTo(0));
        OpsSupport s = new OpsSupport(tokens, true);
        long id = s.submit("\"shards\": 1, \"steps\": 1, \"stepMillis\": 1");
        Thread.sleep(1000);
        assertEquals("QUEUED", s.job(id).getString("state"), "nobody here claims it");
        assertEquals(0.0, OpsSupport.value(OpsSupport.metrics(), "solvertune_workers", "state=\"running\""));
    }
}
