package io.solvertune.service.jobs;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** The default profile installs no planner: the service starts, and submissions are refused with 503. */
@QuarkusTest
class JobsWithoutPlannerTest {

    @Inject
    TokenService tokens;

    @Test
    void submissionsAreRefusedWith503WhenNoPlannerIsInstalled() {
        String token = tokens.create("carol", Role.SUBMITTER).token();
        given().header("Authorization", "Bearer " + token).contentType("application/json")
                .body("{\"model\": \"any\"}").post("/api/v1/jobs").then().statusCode(503)
                .contentType("application/problem+json").body("detail", equalTo("no job planner installed"));
        given().header("Authorization", "Bearer " + token).get("/api/v1/jobs").then().statusCode(200);
    }
}
