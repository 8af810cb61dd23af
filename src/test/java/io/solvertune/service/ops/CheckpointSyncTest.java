package io.solvertune.service.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.artifacts.PgBlobStore;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CheckpointSync} against the database: uploads only at consistent points whose files changed, at most once per
 * interval, without temporaries; only while this worker holds the lease; and a host without the recorded checkpoint
 * (or with another one) gets it before the stage runs, while the host that wrote it keeps its own copy.
 */
@QuarkusTest
@TestProfile(CheckpointResumeTest.Profile.class)
class CheckpointSyncTest {

    @Inject
    AgroalDataSource ds;
    @Inject
    TokenService tokens;
    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    @TempDir
    Path tmp;

    /** A running stage's context on one host: records nothing but the log. */
    record Ctx(long jobId, Path workDir, List<String> logs) implements StageContext {
        @Override
        public JsonNode jobSpec() {
            return null;
        }

        @Override
        public PlannedStage stage() {
            return new PlannedStage("g1/train", "test-train", List.of(), null);
        }

        @Override
        public ResolvedModel model() {
            return null;
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
            logs.add(message);
        }
    }

    @Test
    void uploadsChangedCheckpointsOfTheLeaseHolderAndAnotherHostResumesFromThem() throws Exception {
        long job = runningStage("host-a:1:aaaa");
        SharedArtifacts sharedA = new SharedArtifacts(new PgBlobStore(ds, 4096), tmp.resolve("a/cache"));
        CheckpointSync.Listener meters = ArtifactSync.meters(registry);
        double uploadsBefore = metric("solvertune_checkpoint_uploads_seconds_count");
        double restoresBefore = metric("solvertune_checkpoint_restores_total");
        double bytesBefore = metric("solvertune_checkpoint_uploaded_bytes_total");
        CheckpointSync a = new CheckpointSync(sharedA, ds, true, Duration.ZERO).listener(meters);
        Path jobA = tmp.resolve("a/work/job-" + job);
        Ctx ctxA = new Ctx(job, jobA, new java.util.ArrayList<>());
        CheckpointSync.Run run = a.begin(ctxA, jobA);
        Path dir = Files.createDirectories(jobA.resolve("g1/train"));

        Files.writeString(dir.resolve("ckpt-1.json"), "{\"step\": 1}");
        Files.writeString(dir.resolve("ckpt-2.json.tmp"), "half written");
        run.progress(1, 3, "step 1");
        assertEquals(1, run.uploads());
        String first = recorded(job).tree();
        run.checkpointCommitted(); // nothing changed: no upload
        run.progress(1, 3, "step 1 again");
        assertEquals(1, run.uploads(), "unchanged files are not uploaded again");
        Files.writeString(dir.resolve("ckpt-2.json"), "{\"step\": 2}");
        run.checkpointCommitted();
        assertEquals(2, run.uploads());
        CheckpointSync.Recorded second = recorded(job);
        assertFalse(second.tree().equals(first));
        assertEquals(2, second.files(), "the .tmp file is not part of it");
        assertEquals("host-a:1:aaaa", second.uploadedBy());
        assertFalse(second.fin());

        // the same host claims again: its own copy (possibly further along) is kept
        Files.writeString(dir.resolve("ckpt-3.json"), "{\"step\": 3}"); // written after the last upload
        a.begin(ctxA, jobA);
        assertTrue(Files.exists(dir.resolve("ckpt-3.json")), "the host's own newer copy stays");

        // host B claims the stage after A lost its lease: it gets A's last upload, not A's later local file
        setOwner(job, "host-b:2:bbbb");
        assertEquals(second.tree(), recorded(job).tree());
        Files.writeString(dir.resolve("ckpt-4.json"), "{\"step\": 4}");
        run.progress(3, 3, "A goes on without its lease");
        assertEquals(second.tree(), recorded(job).tree(), "a host without the lease records nothing");
        SharedArtifacts sharedB = new SharedArtifacts(new PgBlobStore(ds, 4096), tmp.resolve("b/cache"));
        Path jobB = tmp.resolve("b/work/job-" + job);
        Ctx ctxB = new Ctx(job, jobB, new java.util.ArrayList<>());
        Files.createDirectories(jobB.resolve("g1/train"));
        Files.writeString(jobB.resolve("g1/train/stale.json"), "from an older run on B");
        CheckpointSync.Run runB = new CheckpointSync(sharedB, ds, true, Duration.ofHours(1)).listener(meters)
                .begin(ctxB, jobB);
        assertEquals(uploadsBefore + 2, metric("solvertune_checkpoint_uploads_seconds_count"), "A's two uploads");
        assertEquals(bytesBefore + second.bytes() + "{\"step\": 1}".length(),
                metric("solvertune_checkpoint_uploaded_bytes_total"), "sizes of both uploaded checkpoints");
        assertEquals(restoresBefore + 1, metric("solvertune_checkpoint_restores_total"), "B's restore");
        Path dirB = jobB.resolve("g1/train");
        assertArrayEquals(Files.readAllBytes(dir.resolve("ckpt-2.json")), Files.readAllBytes(dirB.resolve("ckpt-2.json")));
        assertTrue(Files.exists(dirB.resolve("ckpt-1.json")));
        assertFalse(Files.exists(dirB.resolve("ckpt-3.json")), "only what was uploaded");
        assertFalse(Files.exists(dirB.resolve("stale.json")), "the recorded checkpoint replaces B's old copy");
        assertFalse(Files.exists(dirB.resolve("ckpt-2.json.tmp")));
        assertTrue(ctxB.logs().stream().anyMatch(l -> l.contains("resuming from the checkpoint uploaded by "
                + "host-a:1:aaaa")), ctxB.logs().toString());

        // B's interval is an hour: its progress uploads nothing; its finished directory is recorded
        Files.writeString(dirB.resolve("ckpt-5.json"), "{\"step\": 5}");
        runB.progress(2, 3, "step");
        assertEquals(0, runB.uploads());
        runB.finished(sharedB.putTree(dirB, p -> true, null));
        CheckpointSync.Recorded fin = recorded(job);
        assertTrue(fin.fin());
        assertEquals("host-b:2:bbbb", fin.uploadedBy());
        assertEquals(3, fin.files(), "ckpt-1, ckpt-2 (fetched) and ckpt-5");
    }

