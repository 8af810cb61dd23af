package io.solvertune.service.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first admin token: created at the first start on an empty database (this profile starts on a freshly cleaned
 * one with the feature on), written to a 0600 file, never created again while a token exists, and created once when
 * instances start at the same time.
 */
@QuarkusTest
@TestProfile(BootstrapTokenTest.Enabled.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BootstrapTokenTest {

    /** The feature on, with its file in a directory of its own. */
    public static class Enabled implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("solvertune.bootstrap-token.enabled", "true",
                    "solvertune.bootstrap-token.file",
                    Path.of("target/bootstrap-token-test", UUID.randomUUID().toString(), "admin-token")
                            .toAbsolutePath().toString());
        }
    }

    @Inject
    BootstrapToken bootstrap;

    @Inject
    TokenService tokens;

    @Inject
    EntityManager em;

    @Inject
    AgroalDataSource dataSource;

    @ConfigProperty(name = "solvertune.bootstrap-token.file")
    Path file;

    @Test
    @Order(1)
    void theFirstStartCreatedOneAdminTokenAndItsFile() throws IOException {
        List<Object[]> rows = rows();
        assertEquals(1, rows.size(), "one token after the first start");
        assertEquals(BootstrapToken.NAME, rows.get(0)[1]);
        assertEquals("admin", rows.get(0)[2]);

        assertTrue(Files.isRegularFile(file), file.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String token = Files.readString(file).strip();
        Optional<Principal> p = tokens.authenticate(token);
        assertTrue(p.isPresent(), "the file holds a working token");
        assertEquals(Role.ADMIN, p.get().role());
    }

    @Test
    @Order(2)
    void laterStartsCreateNothing() throws IOException {
        String before = Files.readString(file);
        assertTrue(bootstrap.createIfNoToken().isEmpty());
        assertEquals(1, rows().size());
        assertEquals(before, Files.readString(file));
        // a revoked token still counts: the bootstrap never comes back
        tokens.revoke(((Number) rows().get(0)[0]).longValue());
        assertTrue(bootstrap.createIfNoToken().isEmpty());
        assertEquals(1, rows().size());
    }

    /** Another instance holds the lock and creates its token: this one waits for it, then creates none. */
    @Test
    @Order(3)
    void waitsForAnotherInstanceThenCreatesNone() throws Exception {
        deleteAllTokens();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try (Connection other = dataSource.getConnection(); Statement s = other.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + BootstrapToken.LOCK_KEY + ")");
            Future<Optional<TokenService.CreatedToken>> mine = ex.submit(bootstrap::createIfNoToken);
            Thread.sleep(1000);
            assertFalse(mine.isDone(), "must wait while another instance holds the bootstrap lock");
            s.execute("INSERT INTO api_tokens (id, name, role, token_hash) VALUES (nextval('api_tokens_seq'),"
                    + " 'other-instance', 'admin', repeat('0', 64))");
            s.execute("SELECT pg_advisory_unlock(" + BootstrapToken.LOCK_KEY + ")");
            assertTrue(mine.get(30, TimeUnit.SECONDS).isEmpty(), "the other instance's token counts");
        } finally {
            ex.shutdownNow();
        }
        assertEquals(List.of("other-instance"), rows().stream().map(r -> r[1]).toList());
    }

    @Test
    @Order(4)
    void instancesStartingAtOnceCreateOneToken() throws Exception {
        deleteAllTokens();
        int n = 4;
        ExecutorService ex = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<TokenService.CreatedToken>>> results = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                results.add(ex.submit(() -> {
                    go.await();
                    return bootstrap.createIfNoToken();
                }));
            }
            go.countDown();
            int created = 0;
            for (Future<Optional<TokenService.CreatedToken>> f : results) {
                created += f.get(60, TimeUnit.SECONDS).isPresent() ? 1 : 0;
            }
            assertEquals(1, created);
        } finally {
            ex.shutdownNow();
        }
        assertEquals(1, rows().size());
    }

    @Test
    void theFileIsOwnerOnlyEvenWhenItReplacesAWiderOne(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("sub/admin-token");
        Files.createDirectories(f.getParent());
        Files.writeString(f, "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        BootstrapToken.write(f, "st_abc");
        assertEquals("st_abc\n", Files.readString(f));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        try (var s = Files.list(f.getParent())) {
            assertEquals(List.of(f), s.toList(), "no temporary file left");
        }
    }

    @Test
    void theLogBlockShowsTheTokenAndWhereItIs() {
        String b = BootstrapToken.banner("st_secret", "/home/u/.solvertune/admin-token");
        assertTrue(b.contains("\n      st_secret\n"), b);
        assertTrue(b.contains("export SOLVERTUNE_TOKEN=$(cat /home/u/.solvertune/admin-token)"), b);
        assertTrue(b.lines().filter(l -> l.matches("=+")).count() == 2, "marked by two rules:\n" + b);
        String unsaved = BootstrapToken.banner("st_secret", null);
        assertTrue(unsaved.contains("st_secret") && unsaved.contains("copy it now"), unsaved);
    }

    @SuppressWarnings("unchecked")
    private List<Object[]> rows() {
        return QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery(
                "SELECT id, name, role FROM api_tokens ORDER BY id").getResultList());
    }

    private void deleteAllTokens() {
        QuarkusTransaction.requiringNew().run(() -> em.createNativeQuery("DELETE FROM api_tokens").executeUpdate());
        tokens.clearCache();
    }
}
