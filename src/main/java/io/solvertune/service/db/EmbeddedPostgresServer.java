package io.solvertune.service.db;

import io.quarkus.runtime.Application;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The embedded PostgreSQL (zonky) used when no datasource is configured: one server per JVM, stopped at JVM exit
 * after the Quarkus application has shut down.
 *
 * <p>{@code @QuarkusTest} creates one application (and class loader) per test profile, so the running server is
 * found through a system property ({@value #URL_PROPERTY}), not a static field.
 */
final class EmbeddedPostgresServer {

    static final String URL_PROPERTY = "solvertune.internal.embedded-pg.jdbc-url";
    static final String DATABASE = "solvertune";
    static final String USER = "postgres";
    /** zonky's own lock file in the data directory, held while its server runs. */
    private static final String ZONKY_LOCK = "epg-lock";

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);

    private EmbeddedPostgresServer() {
    }

    /**
     * The JDBC URL of this JVM's embedded server, starting it on the first call.
     *
     * @param dataDir persistent data directory, or {@code null} for a throw-away one
     */
    static synchronized String jdbcUrl(Path dataDir) {
        String url = System.getProperty(URL_PROPERTY);
        if (url != null) {
            return url;
        }
        long t0 = System.nanoTime();
        EmbeddedPostgres pg = start(dataDir);
        url = "jdbc:postgresql://localhost:" + pg.getPort() + "/" + DATABASE;
        System.setProperty(URL_PROPERTY, url);
        LOG.infof("Embedded PostgreSQL started in %d ms: %s (data directory %s)",
                (System.nanoTime() - t0) / 1_000_000, url, dataDir == null ? "throw-away" : dataDir);
        return url;
    }

    private static EmbeddedPostgres start(Path dataDir) {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setRegisterShutdownHook(false) // ours (below) waits for Quarkus to stop first
                .setPGStartupWait(Duration.ofSeconds(60)); // crash recovery after an unclean stop can take a while
        if (dataDir != null) {
            try {
                Files.createDirectories(dataDir.getParent());
            } catch (IOException e) {
                throw new IllegalStateException("cannot create " + dataDir.getParent() + ": " + e.getMessage(), e);
            }
            stopOrphan(dataDir);
            b.setDataDirectory(dataDir.toFile()).setCleanDataDirectory(false)
                    // zonky's defaults are test-grade (-F = fsync off, synchronous_commit off): this data is kept
                    .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on");
        }
        EmbeddedPostgres pg;
        try {
            pg = b.start();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("Embedded PostgreSQL failed to start"
                    + (dataDir == null ? "" : " on " + dataDir) + ": " + e.getMessage()
                    + ". Configure an external server with QUARKUS_DATASOURCE_JDBC_URL/_USERNAME/_PASSWORD instead.", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(pg), "solvertune-embedded-pg-stop"));
        createDatabase(pg);
        return pg;
    }

    private static void createDatabase(EmbeddedPostgres pg) {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + " in the embedded PostgreSQL", e);
        }
    }

    /** JVM shutdown: let the application (pool, workers) stop before the database goes away. */
    private static void stop(EmbeddedPostgres pg) {
        Application app = Application.currentApplication();
        if (app != null) {
            Thread waiter = new Thread(app::awaitShutdown, "solvertune-embedded-pg-await-app");
            waiter.setDaemon(true);
            waiter.start();
            try {
                waiter.join(TimeUnit.SECONDS.toMillis(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            pg.close();
        } catch (IOException | RuntimeException e) {
            System.err.println("solvertune: stopping the embedded PostgreSQL failed: " + e);
        }
    }

    /**
     * A JVM killed with SIGKILL leaves its postmaster running (daemonized by pg_ctl, parent pid 1) with the data
     * directory locked; the next start would wait and fail. If no live process holds zonky's lock on the data
     * directory, a postmaster named in {@code postmaster.pid} is such an orphan: stop it (fast shutdown).
     */
    static void stopOrphan(Path dataDir) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        Path lockFile = dataDir.resolve(ZONKY_LOCK);
        if (Files.exists(lockFile)) {
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                if (lock == null) {
                    throw new IllegalStateException("The embedded PostgreSQL data directory " + dataDir
                            + " is in use by another running solvertune process; stop it or set "
                            + DatasourceDefaults.EMBEDDED_DATA_DIR + " to another directory.");
                }
                lock.release();
            } catch (IOException e) {
                LOG.debugf("cannot check %s: %s", lockFile, e);
            }
        }
        long pid;
        try {
            List<String> lines = Files.readAllLines(pidFile);
            pid = Long.parseLong(lines.get(0).trim());
        } catch (IOException | RuntimeException e) {
            return; // unreadable: PostgreSQL itself decides whether the pid file is stale
        }
        Optional<ProcessHandle> ph = ProcessHandle.of(pid);
        if (ph.isEmpty() || !ph.get().isAlive()) {
            return; // stale pid file: PostgreSQL removes it itself
        }
        String cmd = ph.get().info().command().orElse("");
        if (!cmd.endsWith("/postgres") && !cmd.equals("postgres")) {
            return; // the pid was reused by something else: leave it alone, PostgreSQL copes
        }
        LOG.warnf("Stopping an orphaned embedded PostgreSQL (pid %d) left on %s by a previous run", pid, dataDir);
        try {
            // SIGINT = fast shutdown (SIGTERM would wait for clients; ProcessHandle.destroy() sends SIGTERM)
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            ph.get().destroy();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            ph.get().onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("Orphaned PostgreSQL %d did not stop in 30 s; killing it", pid);
            ph.get().destroyForcibly();
        }
    }
}
