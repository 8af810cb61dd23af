package io.solvertune.service.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.artifacts.PgBlobStore;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.jobs.JobEngine;
import io.solvertune.service.jobs.StageWorker;
import io.solvertune.service.security.TokenService;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import io.solvertune.tuning.job.StageKind;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A long stage's checkpoints leave its host as it runs: the DPM-Solver-v3 statistics stage (EMS, one checkpoint per
 * logSNR grid point) of a real tuning job runs on "host A" (its own work and cache directories), which dies after a
 * few grid points (the worker thread dies of an Error, its lease stays until it expires, as with SIGKILL); "host B"
 * (other directories, the same database) reclaims the stage, fetches the checkpoint A uploaded and computes only the
 * grid points A had not, and its statistics are byte for byte those of an uninterrupted run on "host C".
 */
@QuarkusTest
@TestProfile(CheckpointResumeTest.Profile.class)
class CheckpointResumeTest {

    /** No in-process workers (the test builds its hosts), short leases, a checkpoint upload at every grid point. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("solvertune.workers.enabled", "false",
                    "solvertune.jobs.lease", "1500ms",
                    "solvertune.artifacts.checkpoints.interval", "0s",
                    "solvertune.artifacts.sweep.enabled", "false");
        }
    }

    static final String SPEC = "{'model': 'MODEL', 'methods': ['dpmsolver-v3'], 'nfe': [5],"
            + " 'guidance': [7.5], 'spacings': ['logSNR'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16},"
            + " 'ems': {'lMethod': 'exact'}}";
    /** Grid points of the statistics: 60 teacher steps recorded every 2nd. */
    static final int K = 30;
    /** Host A dies when it reports grid point DIE_AT of the first pass (so DIE_AT - 1 are uploaded). */
    static final int DIE_AT = 5;

    @Inject
    TokenService tokens;
    @Inject
    AgroalDataSource ds;
    @Inject
    JobEngine engine;

    @TempDir
    Path tmp;

    private final ScheduledExecutorService heartbeats = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stopBeats() {
        heartbeats.shutdownNow();
    }

    /** A host killed mid-stage. */
    static final class HostDied extends Error {
        HostDied(String m) {
            super(m);
        }
    }

    /** One host: work and cache directories of its own, the shared database. */
    final class Host {
        final String name;
        final Path work;
        final ArtifactSync sync;
        final StageWorker worker;
        /** Grid points of the EMS stage this host computed (progress reports of either pass), by job. */
        final Map<Long, AtomicInteger> gridPoints = new java.util.concurrent.ConcurrentHashMap<>();
        volatile Integer dieAt;

        Host(String name) {
            this.name = name;
            this.work = tmp.resolve(name).resolve("work");
            SharedArtifacts shared = new SharedArtifacts(new PgBlobStore(ds, 256 * 1024), tmp.resolve(name)
                    .resolve("cache"));
            this.sync = new ArtifactSync(shared, ds, work, true, new CheckpointSync(shared, ds, true, Duration.ZERO));
            Function<String, Optional<StageExecutor>> lookup = kind -> engine.executors().forKind(kind)
                    .map(e -> counting(kind, sync.decorate(kind, e)));
            this.worker = new StageWorker(engine.store(), lookup, engine.finisher(), work, Duration.ofMillis(50),
                    heartbeats);
        }

        /** Outermost: counts the EMS stage's grid points and dies where told. */
        private StageExecutor counting(String kind, StageExecutor inner) {
            if (!kind.equals(StageKind.FIT_EMS.id())) {
                return inner;
            }
            return ctx -> inner.execute(new Counting(ctx, this));
        }

        /** Steps until the job's EMS stage succeeded (or this host died). */
        void runUntilEmsDone(long job, long timeoutMs) throws Exception {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (!"SUCCEEDED".equals(emsState(job))) {
                if (System.currentTimeMillis() > deadline) {
                    fail(name + ": EMS of job " + job + " still " + emsState(job));
                }
                if (!worker.step()) {
                    Thread.sleep(100);
                }
            }
        }
    }

    /** The stage's context as the outermost wrapper sees it. */
    static final class Counting extends StageContext.Forwarding {
        private final StageContext ctx;
        private final Host host;

        Counting(StageContext ctx, Host host) {
            super(ctx);
            this.ctx = ctx;
            this.host = host;
        }

        @Override
        public void progress(long done, long total, String message) {
            if (message.startsWith("ems-l:") || message.startsWith("ems-sb:")) {
                host.gridPoints.computeIfAbsent(ctx.jobId(), j -> new AtomicInteger()).incrementAndGet();
                if (host.dieAt != null && message.startsWith("ems-l:") && done >= host.dieAt) {
                    throw new HostDied(host.name + " died at grid point " + done);
                }
            }
            ctx.progress(done, total, message);
        }
    }

