package io.solvertune.service.db;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

/**
 * Decides where the datasource points when {@code quarkus.datasource.jdbc.url} is not configured. Pure logic (the
 * probe is passed in) so it is unit-testable; {@link EmbeddedPgConfigSourceFactory} applies the decision.
 *
 * <ol>
 *   <li>{@code quarkus.datasource.jdbc.url} set (properties, env {@code QUARKUS_DATASOURCE_JDBC_URL}, {@code -D},
 *       any profile) → {@link Kind#CONFIGURED}: nothing is supplied, the configured server is used as is.</li>
 *   <li>{@value #DEFAULT_URL} set (the test profile sets it to the local PostgreSQL) → probed with a plain JDBC
 *       connect ({@value #PROBE_TIMEOUT_SECONDS} s timeout) using the effective username/password. Reachable →
 *       {@link Kind#DEFAULT_DATASOURCE}: url/username/password are supplied. Unreachable → {@link Kind#EMBEDDED}
 *       with a warning (unless the embedded server is disabled: then the default is supplied anyway and the
 *       datasource fails with the driver's own error).</li>
 *   <li>otherwise → {@link Kind#EMBEDDED} if {@value #EMBEDDED_ENABLED} (default true), else {@link Kind#NONE}.</li>
 * </ol>
 */
final class DatasourceDefaults {

    static final String URL = "quarkus.datasource.jdbc.url";
    static final String USERNAME = "quarkus.datasource.username";
    static final String PASSWORD = "quarkus.datasource.password";

    /** A datasource to use when none is configured, if it is reachable (the test profile's local PostgreSQL). */
    static final String DEFAULT_URL = "solvertune.default-datasource.url";
    static final String DEFAULT_USERNAME = "solvertune.default-datasource.username";
    static final String DEFAULT_PASSWORD = "solvertune.default-datasource.password";

    /** Whether to start an embedded PostgreSQL when no (reachable) datasource is configured; default true. */
    static final String EMBEDDED_ENABLED = "solvertune.embedded-pg.enabled";
    /** Data directory of the embedded PostgreSQL; {@value #TEMP_DATA_DIR} = a throw-away directory. */
    static final String EMBEDDED_DATA_DIR = "solvertune.embedded-pg.data-dir";
    static final String TEMP_DATA_DIR = "temp";
    /**
     * Whether to connect to the embedded server of another process (a running service) on the data directory instead
     * of refusing to start a second one there; default false, the {@code token} command sets it.
     */
    static final String EMBEDDED_ATTACH = "solvertune.embedded-pg.attach";
    /**
     * Whether to connect to a configured datasource once before the application starts, so that an unreachable
     * server is one clear error rather than a failed boot; default false, the {@code token} command sets it.
     */
    static final String CHECK_CONFIGURED = "solvertune.datasource.check-configured";

    static final int PROBE_TIMEOUT_SECONDS = 2;

    enum Kind { CONFIGURED, DEFAULT_DATASOURCE, EMBEDDED, NONE }

    /**
     * The outcome. For {@link Kind#DEFAULT_DATASOURCE}: url/username/password to supply. For {@link Kind#EMBEDDED}:
     * the data directory ({@code null} = throw-away). {@code warning} is non-null when a fallback happened.
     */
    record Decision(Kind kind, String url, String username, String password, Path dataDir, String warning) {
        static Decision of(Kind kind) {
            return new Decision(kind, null, null, null, null, null);
        }
    }

    /** Connects to a database; returns {@code null} when it worked, else why not. */
    @FunctionalInterface
    interface Probe {
        String failure(String url, String username, String password);
    }

    private DatasourceDefaults() {
    }