    @Test
    void withUploadsOffNothingIsRecorded() throws Exception {
        long job = runningStage("host-c:3:cccc");
        SharedArtifacts shared = new SharedArtifacts(new PgBlobStore(ds, 4096), tmp.resolve("c/cache"));
        Path jobDir = tmp.resolve("c/work/job-" + job);
        CheckpointSync.Run run = new CheckpointSync(shared, ds, false, Duration.ZERO).begin(
                new Ctx(job, jobDir, new java.util.ArrayList<>()), jobDir);
        Files.createDirectories(jobDir.resolve("g1/train"));
        Files.writeString(jobDir.resolve("g1/train/ckpt.json"), "{}");
        run.progress(1, 1, "done");
        assertNull(new CheckpointSync(shared, ds, true, Duration.ZERO).recorded(job, "g1/train"));
    }

    private static double metric(String name) {
        double v = OpsSupport.value(OpsSupport.metrics(), name);
        return Double.isNaN(v) ? 0 : v;
    }

    private CheckpointSync.Recorded recorded(long job) throws Exception {
        return new CheckpointSync(null, ds, true, Duration.ZERO).recorded(job, "g1/train");
    }

    /** A job with one RUNNING stage {@code g1/train} leased to {@code owner}. */
    private long runningStage(String owner) throws Exception {
        tokens.create("ckpt-sync-test", Role.SUBMITTER);
        long job;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO jobs "
                + "(idempotency_key, created_by, created_by_name, model_name, spec, state) SELECT ?, id, name, "
                + "'none', '{}'::jsonb, 'RUNNING' FROM api_tokens WHERE name = 'ckpt-sync-test' ORDER BY id LIMIT 1 "
                + "RETURNING id")) {
            ps.setString(1, UUID.randomUUID().toString());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                job = rs.getLong(1);
            }
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO job_stages "
                + "(job_id, name, seq, kind, state, attempts, max_attempts, lease_owner, lease_expires_at) "
                + "VALUES (?, 'g1/train', 0, 'test-train', 'RUNNING', 1, 3, ?, now() + interval '1 hour')")) {
            ps.setLong(1, job);
            ps.setString(2, owner);
            ps.executeUpdate();
        }
        return job;
    }

    private void setOwner(long job, String owner) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE job_stages SET lease_owner = ?, attempts = attempts + 1 WHERE job_id = ?")) {
            ps.setString(1, owner);
            ps.setLong(2, job);
            ps.executeUpdate();
        }
    }
}
