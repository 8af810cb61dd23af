package io.solvertune.service.jobs;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.fail;

import io.agroal.api.AgroalDataSource;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;

/** Tokens, a registered model, submission and waiting helpers for the job tests. */
abstract class JobsTestSupport {

    static final String GMM_SPEC = "{\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5, 2.0], [1.0, 0.0, -2.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2},"
            + " \"guidance\": {\"classLabel\": 1, \"scale\": 3.0}, \"dtype\": \"float64\"}";

    @Inject
    TokenService tokens;

    @Inject
    AgroalDataSource ds;

    @Inject
    WorkerPool pool;

    String submitter;
    String otherSubmitter;
    String admin;
    String model;

    @BeforeEach
    void setUp() {
        submitter = tokens.create("alice", Role.SUBMITTER).token();
        otherSubmitter = tokens.create("bob", Role.SUBMITTER).token();
        admin = tokens.create("root", Role.ADMIN).token();
        model = "jobs-model-" + UUID.randomUUID().toString().substring(0, 8);
        as(submitter).contentType("application/json")
                .body("{\"name\": \"" + model + "\", \"spec\": " + GMM_SPEC + "}")
                .post("/api/v1/models").then().log().ifValidationFails().statusCode(201);
        pool.start();
    }

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    /** Submits and returns the job id (202 expected). */
    long submit(String spec) {
        return ((Number) as(submitter).contentType("application/json")
                .header("Idempotency-Key", UUID.randomUUID().toString()).body(spec)
                .post("/api/v1/jobs").then().statusCode(202).extract().path("id")).longValue();
    }

    String spec(String extra) {
        return "{\"model\": \"" + model + "\"" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    /** The job as an admin sees it. */
    JsonPath job(long id) {
        return as(admin).get("/api/v1/jobs/" + id).then().statusCode(200).extract().jsonPath();
    }

    /** Waits until the job is in one of {@code states}. */
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

    long count(String sql, Object... args) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    int execute(String sql, Object... args) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }
}
