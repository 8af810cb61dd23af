package io.solvertune.service.security;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The first admin token. On the service's first start with no token in the database (none at all, revoked ones
 * count), one admin token is created, shown once in the log in a marked block and written to
 * {@code solvertune.bootstrap-token.file} (default {@code ~/.solvertune/admin-token}, mode 0600). Later starts find a
 * token and do nothing. Instances starting at once on one database take a transaction-level advisory lock, so only
 * one of them creates it.
 */
@ApplicationScoped
public class BootstrapToken {

    /** Name of the token in {@code token list}. */
    public static final String NAME = "bootstrap-admin";
    /** Advisory lock key ("solvtokn" in ASCII): one bootstrap at a time per database. */
    static final long LOCK_KEY = 0x736f6c76746f6b6eL;
    static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private static final Logger LOG = Logger.getLogger(BootstrapToken.class);

    @Inject
    TokenService tokens;

    @Inject
    EntityManager em;

    @Inject
    BootstrapTokenConfig config;

    void onStart(@Observes StartupEvent ev) {
        if (config.enabled()) {
            createIfNoToken().ifPresent(this::announce);
        }
    }

    /** Creates the admin token if the database holds no token; empty if it holds one. */
    public Optional<TokenService.CreatedToken> createIfNoToken() {
        return QuarkusTransaction.requiringNew().call(() -> {
            // held until this transaction ends: a concurrent start waits here, then sees the committed token
            em.createNativeQuery("SELECT 1 FROM (SELECT pg_advisory_xact_lock(:key)) l")
                    .setParameter("key", LOCK_KEY).getSingleResult();
            long n = ((Number) em.createNativeQuery("SELECT count(*) FROM api_tokens").getSingleResult()).longValue();
            return n > 0 ? Optional.<TokenService.CreatedToken>empty() : Optional.of(tokens.create(NAME, Role.ADMIN));
        });
    }

    /** Writes the token to {@code solvertune.bootstrap-token.file} and logs it once. */
    void announce(TokenService.CreatedToken t) {
        String saved;
        try {
            write(config.file(), t.token());
            saved = config.file().toString();
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Could not write the admin token to %s: %s", config.file(), e.getMessage());
            saved = null;
        }
        LOG.info(banner(t.token(), saved));
    }

    /** The token, readable by its owner only (0600 from creation on), replacing an older file atomically. */
    static void write(Path file, String token) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The log block: the token and where it was saved ({@code null}: not saved). */
    static String banner(String token, String savedTo) {
        String rule = "=".repeat(100);
        StringBuilder b = new StringBuilder("\n").append(rule).append('\n')
                .append("  First start: created an admin API token. It is shown only this once:\n\n")
                .append("      ").append(token).append("\n\n");
        if (savedTo != null) {
            b.append("  Saved to ").append(savedTo).append(" (readable by you only). Use it with\n")
                    .append("      export SOLVERTUNE_TOKEN=$(cat ").append(savedTo).append(")\n");
        } else {
            b.append("  It could not be saved to a file (see the warning above): copy it now.\n");
        }
        return b.append("  More tokens: `token create --name NAME --role admin|submitter|reader`; "
                        + "`token revoke ID` revokes one.\n")
                .append(rule).toString();
    }
}
