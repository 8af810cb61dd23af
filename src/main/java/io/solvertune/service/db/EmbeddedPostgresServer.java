package io.solvertune.service.db;

import io.quarkus.runtime.Application;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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
 *
 * <p>A data directory holds at most one server. While a service runs on it, the {@code token} command
 * ({@link #jdbcUrl(Path, boolean) attach}) connects to that server: the port is in PostgreSQL's own
 * {@code postmaster.pid}.
 */
final class EmbeddedPostgresServer {

    static final String URL_PROPERTY = "solvertune.internal.embedded-pg.jdbc-url";
    static final String DATABASE = "solvertune";
    static final String USER = "postgres";
    /** zonky's own lock file in the data directory, held while its server runs. */
    private static final String ZONKY_LOCK = "epg-lock";
    /** How long to wait for a server that another process is still starting (first start: initdb, extraction). */
    static final Duration ATTACH_WAIT = Duration.ofSeconds(60);

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);

    private EmbeddedPostgresServer() {
    }

    /**
     * The JDBC URL of this JVM's embedded server, starting it on the first call.
     *
     * @param dataDir persistent data directory, or {@code null} for a throw-away one
     */
    static synchronized String jdbcUrl(Path dataDir) {
        return jdbcUrl(dataDir, false);
    }

    /**
     * The JDBC URL of this JVM's embedded server, starting it on the first call; with {@code attach}, the server of
     * another process (a running service) when one runs on {@code dataDir}.
     *
     * @param dataDir persistent data directory, or {@code null} for a throw-away one
     * @param attach  whether to connect to another process's server on {@code dataDir} instead of failing
     */
    static synchronized String jdbcUrl(Path dataDir, boolean attach) {
        String url = System.getProperty(URL_PROPERTY);
        if (url != null) {
            return url;
        }
        long t0 = System.nanoTime();
        EmbeddedPostgres pg;
        if (dataDir == null) {
            pg = start(null);
        } else {
            try {
                Files.createDirectories(dataDir.getParent());
            } catch (IOException e) {
                throw new DatabaseUnavailableException("cannot create " + dataDir.getParent() + ": " + e.getMessage(), e);
            }
            // zonky runs initdb before it locks the data directory: processes starting at once take turns here
            try (StartLock ignored = StartLock.acquire(dataDir, ATTACH_WAIT)) {
                if (attach) {
                    Optional<String> running = runningServerUrl(dataDir, ATTACH_WAIT);
                    if (running.isPresent()) {
                        LOG.debugf("Using the embedded PostgreSQL of a running solvertune process: %s", running.get());
                        return running.get(); // not remembered: this process does not own that server
                    }
                }
                pg = start(dataDir);
            }
        }
        url = "jdbc:postgresql://localhost:" + pg.getPort() + "/" + DATABASE;
        System.setProperty(URL_PROPERTY, url);
        LOG.infof("Embedded PostgreSQL started in %d ms: %s (data directory %s)",
                (System.nanoTime() - t0) / 1_000_000, url, dataDir == null ? "throw-away" : dataDir);
        return url;
    }

    /**
     * Held while a process starts the server on a data directory (a file {@code <data dir>.lock} next to it, locked
     * with an OS file lock, so a killed process releases it).
     */
    static final class StartLock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private StartLock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        static StartLock acquire(Path dataDir, Duration wait) {
            Path file = dataDir.resolveSibling(dataDir.getFileName() + ".lock");
            long deadline = System.nanoTime() + wait.toNanos();
            try {
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                while (true) {
                    FileLock l;
                    try {
                        l = ch.tryLock();
                    } catch (OverlappingFileLockException e) {
                        l = null; // another class loader of this JVM is starting it
                    }
                    if (l != null) {
                        return new StartLock(ch, l);
                    }
                    if (System.nanoTime() > deadline) {
                        ch.close();
                        throw new DatabaseUnavailableException("another solvertune process has been starting the "
                                + "embedded PostgreSQL on " + dataDir + " for over " + wait.toSeconds() + " s");
                    }
                    Thread.sleep(100);
                }
            } catch (IOException e) {
                throw new DatabaseUnavailableException("cannot lock " + file + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DatabaseUnavailableException("interrupted while waiting to start the embedded PostgreSQL");
            }
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                LOG.debugf("releasing the start lock: %s", e);
            }
        }
    }

    static EmbeddedPostgres start(Path dataDir) {
        EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                .setRegisterShutdownHook(false) // ours (below) waits for Quarkus to stop first
                .setPGStartupWait(Duration.ofSeconds(60)); // crash recovery after an unclean stop can take a while
        if (dataDir != null) {
            stopOrphan(dataDir);
            b.setDataDirectory(dataDir.toFile()).setCleanDataDirectory(false)
                    // zonky's defaults are test-grade (-F = fsync off, synchronous_commit off): this data is kept
                    .setServerConfig("fsync", "on").setServerConfig("synchronous_commit", "on");
        }
        EmbeddedPostgres pg;
        try {
            pg = b.start();
        } catch (IOException | RuntimeException e) {
            throw new DatabaseUnavailableException("Embedded PostgreSQL failed to start"
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

    /** Whether a live process (this JVM included) holds zonky's lock on {@code dataDir}: its server runs there. */
    static boolean inUse(Path dataDir) {
        Path lockFile = dataDir.resolve(ZONKY_LOCK);
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // held by this JVM
        } catch (IOException e) {
            LOG.debugf("cannot check %s: %s", lockFile, e);
            return false;
        }
    }

    /**
     * The JDBC URL of the server another process runs on {@code dataDir}, or empty if none runs there. A server that
     * is still starting (its process holds the lock, {@code postmaster.pid} is missing or not yet "ready", or the
     * database is not created yet) is waited for up to {@code wait}.
     *
     * @throws DatabaseUnavailableException if the directory is in use but no server answers within {@code wait}
     */
    static Optional<String> runningServerUrl(Path dataDir, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        String last = "no postmaster.pid";
        while (inUse(dataDir)) {
            Optional<Integer> port = readyPort(dataDir);
            if (port.isPresent()) {
                String url = "jdbc:postgresql://localhost:" + port.get() + "/" + DATABASE;
                String failure = DatasourceDefaults.jdbcProbe(url, USER, USER);
                if (failure == null) {
                    return Optional.of(url);
                }
                last = url + ": " + failure;
            } else {
                last = "its postmaster.pid does not say ready";
            }
            if (System.nanoTime() > deadline) {
                throw new DatabaseUnavailableException("The embedded PostgreSQL data directory " + dataDir
                        + " is in use by another solvertune process, but its server did not answer within "
                        + wait.toSeconds() + " s (" + last + ").");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DatabaseUnavailableException("interrupted while waiting for the embedded PostgreSQL");
            }
        }
        return Optional.empty();
    }

    /**
     * The port in {@code postmaster.pid} if it says the server is ready and its process is alive. The file's lines:
     * pid, data directory, start time, port, socket directory, listen address, shared memory key, status.
     */
    static Optional<Integer> readyPort(Path dataDir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
        } catch (IOException e) {
            return Optional.empty();
        }
        if (lines.size() < 8 || !lines.get(7).strip().equals("ready")) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(lines.get(0).strip());
            int port = Integer.parseInt(lines.get(3).strip());
            boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            return alive && port > 0 ? Optional.of(port) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
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
        if (inUse(dataDir)) {
            throw new DatabaseUnavailableException("The embedded PostgreSQL data directory " + dataDir
                    + " is in use by another running solvertune process; stop it or set "
                    + DatasourceDefaults.EMBEDDED_DATA_DIR + " to another directory.");
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
