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

    // ---- bounded views and streams (issue 14) ------------------------------------------------------------------------

    @Test
    void aPlanOverTheStageLimitIsRefusedNamingTheSpec() throws Exception {
        long before = count("SELECT count(*) FROM job_stages");
        // 45 shards + fit + validate = 47 stages; the profile allows 40
        post(spec("\"shards\": 45, \"steps\": 1")).statusCode(400).body("errors.field", hasItem("spec"))
                .body("detail", containsString("47 stages"));
        assertEquals(before, count("SELECT count(*) FROM job_stages"));
    }

    @Test
    void theStageListOfAJobIsPaged() throws Exception {
        pool.stop();
        long id = submit(spec("\"shards\": 30, \"steps\": 1"));
        JsonPath page = as(submitter).queryParam("stageLimit", 12).get("/api/v1/jobs/" + id).then().statusCode(200)
                .extract().jsonPath();
        assertEquals(12, page.getList("stages").size());
        assertEquals(32, page.getInt("progress.stagesTotal"), "progress counts every stage");
        assertEquals("shard-000", page.getString("stages[0].name"));
        String next = page.getString("stagesNext");
        assertEquals("/api/v1/jobs/" + id + "?stageOffset=12&stageLimit=12", next);
        JsonPath second = as(submitter).get(next).then().statusCode(200).extract().jsonPath();
        assertEquals("shard-012", second.getString("stages[0].name"));
        JsonPath last = as(submitter).get("/api/v1/jobs/" + id + "?stageOffset=24&stageLimit=12").then()
                .statusCode(200).extract().jsonPath();
        assertEquals(List.of("shard-024", "shard-025", "shard-026", "shard-027", "shard-028", "shard-029", "fit",
                "validate"), last.getList("stages.name"));
        assertNull(last.get("stagesNext"));
        assertEquals(32, job(id).getList("stages").size(), "the default page holds small jobs whole");
        as(submitter).queryParam("stageLimit", 0).get("/api/v1/jobs/" + id).then().statusCode(400)
                .body("errors.field", hasItem("stageLimit"));
        as(submitter).queryParam("stageLimit", 100_000).get("/api/v1/jobs/" + id).then().statusCode(400)
                .body("errors.field", hasItem("stageLimit"));
        as(submitter).queryParam("stageOffset", -1).get("/api/v1/jobs/" + id).then().statusCode(400)
                .body("errors.field", hasItem("stageOffset"));
        as(submitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(200);
        pool.start();
    }

    @Test
    void eventsCarryStageDeltasInBoundedEvents() throws Exception {
        long id = submit(spec("\"shards\": 30, \"steps\": 3, \"stepMillis\": 30"));
        List<String[]> events = new java.util.ArrayList<>();
        String body = as(submitter).accept("text/event-stream").get("/api/v1/jobs/" + id + "/events").then()
                .statusCode(200).extract().asString();
        String name = null;
        for (String line : body.split("\n")) {
            if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:") && name != null) {
                events.add(new String[] {name, line.substring(5).strip()});
            }
        }
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.Map<String, Integer> updates = new java.util.HashMap<>();
        long stageBytes = 0;
        int stageEvents = 0;
        int maxEvent = 0;
        for (String[] e : events) {
            com.fasterxml.jackson.databind.JsonNode n = m.readTree(e[1]);
            maxEvent = Math.max(maxEvent, e[1].length());
            if (e[0].equals("stages")) {
                assertTrue(n.get("stages").size() <= 10, "at most max-stages-per-event stages: " + e[1]);
                for (com.fasterxml.jackson.databind.JsonNode st : n.get("stages")) {
                    updates.merge(st.get("name").asText(), 1, Integer::sum);
                }
                stageBytes += e[1].length();
                stageEvents++;
            } else {
                assertFalse(n.has("stages"), "job/end events carry no stage list: " + e[1]);
                assertFalse(n.has("spec"));
            }
        }
        assertEquals("end", events.get(events.size() - 1)[0]);
        assertEquals("SUCCEEDED", m.readTree(events.get(events.size() - 1)[1]).get("state").asText());
        assertEquals(32, updates.size(), "every stage was sent");
        // a stage is sent when it changes (pending, ready, running with progress, succeeded), not on every tick
        int ticks = events.size();
        assertTrue(updates.values().stream().allMatch(u -> u <= 12), updates.toString());
        String full = as(submitter).get("/api/v1/jobs/" + id).then().statusCode(200).extract().asString();
        System.out.printf("job events: %d events, %d 'stages' events averaging %d bytes, largest event %d bytes; the "
                + "whole job (what every event used to carry) is %d bytes%n", ticks, stageEvents,
                stageEvents == 0 ? 0 : stageBytes / stageEvents, maxEvent, full.length());
        assertTrue(maxEvent < full.length(), "no event carries the whole job");
    }

    @Test
    void aRevokedTokensStreamEndsPromptly() throws Exception {
        var created = tokens.create("short-lived", io.solvertune.service.security.Role.SUBMITTER);
        long id = ((Number) as(created.token()).contentType("application/json")
                .header("Idempotency-Key", UUID.randomUUID().toString())
                .body(spec("\"shards\": 1, \"steps\": 400, \"stepMillis\": 50")).post("/api/v1/jobs").then()
                .statusCode(202).extract().path("id")).longValue();
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(io.restassured.RestAssured.baseURI + ":" + io.restassured.RestAssured.port
                                + "/api/v1/jobs/" + id + "/events"))
                .header("Authorization", "Bearer " + created.token()).header("Accept", "text/event-stream").build();
        var response = client.send(req, java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, response.statusCode());
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        long[] revokedAt = new long[1];
        Thread reader = new Thread(() -> response.body().forEach(l -> {
            lines.add(l);
            if (revokedAt[0] == 0 && lines.stream().filter(x -> x.startsWith("event:")).count() >= 3) {
                as(admin).delete("/api/v1/tokens/" + created.info().id()).then().statusCode(204);
                revokedAt[0] = System.nanoTime();
            }
        }));
        reader.start();
        reader.join(20_000);
        assertFalse(reader.isAlive(), "the stream of a revoked token did not end");
        double after = (System.nanoTime() - revokedAt[0]) / 1e9;
        assertTrue(revokedAt[0] > 0 && after < 3, "ended " + after + " s after the revocation");
        assertTrue(lines.stream().anyMatch(l -> l.contains("event:error") || l.contains("event: error")),
                lines.toString());
        assertTrue(String.join("\n", lines).contains("revoked"));
        assertEquals("RUNNING", job(id).getString("state"), "the stream ended long before the job");
        as(admin).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(200);
    }

    @Test
    void aTokenHoldsABoundedNumberOfStreams() throws Exception {
        long id = submit(spec("\"shards\": 1, \"steps\": 400, \"stepMillis\": 50"));
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest req = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(io.restassured.RestAssured.baseURI + ":" + io.restassured.RestAssured.port
                                + "/api/v1/jobs/" + id + "/events"))
                .header("Authorization", "Bearer " + submitter).header("Accept", "text/event-stream").build();
        List<java.net.http.HttpResponse<java.util.stream.Stream<String>>> open = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            open.add(client.send(req, java.net.http.HttpResponse.BodyHandlers.ofLines()));
            assertEquals(200, open.get(i).statusCode());
        }
        as(submitter).accept("text/event-stream").get("/api/v1/jobs/" + id + "/events").then().statusCode(429)
                .contentType("application/problem+json").header("Retry-After", "5")
                .body("detail", containsString("3 event streams"));
        as(submitter).post("/api/v1/jobs/" + id + "/cancel").then().statusCode(200);
        for (var r : open) {
            r.body().forEach(l -> { }); // each ends with the job
        }
        long deadline = System.currentTimeMillis() + 5_000;
        while (events.openStreams() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, events.openStreams(), "closed streams give their slot back");
    }

    @Inject
    JobEvents events;
}