    @Test
    void aStageKilledOnOneHostResumesOnAnotherFromItsUploadedCheckpointWithTheSameBytes() throws Exception {
        cancelUnfinishedJobs(); // nothing else may be claimed by the hosts built here
        OpsSupport s = new OpsSupport(tokens, false);
        String model = "ckpt-gmm-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        OpsSupport.as(s.submitter).contentType("application/json")
                .body("{\"name\": \"" + model + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models")
                .then().statusCode(201);
        String spec = SPEC.replace("MODEL", model).replace('\'', '"');
        long job = submit(s, spec);
        long reference = 0;
        try {
            Host a = new Host("hostA");
            a.dieAt = DIE_AT;
            HostDied died = assertThrows(HostDied.class, () -> a.runUntilEmsDone(job, 120_000));
            assertTrue(died.getMessage().contains("grid point " + DIE_AT), died.getMessage());
            assertEquals(DIE_AT, a.gridPoints.get(job).get());
            assertEquals("RUNNING", emsState(job), "host A's lease is still there: it died, it did not hand back");
            assertEquals(DIE_AT - 1, checkpointedRows(job), "A's last upload holds the grid points before it died");

            Host b = new Host("hostB");
            assertTrue(!Files.exists(b.work.resolve("job-" + job).resolve(emsStage(job))), "B has no local copy");
            b.runUntilEmsDone(job, 120_000);
            int resumed = b.gridPoints.get(job).get();
            assertEquals(2 * (K + 1) - (DIE_AT - 1), resumed, "B computed only the grid points A had not uploaded");
            assertTrue(logged(job, "resuming from the checkpoint uploaded by"), "the job log says where it resumed");

            engine.store().cancel(job, "test: its EMS stage is what this test looks at");
            // the same job uninterrupted on a third host
            reference = submit(s, spec);
            Host c = new Host("hostC");
            c.runUntilEmsDone(reference, 120_000);
            assertEquals(2 * (K + 1), c.gridPoints.get(reference).get());
            JsonNode outB = emsOutput(job);
            JsonNode outC = emsOutput(reference);
            assertNotNull(outB.get("sha256"), outB.toString());
            for (String f : List.of("l.npz", "sb.npz")) {
                assertEquals(outC.path("sha256").path(f).asText(), outB.path("sha256").path(f).asText(), f);
                String dir = outB.path("dir").asText();
                assertArrayEquals(Files.readAllBytes(c.work.resolve("job-" + reference).resolve(dir).resolve(f)),
                        Files.readAllBytes(b.work.resolve("job-" + job).resolve(dir).resolve(f)), f);
            }
            assertTrue(finalCheckpoint(job), "the finished directory is the stage's last checkpoint");
        } finally {
            engine.store().cancel(job, "test done");
            if (reference != 0) {
                engine.store().cancel(reference, "test done");
            }
        }
    }

    private long submit(OpsSupport s, String spec) {
        return ((Number) OpsSupport.as(s.submitter).contentType("application/json")
                .header("Idempotency-Key", java.util.UUID.randomUUID().toString()).body(spec)
                .post("/api/v1/jobs").then().statusCode(202).extract().path("id")).longValue();
    }

    private void cancelUnfinishedJobs() throws Exception {
        List<Long> ids = new java.util.ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id FROM jobs WHERE state IN ('QUEUED', 'RUNNING')"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        for (long id : ids) {
            engine.store().cancel(id, "cancelled by CheckpointResumeTest before it starts its hosts");
        }
    }

    private String emsStage(long job) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT name FROM job_stages WHERE job_id = ? AND kind = ?")) {
            ps.setLong(1, job);
            ps.setString(2, StageKind.FIT_EMS.id());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "job " + job + " has an EMS stage");
                return rs.getString(1);
            }
        }
    }

    private String emsState(long job) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT state FROM job_stages WHERE job_id = ? AND kind = ?")) {
            ps.setLong(1, job);
            ps.setString(2, StageKind.FIT_EMS.id());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "job " + job + " has an EMS stage");
                return rs.getString(1);
            }
        }
    }

    private JsonNode emsOutput(long job) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT output::text FROM job_stages WHERE job_id = ? AND kind = ?")) {
            ps.setLong(1, job);
            ps.setString(2, StageKind.FIT_EMS.id());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return JobEngine.mapper().readTree(rs.getString(1));
            }
        }
    }

    /** The l rows done in the EMS checkpoint recorded for the job (its ems-progress.json). */
    private int checkpointedRows(long job) throws Exception {
        String tree;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT tree_sha256 FROM stage_checkpoints WHERE job_id = ? AND stage = ?")) {
            ps.setLong(1, job);
            ps.setString(2, emsStage(job));
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "a checkpoint of job " + job + " was recorded");
                tree = rs.getString(1).trim();
            }
        }
        SharedArtifacts probe = new SharedArtifacts(new PgBlobStore(ds, 256 * 1024), tmp.resolve("probe/cache"));
        Path dir = tmp.resolve("probe/dir");
        probe.fetchTree(tree, dir);
        try (var files = Files.walk(dir)) {
            Path p = files.filter(f -> f.getFileName().toString().equals("ems-progress.json")).findFirst()
                    .orElseThrow(() -> new AssertionError("no ems-progress.json in the checkpoint"));
            return JobEngine.mapper().readTree(p.toFile()).path("lDone").asInt();
        }
    }

    private boolean finalCheckpoint(long job) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT k.final AND k.tree_sha256 = a.tree_sha256 FROM stage_checkpoints k JOIN stage_artifacts a "
                        + "ON a.job_id = k.job_id AND a.stage = k.stage WHERE k.job_id = ? AND k.stage = ?")) {
            ps.setLong(1, job);
            ps.setString(2, emsStage(job));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private boolean logged(long job, String text) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM job_logs WHERE job_id = ? AND message LIKE ?")) {
            ps.setLong(1, job);
            ps.setString(2, "%" + text + "%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }
}
