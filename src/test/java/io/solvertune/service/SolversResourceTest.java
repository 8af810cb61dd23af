package io.solvertune.service;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class SolversResourceTest {

    @Test
    void listsEverySolverOfTheCatalogWithItsParameters() {
        JsonPath body = given().when().get("/api/v1/solvers")
                .then().statusCode(200).contentType(startsWith("application/json"))
                .extract().jsonPath();

        List<Map<String, Object>> solvers = body.getList("solvers");
        List<SolverCatalog.Descriptor> catalog = SolverCatalog.all();
        assertEquals(catalog.stream().map(SolverCatalog.Descriptor::name).toList(),
                solvers.stream().map(s -> s.get("name")).toList());
        for (SolverCatalog.Descriptor d : catalog) {
            Map<String, Object> s = solvers.stream().filter(x -> d.name().equals(x.get("name"))).findFirst()
                    .orElseThrow();
            assertEquals(d.description(), s.get("description"));
            assertEquals(d.prediction(), s.get("prediction"));
            assertParameters(d.parameters(), body.getList("solvers.find { it.name == '" + d.name()
                    + "' }.parameters"));
        }
        assertParameters(SolverCatalog.SAMPLING_PARAMETERS, body.getList("samplingParameters"));
    }

    private static void assertParameters(List<SolverCatalog.Parameter> expected, List<Map<String, Object>> actual) {
        assertNotNull(actual);
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            SolverCatalog.Parameter p = expected.get(i);
            Map<String, Object> a = actual.get(i);
            assertEquals(p.name(), a.get("name"));
            assertEquals(p.type(), a.get("type"));
            assertEquals(p.allowed(), a.get("allowed"));
            assertEquals(p.defaultValue(), a.get("defaultValue"));
            assertEquals(p.description(), a.get("description"));
        }
    }

    @Test
    void describesOneSolver() {
        given().when().get("/api/v1/solvers/dpmsolver++")
                .then().statusCode(200)
                .body("name", equalTo("dpmsolver++"))
                .body("parameters.name", equalTo(List.of("method", "order", "solver_type")));
    }

    @Test
    void unknownSolverIs404ProblemNamingTheKnownSolvers() {
        given().when().get("/api/v1/solvers/dpm-solver-9000")
                .then().statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("about:blank"))
                .body("title", equalTo("Not Found"))
                .body("status", equalTo(404))
                .body("instance", equalTo("/api/v1/solvers/dpm-solver-9000"))
                .body("detail", containsString("dpm-solver-9000"))
                .body("detail", containsString(String.join(", ", SolverCatalog.names())));
    }
}
