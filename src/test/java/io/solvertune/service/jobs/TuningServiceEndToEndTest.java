package io.solvertune.service.jobs;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.cli.Cli;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service path with the real tuning pipeline: register a model, submit a job with the CLI client, wait
 * for it with the progress bar, read its status, and download the published configs it produced.
 */
@QuarkusTest
class TuningServiceEndToEndTest {

    static final String SPEC = "{'model': 'e2e-gmm', 'methods': ['dode'], 'nfe': [5],"
            + " 'guidance': [7.5], 'spacings': ['logSNR'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16}}";

    @Inject
    TokenService tokens;

    @TestHTTPResource("/")
    URL server;

    record Run(int code, String out, String err) {
    }

    Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void registerSubmitWaitDownload(@TempDir Path dir) throws Exception {
        String submitter = tokens.create("e2e", Role.SUBMITTER).token();
        String url = server.toString();
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body("{\"name\": \"e2e-gmm\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models")
                .then().statusCode(201);

        Path spec = dir.resolve("job.json");
        Files.writeString(spec, SPEC.replace('\'', '"'));
        Run submit = cli("submit", "--server", url, "--token", submitter, "--spec", spec.toString(),
                "--idempotency-key", "e2e-1");
        assertEquals(0, submit.code(), submit.err());
        assertTrue(submit.out().startsWith("submitted job "), submit.out());
        String job = submit.out().split("\\s+")[2];
        Run again = cli("submit", "--server", url, "--token", submitter, "--spec", spec.toString(),
                "--idempotency-key", "e2e-1");
        assertTrue(again.out().startsWith("existing job " + job + " "), again.out());

        Run wait = cli("wait", job, "--server", url, "--token", submitter, "--interval", "0.5", "--timeout", "600");
        assertEquals(0, wait.code(), wait.out() + wait.err());
        assertTrue(wait.err().contains("[") && wait.err().contains("stages"), "progress bar: " + wait.err());
        assertTrue(wait.out().contains("SUCCEEDED; published configs ["), wait.out());

        Run status = cli("status", job, "--server", url, "--token", submitter, "--json");
        JsonNode j = new ObjectMapper().readTree(status.out());
        List<Long> ids = new java.util.ArrayList<>();
        j.path("result").path("configIds").forEach(n -> ids.add(n.asLong()));
        assertTrue(!ids.isEmpty(), status.out());
        assertTrue(j.path("stages").size() > 5, "a DAG of stages");
        j.path("stages").forEach(st -> assertTrue(!st.path("name").asText().endsWith("/sample-grids"),
                "no sample-grid stage for a model whose samples are not images: " + st));

        // every published config is downloadable; the baseline's sigmas export
        boolean sawBaseline = false;
        for (long id : ids) {
            JsonNode c = new ObjectMapper().readTree(given().header("Authorization", "Bearer " + submitter)
                    .get("/api/v1/configs/" + id).then().statusCode(200).extract().asString());
            assertEquals(5, c.path("nfe").asInt(), c.toString());
            // the config API serves the median and p99 of its per-seed held-out errors (its verdicts' too)
            JsonNode m = c.path("metrics");
            assertTrue(m.path("heldOutMedian").isNumber() && m.path("heldOutP99").isNumber(), m.toString());
            assertTrue(m.path("heldOutMedian").asDouble() <= m.path("heldOutP99").asDouble(), m.toString());
            if (!"baseline".equals(c.path("method").asText())) {
                assertTrue(m.path("baseMedian").isNumber() && m.path("baselineP99").isNumber(), m.toString());
            }
            Path out = dir.resolve("c" + id + ".json");
            Run dl = cli("download", Long.toString(id), "--server", url, "--token", submitter, "--out", out.toString());
            assertEquals(0, dl.code(), dl.err());
            assertTrue(Files.size(out) > 100);
            if ("baseline".equals(c.path("method").asText())) {
                sawBaseline = true;
                Run kd = cli("download", Long.toString(id), "--format", "k-diffusion", "--server", url, "--token",
                        submitter, "--out", dir.resolve("sigmas.json").toString());
                assertEquals(0, kd.code(), kd.err());
            }
        }
        assertTrue(sawBaseline, "the best untuned baseline is published with the tuned sets");
        given().header("Authorization", "Bearer " + submitter).get("/api/v1/configs/best?model=e2e-gmm&nfe=5&guidance=7.5")
                .then().statusCode(200).body("nfe", equalTo(5));
    }

