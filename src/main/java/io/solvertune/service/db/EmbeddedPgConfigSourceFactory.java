package io.solvertune.service.db;

import io.quarkus.runtime.ExecutionMode;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

/**
 * Supplies the datasource when none is configured (see {@link DatasourceDefaults} for the rules): the test
 * profile's local PostgreSQL if reachable, else an embedded PostgreSQL. Registered in
 * {@code META-INF/services/io.smallrye.config.ConfigSourceFactory}.
 *
 * <p>The values come at ordinal {@value #ORDINAL}, below {@code application.properties} (250), env (300) and
 * system properties (400), so any explicit setting wins.
 *
 * <p>Quarkus also calls config source factories during the build (augmentation) and at static init; whatever is
 * returned there would be recorded into the application as a default. So this only acts at
 * {@link ExecutionMode#RUNTIME_INIT}.
 */
public final class EmbeddedPgConfigSourceFactory implements ConfigSourceFactory {

    static final int ORDINAL = 150;
    private static final Logger LOG = Logger.getLogger(EmbeddedPgConfigSourceFactory.class);

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext ctx) {
        if (ExecutionMode.current() != ExecutionMode.RUNTIME_INIT) {
            return List.of();
        }
        DatasourceDefaults.Decision d = DatasourceDefaults.decide(key -> value(ctx, key),
                DatasourceDefaults::cachedJdbcProbe);
        Map<String, String> props = new LinkedHashMap<>();
        switch (d.kind()) {
            case CONFIGURED -> {
                if (flag(ctx, DatasourceDefaults.CHECK_CONFIGURED)) {
                    check(value(ctx, DatasourceDefaults.URL).orElseThrow(),
                            value(ctx, DatasourceDefaults.USERNAME).orElse(null),
                            value(ctx, DatasourceDefaults.PASSWORD).orElse(null));
                }
                return List.of();
            }
            case NONE -> {
                return List.of();
            }
            case DEFAULT_DATASOURCE -> {
                props.put(DatasourceDefaults.URL, d.url());
                putIfNotNull(props, DatasourceDefaults.USERNAME, d.username());
                putIfNotNull(props, DatasourceDefaults.PASSWORD, d.password());
                LOG.debugf("No datasource URL configured; using %s", d.url());
            }
            case EMBEDDED -> {
                if (d.warning() != null) {
                    LOG.warn(d.warning());
                } else {
                    LOG.infof("No datasource URL configured (QUARKUS_DATASOURCE_JDBC_URL): using an embedded "
                            + "PostgreSQL, data directory %s", d.dataDir() == null ? "throw-away" : d.dataDir());
                }
                props.put(DatasourceDefaults.URL, EmbeddedPostgresServer.jdbcUrl(d.dataDir(),
                        flag(ctx, DatasourceDefaults.EMBEDDED_ATTACH)));
                props.put(DatasourceDefaults.USERNAME, EmbeddedPostgresServer.USER);
                props.put(DatasourceDefaults.PASSWORD, EmbeddedPostgresServer.USER); // trust auth: ignored
            }
            default -> throw new AssertionError(d.kind());
        }
        return List.of(new PropertiesConfigSource(props, "solvertune-datasource-defaults", ORDINAL));
    }

    private static boolean flag(ConfigSourceContext ctx, String key) {
        return value(ctx, key).map(v -> Boolean.parseBoolean(v.strip())).orElse(false);
    }

    /** Connects once; an unreachable server becomes a {@link DatabaseUnavailableException} naming it. */
    static void check(String url, String username, String password) {
        String failure = DatasourceDefaults.jdbcProbe(url.strip(), username, password);
        if (failure != null) {
            throw new DatabaseUnavailableException("cannot connect to PostgreSQL at " + url.strip()
                    + (username == null ? "" : " as " + username) + ": " + failure
                    + " (QUARKUS_DATASOURCE_JDBC_URL/_USERNAME/_PASSWORD)");
        }
    }

    private static Optional<String> value(ConfigSourceContext ctx, String key) {
        ConfigValue v = ctx.getValue(key);
        return Optional.ofNullable(v == null ? null : v.getValue());
    }

    private static void putIfNotNull(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }
}
