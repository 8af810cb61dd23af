package io.solvertune.service.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.solvertune.service.jobs.WorkerPool;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What SIGTERM does to a worker (Quarkus' shutdown stops the {@link WorkerPool}): it stops claiming, its stage in
 * flight is handed back at once (READY, the attempt not counted) well within the grace period, and another worker
 * finishes the job from the stage's checkpoint.
 */
@QuarkusTest
@TestProfile(OpsTestProfile.class)
class GracefulShutdownTest {

    @Inject
    WorkerPool pool;
    @Inject
    TokenService tokens;
    @Inject
    AgroalDataSource ds;

    @Test
    void aStoppingWorkerHandsItsStageBackWithinTheGraceAndTheJobFinishesLater() throws Exception {
        OpsSupport s = new OpsSupport(tokens, true);
        pool.start();
        long id = s.submit("\"shards\": 1, \"steps\": 400, \"stepMillis\": 25");
        long deadline = System.currentTimeMillis() + 20_000;
        while (progress(id) < 20) {
            assertTrue(System.currentTimeMillis() < deadline, "the shard never got going: " + s.job(id).prettify());
            Thread.sleep(50);
        }
        long t0 = System.nanoTime();
        pool.stop();
        long stopMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(stopMs < 5_000, "stopped within the 5 s grace, took " + stopMs + " ms");
        JsonPath j = s.job(id);
        Map<String, Object> shard = stage(j, "shard-000");
        assertEquals("READY", shard.get("state"), j.prettify());
        assertEquals(0, ((Number) shard.get("attempts")).intValue(), "the interrupted run is not an attempt");
        assertTrue(logged(id, "handed back"), "the job log says it was handed back");

        pool.start();
        JsonPath done = s.await(id, 60_000, "SUCCEEDED", "FAILED");
        assertEquals("SUCCEEDED", done.getString("state"), done.prettify());
        assertTrue(logged(id, "resuming shard-000 at step"), "resumed from its checkpoint");
    }

    private long progress(long jobId) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT progress_done FROM job_stages WHERE job_id = ? AND name = 'shard-000' AND state = 'RUNNING'")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private boolean logged(long jobId, String text) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM job_logs WHERE job_id = ? AND message LIKE ?")) {
            ps.setLong(1, jobId);
            ps.setString(2, "%" + text + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stage(JsonPath job, String name) {
        for (Map<String, Object> st : job.<Map<String, Object>>getList("stages")) {
            if (name.equals(st.get("name"))) {
                return st;
            }
        }
        throw new AssertionError("no stage " + name + " in " + job.prettify());
    }
}
