package io.solvertune.service.db;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

/**
 * A stand-in for a running service in another JVM: starts the embedded PostgreSQL on a data directory the way the
 * service does, writes a marker row, prints {@code READY <url>} and runs until its stdin closes.
 */
public final class EmbeddedServerProcess {
    private EmbeddedServerProcess() {
    }

    public static void main(String[] args) throws Exception {
        String url = EmbeddedPostgresServer.jdbcUrl(Path.of(args[0]));
        try (Connection c = DriverManager.getConnection(url, EmbeddedPostgresServer.USER, ""); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS marker (v TEXT)");
            s.execute("INSERT INTO marker VALUES ('" + args[1] + "')");
        }
        System.out.println("READY " + url);
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the test closes our stdin
        }
        System.exit(0); // the shutdown hook stops PostgreSQL
    }
}
