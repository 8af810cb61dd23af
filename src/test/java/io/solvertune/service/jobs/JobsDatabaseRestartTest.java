package io.solvertune.service.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.service.jobs.testing.TestStages;
import io.solvertune.tuning.job.PlannedStage;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A PostgreSQL restart in the middle of a job does not lose it: a worker (the shared {@link StageWorker} code over
 * plain JDBC) keeps going through the outage, retries its writes, and the job finishes. Uses its own embedded
 * PostgreSQL (stopped and started again on the same data directory and port), not the shared server.
 */
class JobsDatabaseRestartTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aJobSurvivesADatabaseRestart() throws Exception {
        Path data = Path.of("target", "pg-restart-" + UUID.randomUUID()).toAbsolutePath();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres pg = start(data, port);
        ScheduledExecutorService beats = Executors.newScheduledThreadPool(1);
        StageWorker worker = null;
        try {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL("jdbc:postgresql://localhost:" + port + "/postgres");
            ds.setUser("postgres");
            ds.setConnectTimeout(2);
            migrate(ds);
            long jobId = insertJob(ds, "{\"seed\": 3, \"shards\": 2, \"steps\": 40, \"stepMillis\": 50}");

            JobStore store = new JobStore(ds, JobEngine.mapper(), Duration.ofSeconds(3));
            worker = new StageWorker(store, kind -> Optional.ofNullable(TestStages.executors().get(kind)),
                    (job, model, kind, output) -> output, data.resolveSibling(data.getFileName() + "-work"),
                    Duration.ofMillis(100), beats);
            Thread t = new Thread(worker, "restart-test-worker");
            t.setDaemon(true);
            t.start();

            awaitProgress(ds, jobId, 5, 30_000);
            pg.close(); // the server goes away mid-stage
            Thread.sleep(1500);
            pg = start(data, port);

            long deadline = System.currentTimeMillis() + 40_000;
            String state = null;
            while (System.currentTimeMillis() < deadline) {
                state = query(ds, "SELECT state FROM jobs WHERE id = " + jobId);
                if ("SUCCEEDED".equals(state) || "FAILED".equals(state)) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals("SUCCEEDED", state, "after the restart the job finishes");
            JsonNode result = JSON.readTree(query(ds, "SELECT result::text FROM jobs WHERE id = " + jobId));
            // shard values for seed 3: ((3*31 + i) % 97) / 7 + i
            double expected = ((3 * 31) % 97) / 7.0 + ((3 * 31 + 1) % 97) / 7.0 + 1;
            assertEquals(expected, result.get("sum").asDouble(), 1e-12);
            assertTrue(Long.parseLong(query(ds, "SELECT count(*) FROM job_stages WHERE job_id = " + jobId
                    + " AND state = 'SUCCEEDED'")) == 4);
        } finally {
            if (worker != null) {
                worker.stop();
            }
            beats.shutdownNow();
            pg.close();
        }
    }

    /** The project's migrations in version order (plain Flyway outside Quarkus lacks its PostgreSQL plugin). */
    private static void migrate(PGSimpleDataSource ds) throws Exception {
        List<Path> files;
        try (java.util.stream.Stream<Path> list = java.nio.file.Files.list(Path.of("db", "migration"))) {
            files = list.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql"))
                    .sorted(java.util.Comparator.comparingInt(f -> Integer.parseInt(
                            f.getFileName().toString().substring(1, f.getFileName().toString().indexOf("__")))))
                    .toList();
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (Path f : files) {
                s.execute(java.nio.file.Files.readString(f));
            }
        }
    }

    private static EmbeddedPostgres start(Path data, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(data.toFile()).setCleanDataDirectory(false).setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60)).start();
    }

    private static long insertJob(PGSimpleDataSource ds, String specJson) throws Exception {
        JsonNode spec = JSON.readTree(specJson);
        List<PlannedStage> plan = new TestStages.Planner().plan(spec);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO api_tokens (id, name, role, token_hash) VALUES (1, 't', 'submitter', '"
                    + "0".repeat(64) + "')");
            s.execute("INSERT INTO models (id, name, kind, spec, content_hash, schedule, prediction_type) VALUES "
                    + "(1, 'm', 'analytic', '{\"preset\": \"gmm-sd-d32\"}', '" + "a".repeat(64) + "', '{}', 'noise')");
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jobs (idempotency_key, created_by, "
                    + "created_by_name, model_id, model_name, spec) VALUES ('k', 1, 't', 1, 'm', ?::jsonb) "
                    + "RETURNING id")) {
                ps.setString(1, specJson);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_stages (job_id, name, seq, kind, "
                    + "depends_on, params, state, max_attempts) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, 3)")) {
                int seq = 0;
                for (PlannedStage st : plan) {
                    ps.setLong(1, id);
                    ps.setString(2, st.name());
                    ps.setInt(3, seq++);
                    ps.setString(4, st.kind());
                    ps.setArray(5, c.createArrayOf("text", st.dependsOn().toArray()));
                    ps.setString(6, JSON.writeValueAsString(st.params()));
                    ps.setString(7, st.dependsOn().isEmpty() ? "READY" : "PENDING");
                    ps.executeUpdate();
                }
            }
            return id;
        }
    }

    private static void awaitProgress(PGSimpleDataSource ds, long jobId, long steps, long timeoutMs)
            throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            String n = query(ds, "SELECT count(*) FROM job_stages WHERE job_id = " + jobId
                    + " AND state = 'RUNNING' AND progress_done >= " + steps);
            if (!"0".equals(n)) {
                return;
            }
            Thread.sleep(20);
        }
        fail("no stage made progress");
    }

    private static String query(PGSimpleDataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (Exception e) {
            return null; // the server may still be starting
        }
    }
}
