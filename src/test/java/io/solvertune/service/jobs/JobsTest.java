package io.solvertune.service.jobs;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.solvertune.service.jobs.testing.JobsTestProfile;
import io.solvertune.service.jobs.testing.TestStages;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The job engine with the test planner/executors: submission, DAG execution, leases, cancel/retry, SSE, logs. */
@QuarkusTest
@TestProfile(JobsTestProfile.class)
class JobsTest extends JobsTestSupport {

    @Inject
    JobEngine engine;

    @Test
    void runsTheDagInOrderAndPublishesTheValidatedCandidates() throws Exception {
        long id = submit(spec("\"seed\": 7, \"shards\": 4, \"steps\": 3, \"stepMillis\": 20, \"publish\": true"));
        JsonPath j = await(id, 30_000, "SUCCEEDED", "FAILED", "CANCELLED");
        assertEquals("SUCCEEDED", j.getString("state"), j.prettify());
        List<Map<String, Object>> stages = j.getList("stages");
        assertEquals(List.of("shard-000", "shard-001", "shard-002", "shard-003", "fit", "validate", "publish"),
                stages.stream().map(s -> s.get("name")).toList());
        for (Map<String, Object> s : stages) {
            assertEquals("SUCCEEDED", s.get("state"));
            assertEquals(1, s.get("attempts"), "no stage ran twice: " + s);
            assertEquals(1, TestStages.RUNS.get(id + "/" + s.get("name")), "runs of " + s.get("name"));
        }
        // every stage started after its dependencies ended
        for (int i = 0; i < 4; i++) {
            assertTrue(started(id, "fit") >= ended(id, String.format("shard-%03d", i)));
        }
        assertTrue(started(id, "validate") >= ended(id, "fit"));
        assertTrue(started(id, "publish") >= ended(id, "validate"));
        assertEquals(1.0, j.getDouble("progress.fraction"));
        assertEquals(7, j.getInt("progress.stagesSucceeded"));
        List<Integer> ids = j.getList("result.configIds");
        assertEquals(2, ids.size(), "the two validated candidates are published, the third is not");
        assertEquals(2, count("SELECT count(*) FROM solver_configs WHERE id = ANY (?) AND model_id = ?",
                ids.stream().map(Integer::longValue).toArray(Long[]::new), j.getLong("model.id")));
        assertEquals(3, j.getList("result.output").size());
    }

    @Test
    void twoWorkersInOneJvmNeverRunTheSameStage() throws Exception {
        long id = submit(spec("\"shards\": 24, \"steps\": 2, \"stepMillis\": 15"));
        JsonPath j = await(id, 30_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", j.getString("state"));
        List<Map<String, Object>> stages = j.getList("stages");
        assertEquals(26, stages.size());
        for (Map<String, Object> s : stages) {
            assertEquals(1, TestStages.RUNS.get(id + "/" + s.get("name")), "runs of " + s.get("name"));
            assertEquals(1, s.get("attempts"));
        }
        assertEquals(2, pool.owners().size());
    }

    @Test
    void theSameIdempotencyKeyNeverCreatesASecondJob() throws Exception {
        String key = "nightly-" + UUID.randomUUID();
        String body = spec("\"shards\": 1, \"steps\": 1");
        int id = as(submitter).contentType("application/json").header("Idempotency-Key", key).body(body)
                .post("/api/v1/jobs").then().statusCode(202)
                .header("Location", containsString("/api/v1/jobs/")).extract().path("id");
        as(submitter).contentType("application/json").header("Idempotency-Key", key).body(body)
                .post("/api/v1/jobs").then().statusCode(200).header("Location", containsString("/api/v1/jobs/" + id))
                .body("id", equalTo(id));
        // the same spec written differently is the same spec
        as(submitter).contentType("application/json").header("Idempotency-Key", key)
                .body("{\"steps\": 1, \"shards\": 1, \"model\": \"" + model + "\"}")
                .post("/api/v1/jobs").then().statusCode(200).body("id", equalTo(id));
        as(submitter).contentType("application/json").header("Idempotency-Key", key)
                .body(spec("\"shards\": 2, \"steps\": 1"))
                .post("/api/v1/jobs").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("different spec"));
        assertEquals(1, count("SELECT count(*) FROM jobs WHERE idempotency_key = ?", key));
        // keys are per token
        int other = as(otherSubmitter).contentType("application/json").header("Idempotency-Key", key).body(body)
                .post("/api/v1/jobs").then().statusCode(202).extract().path("id");
        assertTrue(other != id);
        await(id, 20_000, "SUCCEEDED");
        await(other, 20_000, "SUCCEEDED");
    }

