package io.solvertune.service.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Migrating a database written with the old 50-step id sequences (Hibernate's pooled allocation: ids 1, 2, 51, ...
 * and raw {@code nextval} jumps of 50) keeps every existing id and continues each sequence at max(id) + 1 in steps
 * of 1. Runs the real migrations ({@code db/migration}) with Flyway on a throw-away embedded PostgreSQL.
 */
class IdSequencesMigrationTest {

    /** sequence → table, every id sequence of the schema. */
    static final Map<String, String> SEQUENCES = Map.of(
            "models_seq", "models", "solver_configs_seq", "solver_configs", "api_tokens_seq", "api_tokens",
            "artifacts_seq", "artifacts", "config_aliases_seq", "config_aliases",
            "config_recommendations_seq", "config_recommendations");

    static EmbeddedPostgres pg;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static Flyway flyway(String target) {
        var c = Flyway.configure().dataSource(pg.getPostgresDatabase()).locations("filesystem:db/migration")
                .cleanDisabled(false);
        return (target == null ? c : c.target(target)).load();
    }

    @Test
    void oldIdsStayAndNewIdsContinueFromMaxPlusOneInStepsOfOne() throws SQLException {
        flyway(null).clean();
        flyway("5").migrate();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            // what the 50-step sequences left: two processes' pools for models (1, 2 and 51) and tokens (1, 51, 101)
            for (long id : new long[] {1, 2, 51}) {
                s.execute("INSERT INTO models (id, name, kind, spec, content_hash, schedule, prediction_type) VALUES ("
                        + id + ", 'm" + id + "', 'analytic', '{}', repeat('a', 64), '{}', 'noise')");
            }
            for (long id : new long[] {1, 51, 101}) {
                s.execute("INSERT INTO api_tokens (id, name, role, token_hash) VALUES (" + id + ", 't" + id
                        + "', 'admin', lpad(to_hex(" + id + "), 64, '0'))");
            }
            for (int i = 0; i < 3; i++) { // the sequences ran ahead of the rows
                s.execute("SELECT nextval('models_seq'), nextval('api_tokens_seq'), nextval('artifacts_seq')");
            }
        }

        flyway(null).migrate();

        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            assertEquals(List.of(1L, 2L, 51L), ids(s, "models"));
            assertEquals(List.of(1L, 51L, 101L), ids(s, "api_tokens"));
            assertEquals(List.of(52L, 53L, 54L), nextvals(s, "models_seq", 3));
            assertEquals(List.of(102L, 103L), nextvals(s, "api_tokens_seq", 2));
            assertEquals(List.of(1L, 2L), nextvals(s, "artifacts_seq", 2), "empty table: from 1");
            // every sequence of the schema (identity columns included) steps by 1
            List<String> all = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT sequencename, increment_by FROM pg_sequences"
                    + " WHERE schemaname = current_schema() ORDER BY 1")) {
                while (rs.next()) {
                    all.add(rs.getString(1));
                    assertEquals(1L, rs.getLong(2), rs.getString(1));
                }
            }
            assertTrue(all.containsAll(SEQUENCES.keySet()), all.toString());
        }
    }

    @Test
    void aFreshDatabaseNumbersFromOne() throws SQLException {
        flyway(null).clean();
        flyway(null).migrate();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            for (String seq : SEQUENCES.keySet()) {
                assertEquals(List.of(1L, 2L, 3L), nextvals(s, seq, 3), seq);
            }
        }
    }

    private static List<Long> ids(Statement s, String table) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT id FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    private static List<Long> nextvals(Statement s, String seq, int n) throws SQLException {
        List<Long> v = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try (ResultSet rs = s.executeQuery("SELECT nextval('" + seq + "')")) {
                rs.next();
                v.add(rs.getLong(1));
            }
        }
        return v;
    }
}
