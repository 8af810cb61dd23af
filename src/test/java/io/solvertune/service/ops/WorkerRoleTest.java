package io.solvertune.service.ops;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/** solvertune.role=worker: workers run, the API is not served, health and metrics are. */
@QuarkusTest
@TestProfile(OpsTestProfile.Worker.class)
class WorkerRoleTest {

    @Test
    void aWorkerProcessRunsWorkersAndRefusesTheApiWithProblemDetails() {
        given().get("/api/v1/solvers").then().statusCode(404).contentType("application/problem+json")
                .body("detail", containsString("solvertune.role=worker")).body("instance", equalTo("/api/v1/solvers"));
        given().get("/api/v1/configs/1").then().statusCode(404)
                .body("detail", containsString("workers only")); // before the download fast path
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/live").then().statusCode(200)
                .body("checks.find { it.name == 'job workers' }.data.alive", equalTo(2));
        assertEquals(2.0, OpsSupport.value(OpsSupport.metrics(), "solvertune_workers", "state=\"running\""));
    }
}
