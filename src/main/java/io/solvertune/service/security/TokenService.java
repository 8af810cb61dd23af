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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Bearer tokens: created with a role (the plain token is returned once), stored as sha256, checked on every request.
 *
 * <p>Lookups are remembered for {@code solvertune.auth.cache-ttl} (default 5 s) so that the download path does not
 * query PostgreSQL per request, and bounded so that no caller can make them cost without limit:
 * <ul>
 *   <li>a token that is not of the form {@code st_} + 43 base64url characters is refused without any lookup;</li>
 *   <li>valid tokens are remembered in their own cache ({@code solvertune.auth.cache.max-valid} entries, renewed ahead
 *       of expiry while in use); unknown or revoked ones in another ({@code max-unknown}), so no number of unknown
 *       tokens can push a valid one out;</li>
 *   <li>a token in neither (and never found valid here) is looked up in the database only while the budget
 *       {@code solvertune.auth.unknown-lookups-per-second} allows; beyond it the request is answered 503 with
 *       Retry-After (it cannot be verified now) — a flood of random well-formed tokens costs at most that many
 *       database lookups per second and never lets a token in.</li>
 * </ul>
 * Revoking through this service takes effect at once in this process and within the TTL in the others.
 */
@ApplicationScoped
public class TokenService {

    /** Prefix of every token, so that leaked tokens are recognisable (secret scanners). */
    public static final String PREFIX = "st_";
    /** Characters after the prefix: 32 random bytes in unpadded base64url. */
    static final int SECRET_CHARS = 43;

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A token as the admin sees it (never the token itself). */
    public record TokenInfo(long id, String name, String role, Instant createdAt, Instant revokedAt) {
    }

    /** A new token: the only time the plain token is available. */
    public record CreatedToken(TokenInfo info, String token) {
    }

    /** More unknown tokens arrived than the lookup budget allows: the request cannot be verified now (503). */
    public static final class LookupBudgetExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LookupBudgetExceeded(double perSecond) {
            super("too many requests with tokens this server has not seen (more than " + perSecond
                    + " lookups per second, server setting solvertune.auth.unknown-lookups-per-second); retry shortly");
        }
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    /** token hash → principal of a token found valid (empty once a refresh found it revoked) */
    private final RefreshAheadCache<String, Optional<Principal>> valid;
    /** token hash → when it was found unknown or revoked (nanoTime) */
    private final ConcurrentHashMap<String, Long> unknown = new ConcurrentHashMap<>();
    /** token id → whether it is still valid (re-checks of long-lived requests, e.g. event streams) */
    private final RefreshAheadCache<Long, Boolean> active;
    private final long ttlNanos;
    private final int maxUnknown;
    private final TokenBucket lookupBudget;
    private final LongSupplier clock;
    private final AtomicLong lookups = new AtomicLong();

    public TokenService(AuthConfig config, CacheRefresher refresher) {
        Duration ttl = config.cacheTtl();
        int maxValid = config.cache().maxValid();
        int maxUnknown = config.cache().maxUnknown();
        double unknownLookupsPerSecond = config.unknownLookupsPerSecond();
        this.clock = System::nanoTime;
        this.ttlNanos = ttl.toNanos();
        this.maxUnknown = maxUnknown;
        if (maxUnknown < 1 || !(unknownLookupsPerSecond > 0)) {
            throw new IllegalArgumentException("solvertune.auth.cache.max-unknown and "
                    + "solvertune.auth.unknown-lookups-per-second must be positive");
        }
        this.lookupBudget = new TokenBucket(unknownLookupsPerSecond, Math.max(1, unknownLookupsPerSecond), clock);
        this.valid = new RefreshAheadCache<>(this::lookupInTransaction, refresher.executor(), ttlNanos, maxValid,
                clock);
        this.active = new RefreshAheadCache<>(
                id -> QuarkusTransaction.requiringNew().call(() -> {
                    ApiTokenEntity e = ApiTokenEntity.findById(id);
                    return e != null && e.revokedAt == null;
                }), refresher.executor(), ttlNanos, maxValid, clock);
    }

