package io.solvertune.service;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** RFC 9457 problem details for every kind of failure (endpoints in {@link ProblemProbeResource}). */
@QuarkusTest
class ProblemDetailsTest {

    private static final String PROBLEM = "application/problem+json";

    @Test
    void unknownRouteIs404Problem() {
        for (String path : List.of("/no/such/route", "/api/v1/nothing-here", "/api/v1/solvers/ddim/extra")) {
            given().accept("application/json").when().get(path)
                    .then().statusCode(404).contentType(PROBLEM)
                    .body("type", equalTo("about:blank"))
                    .body("title", equalTo("Not Found"))
                    .body("status", equalTo(404))
                    .body("detail", equalTo("No resource matches GET " + path))
                    .body("instance", equalTo(path))
                    .body("errors", nullValue());
        }
    }

    @Test
    void wrongMethodIs405Problem() {
        given().contentType("application/json").body("{}").when().post("/api/v1/solvers")
                .then().statusCode(405).contentType(PROBLEM)
                .body("title", equalTo("Method Not Allowed"))
                .body("detail", containsString("POST"));
    }

    @Test
    void unsupportedMediaTypeIs415Problem() {
        given().contentType("text/plain").body("hello").when().post("/test-probe/echo")
                .then().statusCode(415).contentType(PROBLEM)
                .body("status", equalTo(415))
                .body("title", equalTo("Unsupported Media Type"))
                .body("detail", containsString("text/plain"));
    }

    @Test
    void wellFormedBodyPasses() {
        given().contentType("application/json")
                .body("{\"name\":\"a\",\"steps\":3,\"mode\":\"FAST\",\"nested\":{\"kind\":\"k\",\"scale\":1.5},"
                        + "\"values\":[1,2]}")
                .when().post("/test-probe/echo")
                .then().statusCode(200).body("nested.scale", equalTo(1.5f));
    }

    @Test
    void syntaxErrorIs400NamingLineAndField() {
        given().contentType("application/json").body("{\n  \"name\": \"a\",\n  \"nested\": {\"kind\": tru }\n}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("type", equalTo("urn:solvertune:problem:malformed-body"))
                .body("detail", allOf(startsWith("Malformed JSON"), containsString("line 3")))
                .body("errors[0].field", equalTo("nested.kind"));
    }

    @Test
    void truncatedBodyIs400WithoutParserInternals() {
        given().contentType("application/json").body("{\"name\": \"a\"")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("detail", allOf(startsWith("Malformed JSON (line 1"), not(containsString("Source")),
                        not(containsString("REDACTED"))));
    }

    @Test
    void wrongTypeIs400NamingTheFieldPath() {
        given().contentType("application/json").body("{\"name\":\"a\",\"values\":[1.0, \"x\"]}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors[0].field", equalTo("values[1]"))
                .body("errors[0].message", containsString("a number"))
                .body("detail", allOf(containsString("values[1]"), containsString("line 1"),
                        not(containsString("java.lang"))));

        given().contentType("application/json").body("{\"steps\":\"ten\"}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors[0].field", equalTo("steps"))
                .body("errors[0].message", containsString("an integer"));

        given().contentType("application/json").body("{\"mode\":\"SLOW\"}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors[0].field", equalTo("mode"))
                .body("errors[0].message", containsString("FAST, EXACT"));

        given().contentType("application/json").body("{\"nested\":[1]}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors[0].field", equalTo("nested"))
                .body("errors[0].message", equalTo("expected an object"));
    }

    @Test
    void constructorValidationIs400WithItsMessage() {
        given().contentType("application/json").body("{\"nested\":{\"kind\":\"k\",\"scale\":-1}}")
                .when().post("/test-probe/echo")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors[0].field", equalTo("nested.scale"))
                .body("errors[0].message", equalTo("must be >= 0, got -1.0"));
    }

    @Test
    void illegalArgumentIs400WithFieldFromMessage() {
        given().when().get("/test-probe/illegal-argument")
                .then().statusCode(400).contentType(PROBLEM)
                .body("type", equalTo("urn:solvertune:problem:invalid-request"))
                .body("detail", equalTo("nfe: must be positive, got -3"))
                .body("errors", hasSize(1))
                .body("errors[0].field", equalTo("nfe"))
                .body("errors[0].message", equalTo("must be positive, got -3"));
    }

    @Test
    void invalidRequestListsAllFields() {
        given().when().get("/test-probe/invalid-request")
                .then().statusCode(400).contentType(PROBLEM)
                .body("errors.field", equalTo(List.of("nfe", "spacing")));
    }

    @Test
    void unexpectedErrorIs500WithoutInternals() {
        given().when().get("/test-probe/boom")
                .then().statusCode(500).contentType(PROBLEM)
                .body("title", equalTo("Internal Server Error"))
                .body("detail", containsString("reference"))
                .body(not(containsString("DEADBEEF")))
                .body(not(containsString("IllegalStateException")))
                .body(not(containsString("\tat ")));
    }

    @Test
    void jsonErrorInOwnCodeIs500() {
        given().when().get("/test-probe/bad-stored-json")
                .then().statusCode(500).contentType(PROBLEM)
                .body("title", equalTo("Internal Server Error"));
    }

    @Test
    void duplicateKeyIs409Conflict() {
        String body = "{\"name\":\"dup-" + UUID.randomUUID() + "\"}";
        given().contentType("application/json").body(body).when().post("/test-probe/models")
                .then().statusCode(200);
        given().contentType("application/json").body(body).when().post("/test-probe/models")
                .then().statusCode(409).contentType(PROBLEM)
                .body("type", equalTo("urn:solvertune:problem:conflict"))
                .body("detail", containsString("already exists"))
                .body("errors[0].field", equalTo("name"));
    }

    @Test
    void trailingContentAfterTheBodyIs400NamingTheBody() {
        for (String body : List.of("{\"name\":\"a\"} x", "{} {}", "{\"name\":\"a\"}]")) {
            given().contentType("application/json").body(body).when().post("/test-probe/echo")
                    .then().statusCode(400).contentType(PROBLEM)
                    .body("errors[0].field", equalTo("body"));
        }
    }
}
