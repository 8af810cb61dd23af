package io.solvertune.service.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory has one server. While another process (the service) runs it, the {@code token} command's lookup
 * finds it through {@code postmaster.pid} and connects to it instead of starting a second postmaster; a service
 * refuses to start on it; once it has stopped, the directory is free and a new server starts on the same data.
 */
class EmbeddedPostgresServerTest {

    @Test
    void attachesToTheServerOfARunningProcessAndStartsItsOwnWhenNoneRuns(@TempDir Path tmp) throws Exception {
        Path dataDir = tmp.resolve("pgdata");
        assertFalse(EmbeddedPostgresServer.inUse(dataDir));
        assertEquals(Optional.empty(), EmbeddedPostgresServer.runningServerUrl(dataDir, Duration.ofSeconds(1)));

        Process service = startService(dataDir, tmp.resolve("service.log"), "from-the-service");
        try {
            String serviceUrl = readyUrl(service, tmp.resolve("service.log"));
            assertTrue(EmbeddedPostgresServer.inUse(dataDir));

            String url = EmbeddedPostgresServer.runningServerUrl(dataDir, Duration.ofSeconds(30)).orElseThrow();
            assertEquals(serviceUrl, url);
            assertEquals(List.of("from-the-service"), markers(url));

            DatabaseUnavailableException e = assertThrows(DatabaseUnavailableException.class,
                    () -> EmbeddedPostgresServer.stopOrphan(dataDir));
            assertTrue(e.getMessage().contains("is in use by another running solvertune process"), e.getMessage());
        } finally {
            service.getOutputStream().close(); // the service stops
            assertTrue(service.waitFor(60, TimeUnit.SECONDS), "service process did not stop");
        }

        assertFalse(EmbeddedPostgresServer.inUse(dataDir));
        assertEquals(Optional.empty(), EmbeddedPostgresServer.runningServerUrl(dataDir, Duration.ofSeconds(1)));
        try (EmbeddedPostgres own = EmbeddedPostgresServer.start(dataDir)) {
            assertEquals(List.of("from-the-service"), markers(
                    "jdbc:postgresql://localhost:" + own.getPort() + "/" + EmbeddedPostgresServer.DATABASE));
        }
    }

    @Test
    void aDirectoryInUseWhoseServerNeverAnswersIsAClearError(@TempDir Path dataDir) throws Exception {
        Files.createDirectories(dataDir);
        // the lock held (by this JVM) but no postmaster.pid: a server that never came up
        try (var ch = java.nio.channels.FileChannel.open(dataDir.resolve("epg-lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             var lock = ch.lock()) {
            assertTrue(EmbeddedPostgresServer.inUse(dataDir));
            DatabaseUnavailableException e = assertThrows(DatabaseUnavailableException.class,
                    () -> EmbeddedPostgresServer.runningServerUrl(dataDir, Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("did not answer within 0 s")
                    && e.getMessage().contains("postmaster.pid"), e.getMessage());
        }
    }

    @Test
    void readsThePortOfAReadyLivePostmasterOnly(@TempDir Path dataDir) throws IOException {
        long me = ProcessHandle.current().pid();
        Files.writeString(dataDir.resolve("postmaster.pid"),
                me + "\n" + dataDir + "\n1700000000\n54321\n/tmp\nlocalhost\n  1234  5678\nready   \n");
        assertEquals(Optional.of(54321), EmbeddedPostgresServer.readyPort(dataDir));
        Files.writeString(dataDir.resolve("postmaster.pid"),
                me + "\n" + dataDir + "\n1700000000\n54321\n/tmp\nlocalhost\n  1234  5678\nstarting\n");
        assertEquals(Optional.empty(), EmbeddedPostgresServer.readyPort(dataDir), "still starting");
        Files.writeString(dataDir.resolve("postmaster.pid"),
                "999999999\n" + dataDir + "\n1700000000\n54321\n/tmp\nlocalhost\n  1234  5678\nready\n");
        assertEquals(Optional.empty(), EmbeddedPostgresServer.readyPort(dataDir), "dead process");
    }

    private static Process startService(Path dataDir, Path log, String marker) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EmbeddedServerProcess.class.getName(), dataDir.toString(), marker);
        pb.redirectError(log.toFile());
        return pb.start();
    }

    private static String readyUrl(Process p, Path log) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith("READY ")) {
                return line.substring(6);
            }
        }
        throw new AssertionError("the service process ended without starting its server:\n" + Files.readString(log));
    }

    private static List<String> markers(String url) throws SQLException {
        List<String> v = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgresServer.USER, "");
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM marker")) {
            while (rs.next()) {
                v.add(rs.getString(1));
            }
        }
        return v;
    }
}
