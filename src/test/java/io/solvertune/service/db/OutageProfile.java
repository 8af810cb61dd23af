package io.solvertune.service.db;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/** The application on a PostgreSQL reached through a {@link CuttableProxy}; no workers, short timeouts. */
public class OutageProfile implements QuarkusTestProfile {

    /** The proxy of the running test application. */
    static volatile CuttableProxy proxy;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("solvertune.workers.enabled", "false",
                "quarkus.datasource.jdbc.acquisition-timeout", "1S",
                "solvertune.db.outage-probe-interval", "200ms",
                "solvertune.db.retry-after", "3S");
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(ProxyResource.class));
    }

    /** Starts the proxy and points the datasource at it. */
    public static class ProxyResource implements QuarkusTestResourceLifecycleManager {

        @Override
        public Map<String, String> start() {
            String url = env("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/solvertune");
            URI u = URI.create(url.substring("jdbc:".length()));
            try {
                proxy = new CuttableProxy(u.getHost(), u.getPort() < 0 ? 5432 : u.getPort());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.datasource.jdbc.url", "jdbc:postgresql://127.0.0.1:" + proxy.port() + u.getPath(),
                    "quarkus.datasource.username", env("QUARKUS_DATASOURCE_USERNAME", "solvertune"),
                    "quarkus.datasource.password", env("QUARKUS_DATASOURCE_PASSWORD", "solvertune"));
        }

        @Override
        public void stop() {
            try {
                if (proxy != null) {
                    proxy.close();
                }
            } catch (IOException ignored) {
                // the application is gone anyway
            }
        }

        private static String env(String name, String dflt) {
            String v = System.getenv(name);
            return v == null || v.isBlank() ? dflt : v;
        }
    }
}
