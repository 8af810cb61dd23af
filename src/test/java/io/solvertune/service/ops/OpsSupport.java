package io.solvertune.service.ops;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Tokens, a model, job submission and reading /q/metrics for the ops tests. */
final class OpsSupport {

    static final String GMM_SPEC = "{\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5, 2.0], [1.0, 0.0, -2.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2},"
            + " \"guidance\": {\"classLabel\": 1, \"scale\": 3.0}, \"dtype\": \"float64\"}";

    final String submitter;
    final String admin;
    final String model;

    OpsSupport(TokenService tokens, boolean registerModel) {
        submitter = tokens.create("ops-alice", Role.SUBMITTER).token();
        admin = tokens.create("ops-root", Role.ADMIN).token();
        model = "ops-model-" + UUID.randomUUID().toString().substring(0, 8);
        if (registerModel) {
            as(submitter).contentType("application/json")
                    .body("{\"name\": \"" + model + "\", \"spec\": " + GMM_SPEC + "}")
                    .post("/api/v1/models").then().statusCode(201);
        }
    }

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    long submit(String extra) {
        String spec = "{\"model\": \"" + model + "\", " + extra + "}";
        return ((Number) as(submitter).contentType("application/json")
                .header("Idempotency-Key", UUID.randomUUID().toString()).body(spec)
                .post("/api/v1/jobs").then().statusCode(202).extract().path("id")).longValue();
    }

    JsonPath job(long id) {
        return as(admin).get("/api/v1/jobs/" + id).then().statusCode(200).extract().jsonPath();
    }

    JsonPath await(long id, long timeoutMs, String... states) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        JsonPath j = job(id);
        while (!Set.of(states).contains(j.getString("state"))) {
            if (System.currentTimeMillis() > deadline) {
                fail("job " + id + " still " + j.getString("state") + " after " + timeoutMs + " ms: " + j.prettify());
            }
            Thread.sleep(50);
            j = job(id);
        }
        return j;
    }

    /** The Prometheus text of this process. */
    static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /**
     * The value of one sample: {@code name} and labels written as in the exposition, e.g.
     * {@code value(text, "solvertune_stages_queued", "kind=\"test-shard\"")}; NaN if absent.
     */
    static double value(String text, String name, String... labels) {
        Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(text);
        while (m.find()) {
            String have = m.group(2) == null ? "" : m.group(2);
            boolean all = true;
            for (String l : labels) {
                all &= have.contains(l);
            }
            if (all) {
                return Double.parseDouble(m.group(3));
            }
        }
        return Double.NaN;
    }
}
