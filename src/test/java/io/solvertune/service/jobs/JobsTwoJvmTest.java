package io.solvertune.service.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.solvertune.service.jobs.testing.ExternalWorkerMain;
import io.solvertune.service.jobs.testing.JobsTestProfile;
import jakarta.inject.Inject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The durability test with two JVMs: a worker process is killed with SIGKILL in the middle of a stage; a
 * worker of this JVM reclaims the stage when its lease expires, finishes the job, and the published configs equal
 * those of an uninterrupted run of the same spec.
 */
@QuarkusTest
@TestProfile(JobsTestProfile.class)
class JobsTwoJvmTest extends JobsTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    JobEngine engine;

    @Test
    void aWorkerKilledMidStageLosesOnlyThatStageAndThePublishedConfigsEqualAnUninterruptedRun() throws Exception {
        String spec = spec("\"seed\": 11, \"shards\": 3, \"steps\": 20, \"stepMillis\": 50, \"publish\": true");

        // 1. uninterrupted, by this JVM's workers
        long reference = submit(spec);
        JsonPath ref = await(reference, 30_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", ref.getString("state"), ref.prettify());
        List<Long> refIds = ids(ref);
        assertEquals(2, refIds.size());

        // 2. the same spec, first claimed by a worker in another JVM
        pool.stop();
        long id = submit(spec);
        Path log = Path.of("target", "external-worker-" + id + ".log");
        Process worker = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                ExternalWorkerMain.class.getName(), config("quarkus.datasource.jdbc.url"),
                config("quarkus.datasource.username"), config("quarkus.datasource.password"),
                Long.toString(JobsTestProfile.LEASE_MS), engine.workDir().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String killedStage;
        String killedOwner;
        try {
            String[] running = awaitRunningIn(worker, id, 30_000);
            killedStage = running[0];
            killedOwner = running[1];
            worker.destroyForcibly(); // SIGKILL: no shutdown hooks, no lease released
            assertTrue(worker.waitFor(10, TimeUnit.SECONDS));
        } finally {
            worker.destroyForcibly();
        }
        assertEquals(137, worker.exitValue(), "killed by SIGKILL");
        JsonPath mid = job(id);
        assertEquals("RUNNING", stage(mid, killedStage).get("state"), "the lease outlives the worker");
        assertEquals(killedOwner, stage(mid, killedStage).get("worker"));

        // 3. this JVM's workers take over once the lease expired
        pool.start();
        JsonPath done = await(id, 30_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", done.getString("state"), done.prettify());
        for (Map<String, Object> s : done.<Map<String, Object>>getList("stages")) {
            if (s.get("name").equals(killedStage)) {
                assertEquals(2, s.get("attempts"), "the stage in flight ran again: " + s);
                assertNotEquals(killedOwner, s.get("worker"));
            } else {
                assertEquals(1, s.get("attempts"), "only the stage in flight is lost: " + s);
            }
        }
        List<String> messages = as(submitter).get("/api/v1/jobs/" + id + "/logs").then().statusCode(200)
                .extract().jsonPath().getList("lines.message");
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("lease of " + killedOwner + " expired during "
                + "attempt 1 (worker lost)")), messages.toString());
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("resuming " + killedStage + " at step ")),
                "the rerun resumes from the killed run's checkpoint: " + messages);

        // 4. the same configs as the uninterrupted run (each key's next version)
        List<Long> ids = ids(done);
        List<JsonNode> expected = configs(refIds);
        List<JsonNode> actual = configs(ids);
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            JsonNode e = expected.get(i);
            JsonNode a = actual.get(i);
            assertEquals(e.get("version").asInt() + 1, a.get("version").asInt());
            ((com.fasterxml.jackson.databind.node.ObjectNode) e).remove("version");
            ((com.fasterxml.jackson.databind.node.ObjectNode) a).remove("version");
            assertEquals(e, a, "config " + i);
        }
        assertFalse(Files.readString(log).isBlank(), "the external worker ran");
    }

    /** Waits until the external worker holds a stage of the job with some progress: [stage, lease owner]. */
    private String[] awaitRunningIn(Process worker, long jobId, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        String pid = ":" + worker.pid() + ":";
        while (System.currentTimeMillis() < deadline) {
            if (!worker.isAlive()) {
                fail("the external worker exited with " + worker.exitValue());
            }
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT name, "
                    + "lease_owner FROM job_stages WHERE job_id = ? AND state = 'RUNNING' AND progress_done >= 3 "
                    + "AND lease_owner LIKE ?")) {
                ps.setLong(1, jobId);
                ps.setString(2, "%" + pid + "%");
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return new String[] {rs.getString(1), rs.getString(2)};
                    }
                }
            }
            Thread.sleep(20);
        }
        fail("the external worker did not start a stage of job " + jobId);
        return null;
    }

    private List<JsonNode> configs(List<Long> ids) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT json_build_object("
                + "'model', model_id, 'method', method, 'solver', solver, 'options', solver_options, 'nfe', nfe, "
                + "'guidance', guidance, 'spacing', spacing, 'tStart', t_start, 'tEnd', t_end, 'values', values, "
                + "'metrics', metrics, 'provenance', provenance - 'jobId', 'version', version)::text "
                + "FROM solver_configs WHERE id = ANY (?) ORDER BY id")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(JSON.readTree(rs.getString(1)));
                }
            }
        }
        return out;
    }

    private static List<Long> ids(JsonPath job) {
        return job.<Number>getList("result.configIds").stream().map(Number::longValue).toList();
    }

    private static Map<String, Object> stage(JsonPath job, String name) {
        return job.<Map<String, Object>>getList("stages").stream().filter(s -> name.equals(s.get("name")))
                .findFirst().orElseThrow();
    }

    private static String config(String key) {
        return ConfigProvider.getConfig().getValue(key, String.class);
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java" + (File.separatorChar == '\\' ? ".exe" : ""))
                .toString();
    }
}