    /** Creates a token; the returned plain token is not stored anywhere. */
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
        String hash = sha256(token);
        long startedAt = clock.getAsLong();
        TokenInfo info = QuarkusTransaction.requiringNew().call(() -> {
            ApiTokenEntity e = new ApiTokenEntity();
            e.name = name.strip();
            e.role = role.id();
            e.tokenHash = hash;
            e.persist();
            return info(e);
        });
        // committed: remembered as valid at once (its first use needs no lookup)
        valid.put(hash, Optional.of(new Principal(info.id(), info.name(), role)), startedAt);
        return new CreatedToken(info, token);
    }

    @Transactional
    public List<TokenInfo> list() {
        return ApiTokenEntity.<ApiTokenEntity>listAll(io.quarkus.panache.common.Sort.by("id")).stream()
                .map(TokenService::info).toList();
    }

    /**
     * Revokes a token; false if there is no such token. The remembered verdicts are dropped after the commit, so no
     * lookup of this process can read the row as it was before and remember it afterwards.
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
        valid.invalidate(hash);
        active.invalidate(id);
        return true;
    }

    /**
     * The principal of a token string, empty if it is malformed, unknown or revoked.
     *
     * @throws LookupBudgetExceeded if the token would need a database lookup and the budget of lookups of unknown
     *                              tokens is used up
     */
    public Optional<Principal> authenticate(String token) {
        if (!wellFormed(token)) {
            return Optional.empty();
        }
        String hash = sha256(token);
        Optional<Principal> known = valid.peek(hash);
        if (known != null) {
            return known;
        }
        if (isKnownUnknown(hash)) {
            return Optional.empty();
        }
        // a token found valid before (its entry expired but is still held) is looked up again outside the budget:
        // only valid tokens ever get an entry, so a flood of unknown ones cannot use this way
        if (!valid.holds(hash) && !lookupBudget.tryAcquire()) {
            throw new LookupBudgetExceeded(lookupBudget.perSecond());
        }
        long startedAt = clock.getAsLong();
        Optional<Principal> p = valid.load(hash, Optional::isPresent);
        if (p.isEmpty()) {
            rememberUnknown(hash, startedAt);
        }
        return p;
    }

    /**
     * What {@link #authenticate} remembers about a token, without ever querying the database (safe on an event-loop
     * thread): empty if the token was not looked up within the TTL; else the principal, or an empty principal for a
     * malformed, unknown or revoked token. A remembered token in use is looked up again in the background before its
     * TTL ends.
     */
    public Optional<Optional<Principal>> peek(String token) {
        if (!wellFormed(token)) {
            return Optional.of(Optional.empty());
        }
        String hash = sha256(token);
        Optional<Principal> known = valid.peek(hash);
        if (known != null) {
            return Optional.of(known);
        }
        return isKnownUnknown(hash) ? Optional.of(Optional.empty()) : Optional.empty();
    }

    /**
     * Whether the token behind {@code p} is still valid: the same TTL as {@link #authenticate} (revocations in this
     * process count at once). For requests that outlive their authentication, such as event streams.
     */
    public boolean isActive(Principal p) {
        return active.get(p.tokenId());
    }

    /** Database lookups of token hashes so far (tests, diagnostics). */
    public long lookups() {
        return lookups.get();
    }

    /** Forgets every remembered lookup (tests, and after bulk changes). */
    public void clearCache() {
        valid.clear();
        active.clear();
        unknown.clear();
    }

    /** {@code st_} followed by exactly the 43 base64url characters of a token's secret. */
    static boolean wellFormed(String token) {
        if (token == null || token.length() != PREFIX.length() + SECRET_CHARS || !token.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < token.length(); i++) {
            char c = token.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private boolean isKnownUnknown(String hash) {
        Long at = unknown.get(hash);
        if (at == null) {
            return false;
        }
        if (clock.getAsLong() - at >= ttlNanos) {
            unknown.remove(hash, at);
            return false;
        }
        return true;
    }

    /** Remembers an unknown token; a full set drops its expired entries, then an eighth of the rest. */
    private void rememberUnknown(String hash, long at) {
        if (unknown.size() >= maxUnknown) {
            synchronized (unknown) {
                if (unknown.size() >= maxUnknown) {
                    long now = clock.getAsLong();
                    unknown.values().removeIf(t -> now - t >= ttlNanos);
                    int drop = unknown.size() - maxUnknown + Math.max(1, maxUnknown / 8);
                    var it = unknown.keySet().iterator();
                    while (drop-- > 0 && it.hasNext()) {
                        it.next();
                        it.remove();
                    }
                }
            }
        }
        unknown.put(hash, at);
    }

    private Optional<Principal> lookupInTransaction(String hash) {
        lookups.incrementAndGet();
        return QuarkusTransaction.requiringNew().call(() -> lookup(hash));
    }

    private static Optional<Principal> lookup(String hash) {
        ApiTokenEntity e = ApiTokenEntity.find("tokenHash", hash).firstResult();
        if (e == null || e.revokedAt != null) {
            return Optional.empty();
        }
        return Optional.of(new Principal(e.id, e.name, Role.parse(e.role)));
    }

    private static TokenInfo info(ApiTokenEntity e) {
        return new TokenInfo(e.id, e.name, e.role, e.createdAt, e.revokedAt);
    }

    static String sha256(String s) {
        return HexFormat.of().formatHex(SHA256.get().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