    /**
     * @param config the configuration as seen before this decision (profile-resolved; blank = unset)
     * @param probe  the reachability check
     */
    static Decision decide(Function<String, Optional<String>> config, Probe probe) {
        if (present(config, URL).isPresent()) {
            return Decision.of(Kind.CONFIGURED);
        }
        boolean embedded = present(config, EMBEDDED_ENABLED).map(v -> Boolean.parseBoolean(v.trim())).orElse(true);
        Optional<String> defaultUrl = present(config, DEFAULT_URL);
        if (defaultUrl.isPresent()) {
            String url = defaultUrl.get().trim();
            String user = present(config, DEFAULT_USERNAME).orElse(null);
            String password = present(config, DEFAULT_PASSWORD).orElse(null);
            // the datasource will log in with the effective credentials: an env/-D override wins over the default
            String effectiveUser = present(config, USERNAME).orElse(user);
            String effectivePassword = present(config, PASSWORD).orElse(password);
            String failure = embedded ? probe.failure(url, effectiveUser, effectivePassword) : null;
            if (failure == null) {
                return new Decision(Kind.DEFAULT_DATASOURCE, url, user, password, null, null);
            }
            Path dir = dataDir(config);
            return new Decision(Kind.EMBEDDED, null, null, null, dir, "PostgreSQL at " + url + " (user "
                    + effectiveUser + ") is not reachable (" + failure + "); falling back to an embedded PostgreSQL"
                    + (dir == null ? " with a throw-away data directory" : " in " + dir)
                    + ". Set QUARKUS_DATASOURCE_JDBC_URL/_USERNAME/_PASSWORD to use another server.");
        }
        return embedded ? new Decision(Kind.EMBEDDED, null, null, null, dataDir(config), null) : Decision.of(Kind.NONE);
    }

    /** The embedded data directory: configured, else {@code ~/.solvertune/pgdata}; {@code null} = throw-away. */
    static Path dataDir(Function<String, Optional<String>> config) {
        String home = System.getProperty("user.home");
        String d = present(config, EMBEDDED_DATA_DIR).map(String::trim).orElse(home + "/.solvertune/pgdata");
        if (d.toLowerCase(Locale.ROOT).equals(TEMP_DATA_DIR)) {
            return null;
        }
        d = d.replace("${user.home}", home);
        if (d.equals("~") || d.startsWith("~/")) {
            d = home + d.substring(1);
        }
        return Path.of(d).toAbsolutePath().normalize();
    }

    private static Optional<String> present(Function<String, Optional<String>> config, String key) {
        return config.apply(key).filter(v -> !v.isBlank());
    }

    /** A plain pgjdbc connect (no pool, no DriverManager) with {@value #PROBE_TIMEOUT_SECONDS} s timeouts. */
    static String jdbcProbe(String url, String username, String password) {
        Properties p = new Properties();
        if (username != null) {
            p.setProperty("user", username);
        }
        if (password != null) {
            p.setProperty("password", password);
        }
        String t = Integer.toString(PROBE_TIMEOUT_SECONDS);
        p.setProperty("connectTimeout", t);
        p.setProperty("loginTimeout", t);
        p.setProperty("socketTimeout", t);
        p.setProperty("ApplicationName", "solvertune-probe");
        try (Connection c = new org.postgresql.Driver().connect(url, p)) {
            if (c == null) {
                return "not a PostgreSQL JDBC URL";
            }
            return c.isValid(PROBE_TIMEOUT_SECONDS) ? null : "connection not valid";
        } catch (SQLException e) {
            String m = e.getMessage();
            return (m == null ? e.getClass().getSimpleName() : m.split("\n")[0])
                    + (e.getSQLState() != null ? " [SQLState " + e.getSQLState() + "]" : "");
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    /**
     * {@link #jdbcProbe}, remembered per JVM in a system property: {@code @QuarkusTest} boots one application per
     * test profile, each in its own class loader, and they should agree (and not wait for a timeout twice).
     */
    static String cachedJdbcProbe(String url, String username, String password) {
        String key = "solvertune.internal.datasource-probe." + username + "@" + url;
        String cached = System.getProperty(key);
        if (cached != null) {
            return cached.equals("ok") ? null : cached;
        }
        String failure = jdbcProbe(url, username, password);
        System.setProperty(key, failure == null ? "ok" : failure);
        return failure;
    }
}
