package io.solvertune.service.limits;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Replays the fuzzer's findings of issue 14 (section 3): every bad input is a 4xx problem naming the field, every size
 * a caller controls is bounded, and a refused submission writes nothing.
 */
@QuarkusTest
class HardeningFuzzTest {

    private static final String PROBLEM = "application/problem+json";
    private static final String TWO_CLASSES = "{\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5], [1.0, 0.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2}, \"dtype\": \"float64\"}";

    @Inject
    TokenService tokens;

    @Inject
    AgroalDataSource ds;

    @TestHTTPResource("/")
    URL root;

    String admin;
    String submitter;
    String model;
    long jobsBefore;
    long stagesBefore;

    @BeforeEach
    void setUp() throws Exception {
        admin = tokens.create("fuzz-admin", Role.ADMIN).token();
        submitter = tokens.create("fuzz-submitter", Role.SUBMITTER).token();
        model = "fuzz-" + UUID.randomUUID().toString().substring(0, 8);
        as(submitter).contentType("application/json").body("{\"name\": \"" + model + "\", \"spec\": " + TWO_CLASSES
                + "}").post("/api/v1/models").then().statusCode(201);
        jobsBefore = count("SELECT count(*) FROM jobs");
        stagesBefore = count("SELECT count(*) FROM job_stages");
    }

    @AfterEach
    void nothingWasWritten() throws Exception {
        assertEquals(jobsBefore, count("SELECT count(*) FROM jobs"), "a refused request stored a job");
        assertEquals(stagesBefore, count("SELECT count(*) FROM job_stages"), "a refused request stored stages");
    }

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    /** A 4xx problem naming {@code field} (first of its errors). */
    static ValidatableResponse problem(ValidatableResponse r, int status, String field) {
        return r.statusCode(status).contentType(startsWith(PROBLEM)).body("status", equalTo(status))
                .body("errors.field", hasItem(field));
    }

    // ---- NUL and other control characters in parameters -------------------------------------------------------------

