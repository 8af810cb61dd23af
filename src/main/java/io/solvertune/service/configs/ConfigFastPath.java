package io.solvertune.service.configs;

import io.solvertune.service.security.Principal;
import io.solvertune.service.security.TokenService;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The download hot path on the event loop: {@code GET /api/v1/configs/{id}} answered straight from memory when
 * everything it needs is already cached — the config's bytes and ETag, the model's anonymous-read flag and, with a
 * bearer token, {@link TokenService}'s remembered verdict for it. Any miss, or anything unusual (malformed id or
 * header, unknown or revoked token, a model not readable anonymously without a token), passes the request on
 * unchanged to {@link ConfigsResource#get}, which runs on a worker thread with the full {@code AuthFilter} checks and
 * fills the caches. The fast path only answers 200 and 304, exactly as the resource would; it never queries the
 * database and never widens access (every valid token may read; anonymous reads need the model's flag).
 */
@ApplicationScoped
public class ConfigFastPath {

    private static final CharSequence ETAG = HttpHeaders.createOptimized("ETag");
    private static final CharSequence CACHE_CONTROL = HttpHeaders.createOptimized("Cache-Control");
    private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final CharSequence PUBLIC = HttpHeaders.createOptimized(ConfigsResource.IMMUTABLE_PUBLIC);
    private static final CharSequence PRIVATE = HttpHeaders.createOptimized(ConfigsResource.IMMUTABLE_PRIVATE);

    private final ConfigReader reader;
    private final TokenService tokens;
    private final boolean enabled;

    public ConfigFastPath(ConfigReader reader, TokenService tokens,
                          @ConfigProperty(name = "solvertune.configs.fast-path.enabled", defaultValue = "true")
                          boolean enabled) {
        this.reader = reader;
        this.tokens = tokens;
        this.enabled = enabled;
    }

    void register(@Observes Router router) {
        if (enabled) {
            router.get("/api/v1/configs/:id").order(-100).handler(this::handle);
        }
    }

    void handle(RoutingContext ctx) {
        long id = parseId(ctx.pathParam("id"));
        ConfigReader.Served s = id > 0 ? reader.cached(id) : null;
        Boolean anonymous = s == null ? null : reader.cachedAnonymousRead(s.modelId());
        if (anonymous == null || !allowed(ctx.request().getHeader(HttpHeaders.AUTHORIZATION), anonymous)) {
            ctx.next();
            return;
        }
        var response = ctx.response();
        response.putHeader(ETAG, s.etag()).putHeader(CACHE_CONTROL, anonymous ? PUBLIC : PRIVATE);
        if (ETags.matches(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH), s.etag())) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader(CONTENT_TYPE, JSON).end(Buffer.buffer(s.body()));
    }

    /** Whether the cached facts alone allow the read; false means "let the resource decide". */
    private boolean allowed(String authorization, boolean anonymousRead) {
        if (authorization == null) {
            return anonymousRead;
        }
        // "Bearer <token>" exactly as AuthFilter reads it, without a regex per request
        String a = authorization.strip();
        if (a.length() < 8 || !a.regionMatches(true, 0, "Bearer", 0, 6) || !Character.isWhitespace(a.charAt(6))) {
            return false;
        }
        String token = a.substring(7).strip();
        if (token.isEmpty()) {
            return false;
        }
        for (int i = 0; i < token.length(); i++) {
            if (Character.isWhitespace(token.charAt(i))) {
                return false; // AuthFilter would read this differently: let it decide
            }
        }
        Optional<Optional<Principal>> known = tokens.peek(token);
        return known.isPresent() && known.get().isPresent(); // every role includes reader
    }

    private static long parseId(String text) {
        if (text == null || text.isEmpty() || text.length() > 18) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
