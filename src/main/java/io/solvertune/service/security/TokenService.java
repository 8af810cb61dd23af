package io.solvertune.service.security;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Bearer tokens: created with a role (the plain token is returned once), stored as sha256, checked on every request.
 * A successful or failed lookup is remembered for {@code solvertune.auth.cache-ttl} (default 5 s) so that the download
 * path does not query PostgreSQL per request; revoking through this service takes effect at once in this process and
 * within the TTL in the others.
 */
@ApplicationScoped
public class TokenService {

    /** Prefix of every token, so that leaked tokens are recognisable (secret scanners). */
    public static final String PREFIX = "st_";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_CACHE = 10_000;

    /** A token as the admin sees it (never the token itself). */
    public record TokenInfo(long id, String name, String role, Instant createdAt, Instant revokedAt) {
    }

    /** A new token: the only time the plain token is available. */
    public record CreatedToken(TokenInfo info, String token) {
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /** token hash → principal (empty: unknown or revoked), refreshed ahead of expiry while in use */
    private final RefreshAheadCache<String, Optional<Principal>> cache;

    public TokenService(@ConfigProperty(name = "solvertune.auth.cache-ttl", defaultValue = "5S") Duration ttl,
                        CacheRefresher refresher) {
        this.cache = new RefreshAheadCache<>(
                hash -> QuarkusTransaction.requiringNew().call(() -> lookup(hash)),
                refresher.executor(), ttl.toNanos(), MAX_CACHE);
    }

    /** Creates a token; the returned plain token is not stored anywhere. */
    @Transactional
    public CreatedToken create(String name, Role role) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name: must not be blank");
        }
        if (name.length() > 200) {
            throw new IllegalArgumentException("name: at most 200 characters");
        }
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        ApiTokenEntity e = new ApiTokenEntity();
        e.name = name.strip();
        e.role = role.id();
        e.tokenHash = sha256(token);
        e.persist();
        return new CreatedToken(info(e), token);
    }

    @Transactional
    public List<TokenInfo> list() {
        return ApiTokenEntity.<ApiTokenEntity>listAll(io.quarkus.panache.common.Sort.by("id")).stream()
                .map(TokenService::info).toList();
    }

    /**
     * Revokes a token; false if there is no such token. The cached verdict is dropped after the commit, so no lookup
     * of this process can read the row as it was before and remember it afterwards.
     */
    public boolean revoke(long id) {
        String hash = QuarkusTransaction.requiringNew().call(() -> {
            ApiTokenEntity e = ApiTokenEntity.findById(id);
            if (e == null) {
                return null;
            }
            if (e.revokedAt == null) {
                e.revokedAt = Instant.now();
            }
            return e.tokenHash.strip();
        });
        if (hash == null) {
            return false;
        }
        cache.invalidate(hash);
        return true;
    }

    /** The principal of a token string, empty if it is unknown or revoked. */
    public Optional<Principal> authenticate(String token) {
        return cache.get(sha256(token));
    }

    /**
     * What {@link #authenticate} remembers about a token, without ever querying the database (safe on an event-loop
     * thread): empty if the token was not looked up within the TTL; else the principal, or an empty principal for an
     * unknown or revoked token. A remembered token in use is looked up again in the background before its TTL ends.
     */
    public Optional<Optional<Principal>> peek(String token) {
        return Optional.ofNullable(cache.peek(sha256(token)));
    }

    private static Optional<Principal> lookup(String hash) {
        ApiTokenEntity e = ApiTokenEntity.find("tokenHash", hash).firstResult();
        if (e == null || e.revokedAt != null) {
            return Optional.empty();
        }
        return Optional.of(new Principal(e.id, e.name, Role.parse(e.role)));
    }

    /** Forgets every remembered lookup (tests, and after bulk changes). */
    public void clearCache() {
        cache.clear();
    }

    private static TokenInfo info(ApiTokenEntity e) {
        return new TokenInfo(e.id, e.name, e.role, e.createdAt, e.revokedAt);
    }

    static String sha256(String s) {
        return HexFormat.of().formatHex(SHA256.get().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