    @Test
    void anInvalidSpecIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        long before = count("SELECT count(*) FROM jobs");
        post(spec("\"shards\": \"many\"")).statusCode(400).body("errors.field", hasItem("shards"));
        post(spec("\"shards\": 0")).statusCode(400).body("errors.field", hasItem("shards"));
        post("{\"shards\": 1}").statusCode(400).body("errors.field", hasItem("model"));
        post("{\"model\": \"no-such-model\"}").statusCode(400).body("errors.field", hasItem("model"));
        post("{\"model\": [1]}").statusCode(400).body("errors.field", hasItem("model"));
        post("[1, 2]").statusCode(400);
        post("{\"model\": ").statusCode(400);
        assertEquals(before, count("SELECT count(*) FROM jobs"));
        as(admin.replace("st_", "st_x")).contentType("application/json").body(spec(""))
                .post("/api/v1/jobs").then().statusCode(401);
    }

    private io.restassured.response.ValidatableResponse post(String body) {
        return as(submitter).contentType("application/json").header("Idempotency-Key", UUID.randomUUID().toString())
                .body(body).post("/api/v1/jobs").then().contentType("application/problem+json");
    }

    @Test
    void expiredLeasesAreReclaimedCountingAttemptsUntilTheStageFailsThenRetryRunsItAgain() throws Exception {
        pool.stop();
        cancelEverything();
        long id = submit(spec("\"shards\": 1, \"steps\": 1, \"stepMillis\": 1"));
        JobStore store = engine.store();
        for (int attempt = 1; attempt <= 3; attempt++) {
            ClaimedStage c = store.claim("ghost-" + attempt).orElseThrow();
            assertEquals(id, c.jobId());
            assertEquals("shard-000", c.stage().name());
            assertEquals(attempt, c.attempt());
            assertTrue(store.claim("ghost-other").isEmpty(), "a leased stage is not claimed again");
            assertEquals(0, store.reclaimExpired(), "the lease has not expired yet");
            // the ghost worker dies: its lease runs out
            execute("UPDATE job_stages SET lease_expires_at = now() - interval '1 second' WHERE job_id = ?", id);
            assertEquals(1, store.reclaimExpired());
            assertFalse(store.complete("ghost-" + attempt, id, "shard-000", JsonNodeFactory.instance.objectNode()),
                    "a worker whose stage was reclaimed cannot complete it");
        }
        JsonPath j = job(id);
        assertEquals("FAILED", j.getString("state"));
        assertTrue(j.getString("error").contains("no attempts left"), j.getString("error"));
        assertEquals("FAILED", j.getString("stages[0].state"));
        assertEquals(3, j.getInt("stages[0].attempts"));
        assertEquals("CANCELLED", j.getString("stages[1].state"));
        as(submitter).get("/api/v1/jobs/" + id + "/logs").then().statusCode(200)
                .body("lines.message", hasItem(containsString("expired during attempt 1 (worker lost)")));

        as(submitter).post("/api/v1/jobs/" + id + "/retry").then().statusCode(200).body("state", equalTo("QUEUED"));
        pool.start();
        j = await(id, 20_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", j.getString("state"));
        assertEquals(1, j.getInt("stages[0].attempts"), "retry resets the attempts");
        assertNull(j.get("error"));
    }

    @Test
    void cancelStopsTheRunningStageAndRetryResumesFromItsCheckpoint() throws Exception {
        long id = submit(spec("\"shards\": 1, \"steps\": 40, \"stepMillis\": 50"));
        long deadline = System.currentTimeMillis() + 20_000;
        while (job(id).getLong("stages[0].done") < 2) {
            if (System.currentTimeMillis() > deadline) {
                fail("no progress: " + job(id).prettify());
            }
            Thread.sleep(50);
        }
        as(otherSubmitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(404);
        as(submitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(200)
                .body("state", equalTo("CANCELLED")).body("stages.state", not(hasItem("RUNNING")));
        long until = System.currentTimeMillis() + 5_000;
        while (!TestStages.CANCELLED.contains(id + "/shard-000")) {
            if (System.currentTimeMillis() > until) {
                fail("the running stage did not see the cancellation");
            }
            Thread.sleep(20);
        }
        as(submitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(409);
        as(submitter).post("/api/v1/jobs/" + id + "/retry").then().statusCode(200).body("state", equalTo("QUEUED"));
        as(submitter).post("/api/v1/jobs/" + id + "/retry").then().statusCode(409);
        assertEquals("SUCCEEDED", await(id, 20_000, "SUCCEEDED", "FAILED").getString("state"));
        as(submitter).get("/api/v1/jobs/" + id + "/logs").then().statusCode(200)
                .body("lines.message", hasItem(containsString("cancelled by alice")))
                .body("lines.message", hasItem(containsString("resuming shard-000 at step")));
    }

    @Test
    void aWorkerShuttingDownHandsItsStageBackWithoutUsingAnAttempt() throws Exception {
        long id = submit(spec("\"shards\": 1, \"steps\": 200, \"stepMillis\": 50"));
        long deadline = System.currentTimeMillis() + 20_000;
        while (job(id).getLong("stages[0].done") < 2) {
            if (System.currentTimeMillis() > deadline) {
                fail("no progress: " + job(id).prettify());
            }
            Thread.sleep(50);
        }
        pool.stop();
        JsonPath j = job(id);
        assertTrue(j.getLong("stages[0].done") < 200, "stopped mid-stage");
        assertEquals("READY", j.getString("stages[0].state"), j.prettify());
        assertEquals(0, j.getInt("stages[0].attempts"));
        pool.start();
        j = await(id, 20_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", j.getString("state"));
        assertEquals(1, j.getInt("stages[0].attempts"));
        as(submitter).get("/api/v1/jobs/" + id + "/logs").then().statusCode(200)
                .body("lines.message", hasItem(containsString("(worker shutting down)")))
                .body("lines.message", hasItem(containsString("resuming shard-000 at step")));
    }

    @Test
    void aFailingStageFailsTheJobAfterItsAttemptsAndRetryKeepsTheSucceededStages() throws Exception {
        String key = UUID.randomUUID().toString();
        TestStages.FAILING.add(key);
        long id = submit(spec("\"shards\": 2, \"steps\": 1, \"failStage\": \"fit\", \"failKey\": \"" + key + "\""));
        JsonPath j = await(id, 20_000, "FAILED", "SUCCEEDED");
        assertEquals("FAILED", j.getString("state"));
        assertTrue(j.getString("error").contains("injected failure of fit"), j.getString("error"));
        assertEquals(List.of("SUCCEEDED", "SUCCEEDED", "FAILED", "CANCELLED"), j.getList("stages.state"));
        assertEquals(3, j.getInt("stages[2].attempts"));
        TestStages.FAILING.remove(key);
        as(submitter).post("/api/v1/jobs/" + id + "/retry").then().statusCode(200);
        assertEquals("SUCCEEDED", await(id, 20_000, "SUCCEEDED", "FAILED").getString("state"));
        assertEquals(1, TestStages.RUNS.get(id + "/shard-000"), "succeeded stages are not run again");
        assertEquals(4, TestStages.RUNS.get(id + "/fit"));
    }

    @Test
    void eventsStreamTheProgressAndEndWithTheJob() {
        long id = submit(spec("\"shards\": 2, \"steps\": 8, \"stepMillis\": 80"));
        String body = as(submitter).accept("text/event-stream").get("/api/v1/jobs/" + id + "/events").then()
                .statusCode(200).extract().asString();
        assertTrue(body.contains("event:job") || body.contains("event: job"), body);
        assertTrue(body.contains("\"RUNNING\""), body);
        assertTrue(body.contains("\"message\":\"step "), "stage progress is streamed: " + body);
        int end = Math.max(body.lastIndexOf("event:end"), body.lastIndexOf("event: end"));
        assertTrue(end > 0, body);
        assertTrue(body.substring(end).contains("\"state\":\"SUCCEEDED\""), body.substring(end));
        as(otherSubmitter).accept("text/event-stream").get("/api/v1/jobs/" + id + "/events").then()
                .statusCode(404);
    }

    @Test
    void logsListVisibilityAndPaging() throws Exception {
        long id = submit(spec("\"shards\": 1, \"steps\": 1"));
        await(id, 20_000, "SUCCEEDED");
        JsonPath log = as(submitter).get("/api/v1/jobs/" + id + "/logs").then().statusCode(200).extract().jsonPath();
        List<String> messages = log.getList("lines.message");
        assertTrue(messages.get(0).startsWith("submitted by alice"), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("claimed by ")), messages.toString());
        assertTrue(messages.contains("shard-000 done"), "the stage's own line");
        assertEquals("job succeeded", messages.get(messages.size() - 1));
        as(submitter).queryParam("after", log.getLong("nextAfter")).get("/api/v1/jobs/" + id + "/logs").then()
                .statusCode(200).body("lines.size()", equalTo(0));

        as(otherSubmitter).get("/api/v1/jobs/" + id).then().statusCode(404).contentType("application/problem+json");
        as(admin).get("/api/v1/jobs/" + id).then().statusCode(200).body("createdBy", equalTo("alice"));
        as(submitter).get("/api/v1/jobs").then().statusCode(200).body("items.id", hasItem((int) id));
        as(otherSubmitter).get("/api/v1/jobs").then().statusCode(200).body("items.id", not(hasItem((int) id)));
        as(admin).queryParam("state", "succeeded").get("/api/v1/jobs").then().statusCode(200)
                .body("items.id", hasItem((int) id)).body("items.state", not(hasItem("FAILED")));
        as(admin).queryParam("state", "DONE").get("/api/v1/jobs").then().statusCode(400)
                .body("errors.field", hasItem("state"));
        long second = submit(spec("\"shards\": 1, \"steps\": 1"));
        JsonPath page = as(submitter).queryParam("limit", 1).get("/api/v1/jobs").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(List.of((int) second), page.getList("items.id"));
        as(submitter).queryParam("limit", 1).queryParam("before", page.getLong("nextBefore")).get("/api/v1/jobs")
                .then().statusCode(200).body("items.id", equalTo(List.of((int) id)));
        await(second, 20_000, "SUCCEEDED");
    }

    @Test
    void aModelWithQueuedJobsCannotBeDeleted() throws Exception {
        pool.stop();
        long id = submit(spec("\"shards\": 1, \"steps\": 1"));
        as(admin).delete("/api/v1/models/" + model).then().statusCode(409)
                .body("detail", containsString("queued/running job " + id));
        as(submitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(200);
        as(admin).delete("/api/v1/models/" + model).then().statusCode(204);
        as(submitter).get("/api/v1/jobs/" + id).then().statusCode(200).body("model.name", equalTo(model))
                .body("model.id", equalTo(null));
    }

    private void cancelEverything() throws Exception {
        execute("UPDATE job_stages SET state = 'CANCELLED' WHERE state IN ('PENDING', 'READY', 'RUNNING')");
        execute("UPDATE jobs SET state = 'CANCELLED' WHERE state IN ('QUEUED', 'RUNNING')");
    }

    private static long started(long job, String stage) {
        return TestStages.TIMES.get(job + "/" + stage)[0];
    }

    private static long ended(long job, String stage) {
        return TestStages.TIMES.get(job + "/" + stage)[1];
    }
}
