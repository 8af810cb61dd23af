package io.solvertune.service.ops;

import static io.restassured.RestAssured.given;
import static io.solvertune.service.ops.OpsSupport.metrics;
import static io.solvertune.service.ops.OpsSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.jobs.JobEngine;
import io.solvertune.service.jobs.WorkerPool;
import io.solvertune.service.security.TokenService;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.TuningStages;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** The Prometheus metrics of the queue, the stages, the workers, lease expiries, downloads and the teacher. */
@QuarkusTest
@TestProfile(OpsTestProfile.class)
class MetricsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    TokenService tokens;
    @Inject
    WorkerPool pool;
    @Inject
    JobEngine engine;
    @Inject
    StageMetrics stageMetrics;
    @Inject
    AgroalDataSource ds;

    @Test
    void queueStagesWorkersLeaseExpiriesDownloadsAndTeacherAppearAtQMetrics() throws Exception {
        OpsSupport s = new OpsSupport(tokens, true);

        // a job run by the two in-process workers: stage run times and attempts per kind
        pool.start();
        String m0 = metrics(); // other tests of this profile may have run stages in this application already
        long done = s.submit("\"shards\": 2, \"steps\": 2, \"stepMillis\": 5");
        assertEquals("SUCCEEDED", s.await(done, 30_000, "SUCCEEDED", "FAILED").getString("state"));
        String m = metrics();
        assertEquals(2.0, delta(m0, m, "solvertune_stage_duration_seconds_count", "kind=\"test-shard\"",
                "outcome=\"succeeded\""), m);
        assertEquals(1.0, delta(m0, m, "solvertune_stage_duration_seconds_count", "kind=\"test-fit\"",
                "outcome=\"succeeded\""));
        assertTrue(m.contains("solvertune_stage_duration_seconds_bucket{kind=\"test-shard\""), "a histogram");
        assertEquals(2.0, delta(m0, m, "solvertune_stage_attempts_count", "kind=\"test-shard\""));
        assertEquals(2.0, delta(m0, m, "solvertune_stage_attempts_sum", "kind=\"test-shard\""), "first attempts");
        assertEquals(2.0, value(m, "solvertune_workers", "state=\"running\""));
        assertEquals(0.0, value(m, "solvertune_workers", "state=\"busy\""));

        // queued stages per kind, read from the database (workers stopped: nothing claims them)
        pool.stop();
        assertEquals(0.0, value(metrics(), "solvertune_workers", "state=\"running\""));
        long queued = s.submit("\"shards\": 3, \"steps\": 2, \"stepMillis\": 5");
        awaitValue(() -> value(metrics(), "solvertune_stages_queued", "kind=\"test-shard\""), 3.0);
        m = metrics();
        assertEquals(0.0, value(m, "solvertune_stages_queued", "kind=\"test-fit\""), "fit is PENDING, not READY");
        assertEquals(1.0, value(m, "solvertune_jobs_active", "state=\"queued\""));

        // a stage whose worker vanished: RUNNING with an expired lease, then reclaimed (one lease expiry)
        double before = value(m, "solvertune_stage_lease_expiries_total");
        assertTrue(before >= 0, m);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET "
                + "state = 'RUNNING', attempts = 1, lease_owner = 'gone:1:x', lease_expires_at = now() - "
                + "interval '1 second' WHERE job_id = ? AND name = 'shard-000'")) {
            ps.setLong(1, queued);
            assertEquals(1, ps.executeUpdate());
        }
        awaitValue(() -> value(metrics(), "solvertune_stages_lease_expired"), 1.0);
        m = metrics();
        assertEquals(2.0, value(m, "solvertune_stages_queued", "kind=\"test-shard\""));
        assertEquals(1.0, value(m, "solvertune_stages_running", "kind=\"test-shard\""));
        assertEquals(1, engine.store().reclaimExpired());
        awaitValue(() -> value(metrics(), "solvertune_stage_lease_expiries_total"), before + 1.0);
        assertEquals(0.0, value(metrics(), "solvertune_stages_lease_expired"));

        // the download latency histogram, under the route's template (not the raw path)
        OpsSupport.as(s.admin).get("/api/v1/configs/424242").then().statusCode(404);
        m = metrics();
        assertTrue(m.contains("http_server_requests_seconds_bucket{")
                && m.lines().anyMatch(l -> l.startsWith("http_server_requests_seconds_bucket{")
                && l.contains("uri=\"/api/v1/configs/{id}\"")), "download histogram:\n" + grep(m, "configs"));
        assertTrue(m.lines().noneMatch(l -> l.contains("uri=\"/api/v1/configs/424242\"")), "no raw id in a tag");

        // teacher throughput: a finished teacher shard's trajectories and model calls
        var teacher = stageMetrics.decorate(TuningStages.TEACHER, c -> {
            Thread.sleep(20);
            return JSON.createObjectNode().put("count", 64).put("modelCalls", 64 * 30);
        });
        teacher.execute(context(queued));
        m = metrics();
        assertEquals(64.0, value(m, "solvertune_teacher_trajectories_total"));
        assertEquals(1920.0, value(m, "solvertune_teacher_model_calls_total"));
        assertEquals(1.0, value(m, "solvertune_teacher_shard_duration_seconds_count"));
        double rate = value(m, "solvertune_teacher_trajectories_per_second");
        assertTrue(rate > 0 && rate < 64 / 0.02, "rate " + rate);
        pool.start();
    }

    /** The increase of a sample between two scrapes (a sample absent before counts as 0). */
    private static double delta(String before, String after, String name, String... labels) {
        double b = value(before, name, labels);
        return value(after, name, labels) - (Double.isNaN(b) ? 0 : b);
    }

    private static String grep(String text, String needle) {
        return String.join("\n", text.lines().filter(l -> l.contains(needle)).toList());
    }

    private static void awaitValue(DoubleSupplier f, double expected) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        double v = f.getAsDouble();
        while (v != expected && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
            v = f.getAsDouble();
        }
        assertEquals(expected, v, grep(metrics(), "solvertune_"));
    }

    private static StageContext context(long jobId) {
        return new StageContext() {
            @Override
            public long jobId() {
                return jobId;
            }

            @Override
            public JsonNode jobSpec() {
                return JSON.createObjectNode();
            }

            @Override
            public PlannedStage stage() {
                return new PlannedStage("shard-001", TuningStages.TEACHER, List.of(), JSON.createObjectNode());
            }

            @Override
            public ResolvedModel model() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Path workDir() {
                return Path.of("target");
            }

            @Override
            public Map<String, JsonNode> dependencyOutputs() {
                return Map.of();
            }

            @Override
            public void progress(long done, long total, String message) {
            }

            @Override
            public boolean cancelled() {
                return false;
            }

            @Override
            public void log(String level, String message) {
            }
        };
    }
}
