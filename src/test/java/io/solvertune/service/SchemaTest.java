package io.solvertune.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.persistence.SolverConfigEntity;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.List;
import java.util.UUID;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.SmallRyeConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** Flyway created the schema, the entities match it (Hibernate validated it at boot), published rows are immutable. */
@QuarkusTest
class SchemaTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    EntityManager em;

    @Test
    void flywayCreatedTheTables() {
        List<?> tables = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                        + "AND table_name IN ('models', 'solver_configs', 'flyway_schema_history') ORDER BY 1")
                .getResultList());
        assertEquals(List.of("flyway_schema_history", "models", "solver_configs"), tables);
        Object v1 = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery(
                "SELECT success FROM flyway_schema_history WHERE version = '1'").getSingleResult());
        assertEquals(Boolean.TRUE, v1);
    }

    @Test
    void persistsAndReadsModelAndConfigWithJsonb() throws Exception {
        long configId = QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = model("gmm-" + UUID.randomUUID());
            m.persist();
            SolverConfigEntity c = config(m, 1);
            c.persist();
            return c.id;
        });
        QuarkusTransaction.requiringNew().run(() -> {
            SolverConfigEntity c = SolverConfigEntity.findById(configId);
            assertEquals("dpmsolver++", c.solver);
            assertEquals(json("{\"order\":\"2\",\"method\":\"multistep\"}"), c.solverOptions);
            assertEquals(json("{\"codec\":1,\"timesteps\":[1.0,0.5,0.001]}"), c.values);
            assertEquals(json("{}"), c.metrics);
            assertEquals("noise", c.model.predictionType);
            assertTrue(c.createdAt != null);
        });
        // the column really is jsonb (queryable with JSON operators)
        Object order = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery(
                "SELECT solver_options->>'order' FROM solver_configs WHERE id = ?1").setParameter(1, configId)
                .getSingleResult());
        assertEquals("2", order);
    }

    @Test
    void publishedConfigsCannotBeUpdated() {
        long configId = QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = model("imm-" + UUID.randomUUID());
            m.persist();
            SolverConfigEntity c = config(m, 1);
            c.persist();
            return c.id;
        });
        Exception sql = assertThrows(Exception.class, () -> QuarkusTransaction.requiringNew().run(() ->
                em.createNativeQuery("UPDATE solver_configs SET nfe = nfe + 1 WHERE id = ?1")
                        .setParameter(1, configId).executeUpdate()));
        assertTrue(causeMessages(sql).contains("published and immutable"), causeMessages(sql));

        Exception orm = assertThrows(Exception.class, () -> QuarkusTransaction.requiringNew().run(() -> {
            SolverConfigEntity c = SolverConfigEntity.findById(configId);
            c.nfe = 99;
        }));
        assertTrue(causeMessages(orm).contains("published and immutable"), causeMessages(orm));
        int nfe = QuarkusTransaction.requiringNew().call(() -> SolverConfigEntity.<SolverConfigEntity>findById(configId).nfe);
        assertEquals(10, nfe);

        // a new version of the same key is how a config changes
        QuarkusTransaction.requiringNew().run(() -> {
            SolverConfigEntity old = SolverConfigEntity.findById(configId);
            config(old.model, 2).persist();
        });
    }

    @Test
    void configKeyIsUnique() {
        long modelId = QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = model("uniq-" + UUID.randomUUID());
            m.persist();
            config(m, 1).persist();
            return m.id;
        });
        Exception e = assertThrows(Exception.class, () -> QuarkusTransaction.requiringNew().run(() ->
                config(ModelEntity.findById(modelId), 1).persist()));
        assertTrue(causeMessages(e).contains("solver_configs_key"), causeMessages(e));
    }

    /**
     * Without an explicit datasource URL the tests use the local PostgreSQL when it is reachable (CI) and only fall
     * back to the embedded server when it is not (fresh machine).
     */
    @Test
    void testsUseTheLocalPostgresWhenReachable() {
        var config = ConfigProvider.getConfig();
        ConfigValue url = ((SmallRyeConfig) config).getConfigValue("quarkus.datasource.jdbc.url");
        if (!"solvertune-datasource-defaults".equals(url.getSourceName())) {
            return; // explicitly configured (env/-D): used as is
        }
        String defaultUrl = config.getValue("solvertune.default-datasource.url", String.class);
        boolean reachable;
        DriverManager.setLoginTimeout(2);
        try (Connection c = DriverManager.getConnection(defaultUrl,
                config.getValue("quarkus.datasource.username", String.class),
                config.getValue("quarkus.datasource.password", String.class))) {
            reachable = c.isValid(2);
        } catch (SQLException e) {
            reachable = false;
        }
        assertEquals(reachable ? defaultUrl : System.getProperty("solvertune.internal.embedded-pg.jdbc-url"),
                url.getValue());
    }

    static ModelEntity model(String name) {
        ModelEntity m = new ModelEntity();
        m.name = name;
        m.kind = "analytic";
        m.spec = json("{\"type\":\"gmm\",\"dim\":8}");
        m.contentHash = "ab".repeat(32);
        m.schedule = json("{\"type\":\"vp_linear\",\"beta0\":0.1,\"beta1\":20}");
        m.predictionType = "noise";
        return m;
    }

    static SolverConfigEntity config(ModelEntity m, int version) {
        SolverConfigEntity c = new SolverConfigEntity();
        c.model = m;
        c.method = "baseline";
        c.solver = "dpmsolver++";
        c.solverOptions = json("{\"method\":\"multistep\",\"order\":\"2\"}");
        c.nfe = 10;
        c.guidance = 1.0;
        c.spacing = "logSNR";
        c.tStart = 1.0;
        c.tEnd = 1e-3;
        c.version = version;
        c.values = json("{\"codec\":1,\"timesteps\":[1.0,0.5,0.001]}");
        c.provenance = json("{\"code\":\"test\"}");
        // V4: key hash, producing job, served document and its sha256 (ETag)
        c.keyHash = io.solvertune.tuning.Hashing.sha256("key of " + m.name); // one key per model here
        c.jobId = 9_000_000_000_000L + java.util.concurrent.ThreadLocalRandom.current().nextLong(1_000_000_000L); // never a real job id
        c.document = "{}";
        c.sha256 = "b".repeat(64);
        return c;
    }

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static String causeMessages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
        }
        return b.toString();
    }
}