    @Test
    void controlCharactersInQueryParametersAre400NamingTheParameter() {
        for (String p : List.of("model", "method", "solver", "spacing")) {
            for (String bad : List.of("%00", "a%00b", "%01", "x%7F", "%1B")) {
                problem(as(admin).urlEncodingEnabled(false).get("/api/v1/configs?" + p + "=" + bad).then(), 400, p)
                        .body("detail", containsString("control character"));
            }
        }
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/configs/best?model=%00&nfe=5").then(), 400,
                "model");
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/models/" + model + "/configs/latest?method=a%00")
                .then(), 400, "method");
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/jobs?state=%00").then(), 400, "state");
        // parameter names too
        as(admin).urlEncodingEnabled(false).get("/api/v1/configs?mo%00del=x").then().statusCode(400)
                .contentType(startsWith(PROBLEM));
    }

    @Test
    void controlCharactersInPathSegmentsAre400NamingTheParameter() {
        problem(as(admin).urlEncodingEnabled(false).contentType("application/json").body("{\"description\": \"d\"}")
                .patch("/api/v1/models/" + model + "%00").then(), 400, "idOrName");
        problem(as(admin).urlEncodingEnabled(false).delete("/api/v1/models/a%00b").then(), 400, "idOrName");
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/models/a%00/configs/latest").then(), 400, "model");
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/models/" + model + "/configs/lat%00est").then(),
                400, "alias");
        problem(as(admin).urlEncodingEnabled(false).get("/api/v1/models/%01").then(), 400, "idOrName");
        as(admin).get("/api/v1/models/" + model).then().statusCode(200); // the model is untouched
    }

    @Test
    void nulInJsonBodiesIs400NamingTheField() {
        problem(as(admin).contentType("application/json").body("{\"description\": \"a\\u0000b\"}")
                .patch("/api/v1/models/" + model).then(), 400, "description");
        problem(as(admin).contentType("application/json").body("{\"name\": \"t\\u0000\", \"role\": \"reader\"}")
                .post("/api/v1/tokens").then(), 400, "name");
        problem(submit("{\"model\": \"" + model + "\\u0000\", \"methods\": [\"dc\"], \"nfe\": [5], \"guidance\": [1]}"),
                400, "model");
        problem(submit("{\"model\": \"" + model + "\", \"methods\": [\"dc\\u0000\"], \"nfe\": [5], \"guidance\": [1]}"),
                400, "methods[0]");
        problem(submit("{\"model\": \"" + model + "\", \"met\\u0000\": 1}"), 400, "body");
        // a number beyond a double reads as infinity, which jsonb refuses
        problem(submit("{\"model\": \"" + model + "\", \"methods\": [\"dc\"], \"nfe\": [5], \"guidance\": [1e400]}"),
                400, "guidance[0]");
        // tabs and line breaks are fine in text
        as(admin).contentType("application/json").body("{\"description\": \"line one\\nline\\ttwo\"}")
                .patch("/api/v1/models/" + model).then().statusCode(200);
        as(submitter).contentType("application/json").header("Idempotency-Key", "k\u0001")
                .body("{}").post("/api/v1/jobs").then().statusCode(400).contentType(startsWith(PROBLEM));
    }

    // ---- job specs --------------------------------------------------------------------------------------------------

    ValidatableResponse submit(String spec) {
        return as(submitter).contentType("application/json").header("Idempotency-Key", UUID.randomUUID().toString())
                .body(spec).post("/api/v1/jobs").then();
    }

    String spec(String extra) {
        return "{\"model\": \"" + model + "\", \"methods\": [\"dc\"], \"nfe\": [5], \"guidance\": [1]"
                + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    @Test
    void hugeAndTinyGuidanceIs400() {
        for (String g : List.of("1e200", "1e308", "1e-300")) {
            problem(submit("{\"model\": \"" + model + "\", \"methods\": [\"dc\"], \"nfe\": [5], \"guidance\": [" + g
                    + "]}"), 400, "guidance[0]");
        }
    }

    @Test
    void planSizeIsBoundedForEverySubmitter() {
        long t0 = System.nanoTime();
        problem(submit(spec("\"seeds\": {\"train\": 200000, \"heldOut\": 200000, \"shardSize\": 1}")), 400,
                "seeds.train").body("errors.field", hasItem("seeds.heldOut"));
        problem(submit(spec("\"seeds\": {\"train\": 10000000, \"heldOut\": 10000000}")), 400, "seeds.train");
        problem(submit(spec("\"seeds\": {\"train\": 50000, \"heldOut\": 100, \"shardSize\": 1}")), 400,
                "seeds.shardSize");
        problem(submit("{\"model\": \"" + model + "\", \"methods\": [\"dc\"], \"nfe\": [5], \"guidance\": [1, 2, 3, 4,"
                + " 5, 6, 7, 8, 9]}"), 400, "guidance");
        assertTrue((System.nanoTime() - t0) / 1e9 < 10, "refusals are quick");
    }

    @Test
    void acceptedThoughInvalidIsNowRefused() {
        problem(submit(spec("\"classLabel\": 99")), 400, "classLabel")
                .body("errors[0].message", containsString("2 classes"));
        problem(submit("{\"model\": \"" + model + "\", \"methods\": [\"dc\"], \"nfe\": [4294967301], \"guidance\": [1]}"),
                400, "nfe[0]");
        problem(submit(spec("\"seeds\": {\"heldOutBase\": 9223372036854775807}")), 400, "seeds.heldOutBase");
        problem(as(admin).contentType("application/json").body("{} x").patch("/api/v1/models/" + model).then(), 400,
                "body");
        problem(as(admin).contentType("application/json").body("{\"description\": \"a\"} {}")
                .patch("/api/v1/models/" + model).then(), 400, "body");
    }

    @Test
    void badLearnedTimestepsAre400NamingTheField() {
        problem(submit(spec("\"timesteps\": \"sometimes\"")), 400, "timesteps");
        problem(submit(spec("\"timesteps\": {\"evaluations\": 1000000}")), 400, "timesteps.evaluations");
        problem(submit(spec("\"timesteps\": {\"mode\": \"learned\", \"variants\": 0, \"sigma\": -1}")), 400,
                "timesteps.variants").body("errors.field", hasItem("timesteps.sigma"));
        problem(submit(spec("\"timesteps\": {\"gitsRow\": 3}")), 400, "timesteps.gitsRow");
    }

    @Test
    void everySpecErrorIsReported() {
        submit("{\"model\": \"" + model + "\", \"methods\": [\"magic\"], \"nfe\": [0], \"guidance\": [-1]}")
                .statusCode(400).contentType(startsWith(PROBLEM))
                .body("errors.field", equalTo(List.of("methods[0]", "nfe[0]", "guidance[0]")));
    }

    @Test
    void scheduleLengthIsBounded() {
        for (String n : List.of("1e8", "400000000", "100001")) {
            problem(as(submitter).contentType("application/json").body("{\"name\": \"big-" + UUID.randomUUID()
                    .toString().substring(0, 8) + "\", \"spec\": {\"schedule\": {\"type\": \"vp_discrete\", \"preset\":"
                    + " \"linear\", \"numTrainTimesteps\": " + n + "}, \"model\": {\"type\": \"gaussian\", \"mean\": [0],"
                    + " \"variances\": [1]}}}").post("/api/v1/models").then(), 400, "spec.schedule.numTrainTimesteps");
        }
        problem(as(submitter).queryParam("name", "ts-" + UUID.randomUUID().toString().substring(0, 8))
                .queryParam("schedule", "{\"type\": \"vp_discrete\", \"preset\": \"linear\", \"numTrainTimesteps\": "
                        + "400000000}").queryParam("inputShape", "2").queryParam("predictionType", "noise")
                .contentType("application/octet-stream").body(new byte[] {1, 2, 3})
                .post("/api/v1/models/torchscript").then(), 400, "schedule.numTrainTimesteps");
    }

    // ---- sizes of the request itself ---------------------------------------------------------------------------------

    @Test
    void aLongQueryStringIs414Problem() {
        problem(as(admin).get("/api/v1/configs?model=" + "x".repeat(20_000)).then(), 414, "uri");
    }

    @Test
    void largeHeadersAre431Problem() {
        problem(as(admin).header("X-Padding", "y".repeat(20_000)).get("/api/v1/solvers").then(), 431, "headers");
    }

    @Test
    void anAnnouncedHugeBodyIs413ProblemUnread() throws Exception {
        for (String type : List.of("application/json", "application/octet-stream")) {
            String response = raw("POST /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + submitter
                    + "\r\nContent-Type: " + type + "\r\nContent-Length: 2147483648\r\n\r\n{");
            assertTrue(response.startsWith("HTTP/1.1 413"), response);
            assertTrue(response.toLowerCase().contains("content-type: application/problem+json"), response);
            assertTrue(response.contains("\"field\":\"body\""), response);
        }
    }

    @Test
    void aJsonBodyOverTheLimitIs413Problem() {
        String big = "{\"model\": \"" + model + "\", \"pad\": \"" + "z".repeat(1_100_000) + "\"}";
        problem(as(submitter).contentType("application/json").body(big).post("/api/v1/jobs").then(), 413, "body");
        // the same without a length (chunked): counted while it is read
        problem(as(submitter).contentType("application/json")
                .body(new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))).post("/api/v1/jobs")
                .then(), 413, "body");
    }

    /**
     * A client that writes its whole (refused) body before reading must still get the 413: the server answers at
     * once, then reads the rest of the body and closes only when it has ended (lingering close). Without that the
     * client's writes after the close fail with "broken pipe" / "connection reset" — the race a plain HTTP client
     * sometimes loses.
     */
    @Test
    void aRefusedBodyIsReadToItsEndSoItsSenderSeesThe413() throws Exception {
        byte[] body = ("{\"pad\": \"" + "z".repeat(1_100_000) + "\"}").getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket(root.getHost(), root.getPort())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/v1/jobs HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + submitter
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder answer = new StringBuilder();
            byte[] buf = new byte[8192];
            int n;
            while (!answer.toString().contains("}") && (n = in.read(buf)) > 0) {
                answer.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            assertTrue(answer.toString().startsWith("HTTP/1.1 413"), answer.toString());
            assertTrue(answer.toString().contains("\"field\":\"body\""), answer.toString());
            // the answer came before the body: the server is still reading it, so the whole body goes through
            for (int off = 0; off < body.length; off += 64 * 1024) {
                out.write(body, off, Math.min(64 * 1024, body.length - off));
            }
            out.flush();
            // and the connection ends once the body has (end of stream, not a reset)
            assertEquals(-1, in.read());
        }
    }

    private String raw(String request) throws Exception {
        try (Socket s = new Socket(root.getHost(), root.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            StringBuilder sb = new StringBuilder();
            int n;
            while (!sb.toString().contains("}") && (n = in.read(buf)) > 0) {
                sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            return sb.toString();
        }
    }

    private long count(String sql) throws Exception {
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