    /**
     * {@code consistency-solver} over REST: a bad hyperparameter is a 400 naming {@code consistency.<field>} and
     * nothing is stored; a tiny job trains, publishes its per-NFE table with the training provenance, and the config
     * downloads (JSON; stock consumers refuse it naming the reason).
     */
    @Test
    void consistencySolverJobOverRest(@TempDir Path dir) throws Exception {
        String submitter = tokens.create("e2e-cs", Role.SUBMITTER).token();
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body("{\"name\": \"e2e-gmm-cs\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models")
                .then().statusCode(201);
        String spec = CONSISTENCY_SPEC.replace('\'', '"');
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body(spec.replace("\"group\": 4", "\"group\": 1")).post("/api/v1/jobs")
                .then().statusCode(400).body("errors.field", org.hamcrest.Matchers.hasItem("consistency.group"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body(spec.replace("\"iterations\": 6, \"noises\": 2, \"group\": 4",
                        "\"iterations\": 100000, \"noises\": 8, \"group\": 256"))
                .post("/api/v1/jobs").then().statusCode(400)
                .body("errors.field", org.hamcrest.Matchers.hasItem("consistency.iterations"));
        long id = ((Number) given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body(spec).post("/api/v1/jobs").then().statusCode(202).extract().path("id")).longValue();
        Run wait = cli("wait", Long.toString(id), "--server", server.toString(), "--token", submitter, "--interval",
                "0.5", "--timeout", "600");
        assertEquals(0, wait.code(), wait.out() + wait.err());
        JsonNode j = new ObjectMapper().readTree(given().header("Authorization", "Bearer " + submitter)
                .get("/api/v1/jobs/" + id).then().statusCode(200).extract().asString());
        assertEquals("SUCCEEDED", j.path("state").asText(), j.toString());
        boolean sawStage = false;
        for (JsonNode st : j.path("stages")) {
            sawStage |= st.path("name").asText().equals("g1/fit-consistency-solver");
        }
        assertTrue(sawStage, j.toString());
        long cs = -1;
        for (JsonNode n : j.path("result").path("configIds")) {
            JsonNode c = new ObjectMapper().readTree(given().header("Authorization", "Bearer " + submitter)
                    .get("/api/v1/configs/" + n.asLong()).then().statusCode(200).extract().asString());
            if (c.path("method").asText().equals("consistency-solver")) {
                cs = n.asLong();
                assertEquals("CONSISTENCY", c.at("/values/coefficientSet/method").asText());
                assertEquals(6, c.at("/provenance/training/iterations").asInt());
                assertEquals(6, c.at("/provenance/training/rewardCurve").size());
                assertEquals("BEATS", c.at("/metrics/vsBase").asText());
                assertEquals(id, c.at("/provenance/jobId").asLong());
                assertTrue(c.at("/metrics/heldOutMedian").isNumber(), c.toString());
            }
        }
        // deterministic given the seeds: after 6 iterations it beats its base (DDIM) on the 12 held-out seeds and has
        // the lowest held-out mean of the job (0.0051 vs the best untuned baseline's 0.0067): published, recommended
        assertTrue(cs > 0, "the table validated and was published: " + j);
        given().header("Authorization", "Bearer " + submitter).get("/api/v1/configs/best?model=e2e-gmm-cs&nfe=5&guidance=1")
                .then().statusCode(200).header("X-Config-Id", "" + cs).body("method", equalTo("consistency-solver"));
        Path out = dir.resolve("cs.json");
        Run dl = cli("download", Long.toString(cs), "--server", server.toString(), "--token", submitter, "--out",
                out.toString());
        assertEquals(0, dl.code(), dl.err());
        assertTrue(Files.readString(out).contains("\"CONSISTENCY\""));
        Run kd = cli("download", Long.toString(cs), "--format", "k-diffusion", "--server", server.toString(),
                "--token", submitter, "--out", dir.resolve("sigmas.json").toString());
        assertEquals(2, kd.code(), kd.out());
        assertTrue(kd.err().contains("consistency coefficients change every step"), kd.err());
    }

    /**
     * {@code consistency.trainer} over REST: {@code cmaes} (the command's ablation) and {@code direct} for a registered
     * TorchScript network (no input gradient in DJL) are 400s naming {@code consistency.trainer}.
     */
    @Test
    void aTrainerTheModelCannotRunIsRefusedNamingTheField() throws Exception {
        String submitter = tokens.create("e2e-trainer", Role.SUBMITTER).token();
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body("{\"name\": \"e2e-unet-direct\", \"spec\": {\"preset\": \"fmnist-unet\"}}")
                .post("/api/v1/models").then().statusCode(201).body("kind", equalTo("torchscript"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body("{\"name\": \"e2e-gmm-direct\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}")
                .post("/api/v1/models").then().statusCode(201);
        String direct = CONSISTENCY_SPEC.replace("'consistency': {", "'consistency': {'trainer': 'direct', ")
                .replace('\'', '"');
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body(direct.replace("e2e-gmm-cs", "e2e-unet-direct")).post("/api/v1/jobs").then().statusCode(400)
                .body("errors.field", equalTo(java.util.List.of("consistency.trainer")))
                .body("errors[0].message", org.hamcrest.Matchers.containsString("differentiable in DJL"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/json")
                .body(direct.replace("e2e-gmm-cs", "e2e-gmm-direct").replace("\"direct\"", "\"cmaes\""))
                .post("/api/v1/jobs").then().statusCode(400)
                .body("errors.field", equalTo(java.util.List.of("consistency.trainer")));
    }

    static final String CONSISTENCY_SPEC = "{'model': 'e2e-gmm-cs', 'methods': ['consistency-solver'], 'nfe': [5],"
            + " 'guidance': [1], 'spacings': ['karras'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 60, 'checkSeeds': 0, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 32, 'fitRows': 16},"
            + " 'consistency': {'iterations': 6, 'noises': 2, 'group': 4, 'hidden': 8, 'minNfe': 4, 'maxNfe': 6,"
            + " 'trainRows': 8}}";

    @Test
    void clientErrorsAreOneLineAndNameTheField(@TempDir Path dir) throws Exception {
        String submitter = tokens.create("e2e-bad", Role.SUBMITTER).token();
        String url = server.toString();
        Path spec = dir.resolve("bad.json");
        Files.writeString(spec, SPEC.replace("'nfe': [5]", "'nfe': [0]").replace("e2e-gmm", "gmm-nope")
                .replace('\'', '"'));
        Run bad = cli("submit", "--server", url, "--token", submitter, "--spec", spec.toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().startsWith("error: 4"), bad.err());
        Run noToken = cli("status", "1", "--server", url, "--token", "st_wrong");
        assertEquals(2, noToken.code());
        assertTrue(noToken.err().contains("401"), noToken.err());
        Run noServer = cli("status", "1", "--server", "http://127.0.0.1:9", "--token", submitter);
        assertEquals(3, noServer.code(), noServer.err());
        assertTrue(noServer.err().contains("cannot connect"), noServer.err());
        Run badId = cli("status", "abc", "--server", url, "--token", submitter);
        assertEquals(2, badId.code());
        assertTrue(badId.err().contains("JOB: expected a job id"), badId.err());
    }
}
