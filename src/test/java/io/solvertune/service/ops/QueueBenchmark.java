package io.solvertune.service.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.service.jobs.JobEngine;
import io.solvertune.service.jobs.JobStore;
import io.solvertune.service.jobs.StageWorker;
import io.solvertune.tuning.job.StageExecutor;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The queue's benchmark (BENCHMARKS.md "Job queue: workers on one database"): 1, 2, 4 and 8 real {@link StageWorker}
 * loops (reclaim, finish, claim with FOR UPDATE SKIP LOCKED, heartbeat, complete) against one PostgreSQL, each with its
 * own connection, on one job of independent synthetic stages. Prints stage claims per second and the lease overhead:
 * the database time the loop spends per stage (claim + heartbeats + completion + reclaim/finish polls) and its share
 * of a worker's time at two stage lengths (0 ms: the queue's ceiling; 50 ms).
 *
 * <pre>
 * QUARKUS_DATASOURCE_JDBC_URL=... mvn -B -o test -Dtest=QueueBenchmark -DexcludedGroups= \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dbench.stages=400
 * </pre>
 * Slow (tagged), so not in the default test run. Point it at a database of your own: it migrates it, cancels the
 * jobs active in it and adds its own.
 */
@Tag("slow")
class QueueBenchmark {

    static final String URL = env("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/solvertune");
    static final String USER = env("QUARKUS_DATASOURCE_USERNAME", "solvertune");
    static final String PASSWORD = env("QUARKUS_DATASOURCE_PASSWORD", "solvertune");

    static String env(String k, String d) {
        String v = System.getenv(k);
        return v == null || v.isBlank() ? d : v;
    }

    /** One connection per thread, its close() ignored; time spent holding it is counted as database time. */
    static final class PerThread implements DataSource {
        final ThreadLocal<Connection> conns = new ThreadLocal<>();
        final List<Connection> all = new ArrayList<>();
        final AtomicLong dbNanos = new AtomicLong();

        @Override
        public Connection getConnection() throws SQLException {
            Connection c = conns.get();
            if (c == null) {
                c = DriverManager.getConnection(URL, USER, PASSWORD);
                conns.set(c);
                synchronized (all) {
                    all.add(c);
                }
            }
            Connection real = c;
            long t0 = System.nanoTime();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, (p, m, a) -> {
                        if (m.getName().equals("close")) {
                            dbNanos.addAndGet(System.nanoTime() - t0);
                            return null;
                        }
                        try {
                            return m.invoke(real, a);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        @Override
        public Connection getConnection(String u, String p) throws SQLException {
            return getConnection();
        }

        void closeAll() throws SQLException {
            for (Connection c : all) {
                c.close();
            }
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public java.util.logging.Logger getParentLogger() {
            return java.util.logging.Logger.getLogger("bench");
        }

        @Override
        public <T> T unwrap(Class<T> iface) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }

    @Test
    void claimsPerSecondAndLeaseOverheadFor1248Workers() throws Exception {
        java.util.logging.Logger.getLogger("io.solvertune").setLevel(Level.WARNING);
        int stages = Integer.getInteger("bench.stages", 400);
        Flyway.configure().dataSource(URL, USER, PASSWORD).locations("filesystem:db/migration").load().migrate();
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD);
             PreparedStatement ps = c.prepareStatement("UPDATE jobs SET state = 'CANCELLED' "
                     + "WHERE state IN ('QUEUED', 'RUNNING')")) {
            ps.executeUpdate(); // the workers below claim any READY stage: only the benchmark's may be there
        }
        long token;
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD);
             PreparedStatement ps = c.prepareStatement("INSERT INTO api_tokens (id, name, role, token_hash) VALUES "
                     + "(nextval('api_tokens_seq'), 'queue-benchmark', 'submitter', ?) RETURNING id")) {
            ps.setString(1, String.format("%064x", System.nanoTime()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                token = rs.getLong(1);
            }
        }
        System.out.printf(Locale.ROOT, "queue benchmark: %d independent stages per run, lease 30 s, %d CPU cores, "
                + "PostgreSQL %s%n", stages, Runtime.getRuntime().availableProcessors(), URL);
        System.out.println("| workers | stage ms | wall s | claims/s | DB ms per stage | DB share of worker time |");
        System.out.println("|---|---|---|---|---|---|");
        for (long stageMs : new long[] {0, 50}) {
            for (int workers : new int[] {1, 2, 4, 8}) {
                run(token, workers, stageMs, stageMs == 0 ? stages : Math.min(stages, 40 * workers));
            }
        }
    }

    private void run(long token, int workers, long stageMs, int stages) throws Exception {
        ObjectMapper json = JobEngine.mapper();
        long jobId;
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jobs (idempotency_key, created_by, "
                    + "created_by_name, model_name, spec, state) VALUES (?, ?, 'queue-benchmark', 'none', "
                    + "'{}'::jsonb, 'QUEUED') RETURNING id")) {
                ps.setString(1, "bench-" + System.nanoTime());
                ps.setLong(2, token);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    jobId = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_stages (job_id, name, seq, kind, state, "
                    + "max_attempts) VALUES (?, ?, ?, 'bench', 'READY', 3)")) {
                for (int i = 0; i < stages; i++) {
                    ps.setLong(1, jobId);
                    ps.setString(2, String.format("s%05d", i));
                    ps.setInt(3, i);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
        PerThread ds = new PerThread();
        JobStore store = new JobStore(ds, json, Duration.ofSeconds(30));
        StageExecutor exec = ctx -> {
            if (stageMs > 0) {
                Thread.sleep(stageMs);
            }
            ctx.progress(1, 1, "done");
            return json.createObjectNode().put("n", 1);
        };
        ScheduledExecutorService beats = Executors.newScheduledThreadPool(1);
        Path work = Files.createTempDirectory("queue-bench");
        List<Thread> threads = new ArrayList<>();
        AtomicLong ran = new AtomicLong();
        long t0 = System.nanoTime();
        for (int w = 0; w < workers; w++) {
            StageWorker worker = new StageWorker(store, k -> Optional.of(exec), (j, m, k, o) -> o, work,
                    Duration.ofMillis(20), beats);
            Thread t = new Thread(() -> {
                while (worker.step()) {
                    ran.incrementAndGet();
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        beats.shutdownNow();
        ds.closeAll();
        if (ran.get() != stages) {
            throw new AssertionError("ran " + ran.get() + " of " + stages);
        }
        double dbMsPerStage = ds.dbNanos.get() / 1e6 / stages;
        double busy = workers * wall;
        System.out.printf(Locale.ROOT, "| %d | %d | %.2f | %.0f | %.2f | %.0f %% |%n", workers, stageMs, wall,
                stages / wall, dbMsPerStage, 100 * ds.dbNanos.get() / 1e9 / busy);
    }
}
