package io.solvertune.service.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.service.db.DatasourceDefaults.Decision;
import io.solvertune.service.db.DatasourceDefaults.Kind;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The datasource fallback rules of {@link DatasourceDefaults}, without Quarkus. */
class DatasourceDefaultsTest {

    private static final String LOCAL = "jdbc:postgresql://127.0.0.1:5432/solvertune";

    private final Map<String, String> config = new HashMap<>();
    private final List<String> probed = new ArrayList<>();

    private Function<String, Optional<String>> config() {
        return k -> Optional.ofNullable(config.get(k));
    }

    private DatasourceDefaults.Probe probe(String failure) {
        return (url, user, password) -> {
            probed.add(user + ":" + password + "@" + url);
            return failure;
        };
    }

    private void testProfile() {
        config.put(DatasourceDefaults.DEFAULT_URL, LOCAL);
        config.put(DatasourceDefaults.DEFAULT_USERNAME, "solvertune");
        config.put(DatasourceDefaults.DEFAULT_PASSWORD, "solvertune");
        config.put(DatasourceDefaults.EMBEDDED_DATA_DIR, "temp");
    }

    @Test
    void configuredUrlWinsWithoutProbing() {
        testProfile();
        config.put(DatasourceDefaults.URL, "jdbc:postgresql://db:5432/x");
        assertEquals(Kind.CONFIGURED, DatasourceDefaults.decide(config(), probe("down")).kind());
        assertTrue(probed.isEmpty());
    }

    @Test
    void blankUrlCountsAsUnset() {
        config.put(DatasourceDefaults.URL, "  ");
        assertEquals(Kind.EMBEDDED, DatasourceDefaults.decide(config(), probe(null)).kind());
    }

    @Test
    void reachableDefaultIsSupplied() {
        testProfile();
        Decision d = DatasourceDefaults.decide(config(), probe(null));
        assertEquals(Kind.DEFAULT_DATASOURCE, d.kind());
        assertEquals(LOCAL, d.url());
        assertEquals("solvertune", d.username());
        assertEquals("solvertune", d.password());
        assertNull(d.warning());
        assertEquals(List.of("solvertune:solvertune@" + LOCAL), probed);
    }

    @Test
    void unreachableDefaultFallsBackToThrowAwayEmbeddedWithWarning() {
        testProfile();
        Decision d = DatasourceDefaults.decide(config(), probe("Connection refused"));
        assertEquals(Kind.EMBEDDED, d.kind());
        assertNull(d.dataDir(), "throw-away data dir");
        assertNotNull(d.warning());
        assertTrue(d.warning().contains(LOCAL) && d.warning().contains("Connection refused")
                && d.warning().contains("embedded"), d.warning());
    }

    @Test
    void probeUsesOverriddenCredentials() {
        testProfile();
        config.put(DatasourceDefaults.USERNAME, "ci");
        config.put(DatasourceDefaults.PASSWORD, "secret");
        Decision d = DatasourceDefaults.decide(config(), probe(null));
        assertEquals(List.of("ci:secret@" + LOCAL), probed);
        assertEquals(Kind.DEFAULT_DATASOURCE, d.kind()); // the env values still win over the supplied defaults
    }

    @Test
    void noFallbackWhenEmbeddedDisabled() {
        testProfile();
        config.put(DatasourceDefaults.EMBEDDED_ENABLED, "false");
        assertEquals(Kind.DEFAULT_DATASOURCE, DatasourceDefaults.decide(config(), probe("down")).kind());
        config.remove(DatasourceDefaults.DEFAULT_URL);
        assertEquals(Kind.NONE, DatasourceDefaults.decide(config(), probe("down")).kind());
    }

    @Test
    void prodDefaultIsPersistentEmbeddedInHome() {
        Decision d = DatasourceDefaults.decide(config(), probe("unused"));
        assertEquals(Kind.EMBEDDED, d.kind());
        assertEquals(Path.of(System.getProperty("user.home"), ".solvertune", "pgdata"), d.dataDir());
        assertNull(d.warning());
        assertTrue(probed.isEmpty());
    }

    @Test
    void dataDirExpandsHome() {
        String home = System.getProperty("user.home");
        config.put(DatasourceDefaults.EMBEDDED_DATA_DIR, "${user.home}/pg");
        assertEquals(Path.of(home, "pg"), DatasourceDefaults.dataDir(config()));
        config.put(DatasourceDefaults.EMBEDDED_DATA_DIR, "~/pg2");
        assertEquals(Path.of(home, "pg2"), DatasourceDefaults.dataDir(config()));
        config.put(DatasourceDefaults.EMBEDDED_DATA_DIR, "TEMP");
        assertNull(DatasourceDefaults.dataDir(config()));
    }

    @Test
    void jdbcProbeReportsAClosedPortQuickly() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again below: nothing listens there
        }
        long t0 = System.nanoTime();
        String failure = DatasourceDefaults.jdbcProbe("jdbc:postgresql://127.0.0.1:" + port + "/x", "u", "p");
        assertNotNull(failure);
        assertTrue((System.nanoTime() - t0) / 1e9 < 5, "probe took too long");
        assertEquals("not a PostgreSQL JDBC URL", DatasourceDefaults.jdbcProbe("jdbc:h2:mem:x", "u", "p"));
    }

    @Test
    void factoryDoesNothingOutsideRuntimeInit() {
        // outside a running Quarkus application (and during the build) the execution mode is not RUNTIME_INIT
        assertFalse(new EmbeddedPgConfigSourceFactory().getConfigSources(null).iterator().hasNext());
    }
}
