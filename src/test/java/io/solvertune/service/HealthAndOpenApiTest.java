package io.solvertune.service;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class HealthAndOpenApiTest {

    @Test
    void healthIsUpWithDatasourceAndTorchEngine() {
        given().when().get("/q/health")
                .then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItem("Database connections health check"))
                .body("checks.find { it.name == 'DJL PyTorch engine' }.status", equalTo("UP"))
                .body("checks.find { it.name == 'DJL PyTorch engine' }.data.version", notNullValue());
        given().when().get("/q/health/ready")
                .then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void openApiListsTheSolverEndpoints() {
        given().queryParam("format", "json").when().get("/q/openapi")
                .then().statusCode(200)
                .body("paths.'/api/v1/solvers'.get", notNullValue())
                .body("paths.'/api/v1/solvers/{name}'.get.responses.'404'.content.'application/problem+json'",
                        notNullValue())
                .body("info.title", equalTo("solvertune API"));
        given().when().get("/q/openapi").then().statusCode(200).body(containsString("/api/v1/solvers"));
    }
}
