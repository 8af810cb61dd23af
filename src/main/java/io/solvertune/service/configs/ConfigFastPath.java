package io.solvertune.service.configs;

import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.TokenService;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * The download hot paths on the Vert.x event loop, answered straight from memory when everything they need is already
 * cached:
 * <ul>
 *   <li>{@code GET /api/v1/configs/{id}} — the config's bytes and ETag;</li>
 *   <li>{@code GET /api/v1/models/{model}/configs/latest|stable?method=&solver=&nfe=&guidance=&spacing=} and
 *       {@code GET /api/v1/configs/best?model=&nfe=&guidance=} — in addition the model's alias and recommendation
 *       pointers ({@link ConfigPointers}), which must resolve to exactly one config;</li>
 * </ul>
 * and for all of them the model's anonymous-read flag and, with a bearer token, {@link TokenService}'s remembered
 * verdict for it. Any miss, or anything unusual — a malformed id, parameter or header, percent-encoding, a repeated or
 * unknown query parameter, an {@code Accept} header that may not take JSON, an unknown or revoked token, a model not
 * readable anonymously without a token, an alias that matches no key or several — passes the request on unchanged to
 * the JAX-RS resource, which runs on a worker thread with the full {@code AuthFilter} checks, gives every error its
 * problem details, and fills the caches. The fast path only answers 200 and 304 with exactly the status, body and
 * headers the resource would send; it never queries the database (Quarkus refuses blocking database work on an event
 * loop) and never widens access (every valid token may read; anonymous reads need the model's flag).
 */
@ApplicationScoped
public class ConfigFastPath {

    static final String CONFIGS = "/api/v1/configs/";
    static final String BEST = "/api/v1/configs/best";
    static final String MODELS = "/api/v1/models/";

    private static final CharSequence ETAG = HttpHeaders.createOptimized("ETag");
    private static final CharSequence CACHE_CONTROL = HttpHeaders.createOptimized("Cache-Control");
    private static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("Content-Type");
    private static final CharSequence CONTENT_LOCATION = HttpHeaders.createOptimized("Content-Location");
    private static final CharSequence CONFIG_ID = HttpHeaders.createOptimized("X-Config-Id");
    private static final CharSequence CONFIG_VERSION = HttpHeaders.createOptimized("X-Config-Version");
    private static final CharSequence CONFIG_ALIAS = HttpHeaders.createOptimized("X-Config-Alias");
    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final CharSequence PUBLIC = HttpHeaders.createOptimized(ConfigsResource.IMMUTABLE_PUBLIC);
    private static final CharSequence PRIVATE = HttpHeaders.createOptimized(ConfigsResource.IMMUTABLE_PRIVATE);
    private static final CharSequence ALIAS_PUBLIC = HttpHeaders.createOptimized(ConfigResponses.ALIAS_PUBLIC);
    private static final CharSequence ALIAS_PRIVATE = HttpHeaders.createOptimized(ConfigResponses.ALIAS_PRIVATE);
    private static final CharSequence LATEST = HttpHeaders.createOptimized("latest");
    private static final CharSequence STABLE = HttpHeaders.createOptimized("stable");
    private static final CharSequence RECOMMENDED = HttpHeaders.createOptimized("recommended");

    /** Query parameters of an alias lookup, in this order. */
    private static final String[] ALIAS_PARAMETERS = {"method", "solver", "nfe", "guidance", "spacing"};
    /** Query parameters of a {@code best} lookup, in this order. */
    private static final String[] BEST_PARAMETERS = {"model", "nfe", "guidance"};
    /** Longest model reference or parameter value answered here (model names have at most 200 characters). */
    private static final int MAX_VALUE = 200;

    private final ConfigReader reader;
    private final ConfigPointers pointers;
    private final TokenService tokens;
    private final boolean enabled;
    private final LongAdder answered = new LongAdder();

    public ConfigFastPath(ConfigReader reader, ConfigPointers pointers, TokenService tokens, ConfigsConfig config) {
        this.reader = reader;
        this.pointers = pointers;
        this.tokens = tokens;
        this.enabled = config.fastPath().enabled();
    }

    void register(@Observes Router router) {
        if (enabled) {
            router.get(BEST).order(-101).handler(this::best);
            router.get("/api/v1/configs/:id").order(-100).handler(this::byId);
            router.get("/api/v1/models/:model/configs/:alias").order(-100).handler(this::alias);
        }
    }

    /** Requests answered here since start (tests; every other request went to a resource). */
    long answered() {
        return answered.sum();
    }

    // ---- GET /api/v1/configs/{id} ------------------------------------------------------------------------------------

    void byId(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String path = req.path();
        long id = path.startsWith(CONFIGS) ? parseId(path, CONFIGS.length()) : -1; // the resource reads no query
        ConfigReader.Served s = id > 0 ? reader.cached(id) : null;
        Boolean anonymous = s == null ? null : reader.cachedAnonymousRead(s.modelId());
        if (anonymous == null || !acceptsJson(req.getHeader(HttpHeaders.ACCEPT))
                || !allowed(req.getHeader(HttpHeaders.AUTHORIZATION), anonymous)) {
            ctx.next();
            return;
        }
        answered.increment();
        HttpServerResponse response = ctx.response();
        response.putHeader(ETAG, s.etag()).putHeader(CACHE_CONTROL, anonymous ? PUBLIC : PRIVATE);
        if (ETags.matches(req.getHeader(HttpHeaders.IF_NONE_MATCH), s.etag())) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader(CONTENT_TYPE, JSON).end(Buffer.buffer(s.body()));
    }

    // ---- GET /api/v1/models/{model}/configs/{alias} -----------------------------------------------------------------

    void alias(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String path = req.path();
        int end = path.startsWith(MODELS) ? path.indexOf('/', MODELS.length()) : -1;
        String model = end < 0 ? null : segment(path, MODELS.length(), end);
        String rest = model == null ? "" : path.substring(end);
        CharSequence aliasHeader = rest.equals("/configs/latest") ? LATEST : rest.equals("/configs/stable") ? STABLE
                : null;
        String[] q = aliasHeader == null ? null : parameters(req.query(), ALIAS_PARAMETERS);
        if (q == null) {
            ctx.next();
            return;
        }
        long config;
        ModelPointers p;
        try {
            Integer nfe = ConfigsResource.positiveInt(q[2], "nfe");
            Double guidance = ConfigsResource.guidance(q[3]);
            p = pointers.peek(model);
            config = p == null ? ModelPointers.NONE : p.alias(aliasHeader == LATEST ? "latest" : "stable",
                    ConfigsResource.text(q[0]), ConfigsResource.text(q[1]), nfe, guidance, ConfigsResource.text(q[4]));
        } catch (InvalidRequestException e) {
            ctx.next(); // the resource answers 400 with its problem details
            return;
        }
        resolved(ctx, config, p, aliasHeader);
    }

    // ---- GET /api/v1/configs/best ------------------------------------------------------------------------------------

    void best(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        String[] q = BEST.equals(req.path()) ? parameters(req.query(), BEST_PARAMETERS) : null;
        String model = q == null || q[0] == null ? null : segment(q[0], 0, q[0].length());
        if (model == null) {
            ctx.next();
            return;
        }
        long config;
        ModelPointers p;
        try {
            Integer nfe = ConfigsResource.positiveInt(q[1], "nfe");
            Double guidance = ConfigsResource.guidance(q[2]);
            p = nfe == null ? null : pointers.peek(model);
            config = p == null ? ModelPointers.NONE : p.recommended(nfe, guidance == null ? 1.0 : guidance);
        } catch (InvalidRequestException e) {
            ctx.next();
            return;
        }
        resolved(ctx, config, p, RECOMMENDED);
    }

    /** Answers with config {@code id} as {@link ConfigResponses#resolved} would, or passes the request on. */
    private void resolved(RoutingContext ctx, long id, ModelPointers p, CharSequence alias) {
        ConfigReader.Served s = id > 0 ? reader.cached(id) : null;
        Boolean anonymous = s == null || s.modelId() != p.modelId() ? null : reader.cachedAnonymousRead(s.modelId());
        HttpServerRequest req = ctx.request();
        if (anonymous == null || !acceptsJson(req.getHeader(HttpHeaders.ACCEPT))
                || !allowed(req.getHeader(HttpHeaders.AUTHORIZATION), anonymous)) {
            ctx.next();
            return;
        }
        answered.increment();
        HttpServerResponse response = ctx.response();
        response.putHeader(ETAG, s.etag()).putHeader(CACHE_CONTROL, anonymous ? ALIAS_PUBLIC : ALIAS_PRIVATE)
                .putHeader(CONFIG_ID, Long.toString(s.id())).putHeader(CONFIG_VERSION, Integer.toString(s.version()))
                .putHeader(CONFIG_ALIAS, alias).putHeader(CONTENT_LOCATION, CONFIGS + s.id());
        if (ETags.matches(req.getHeader(HttpHeaders.IF_NONE_MATCH), s.etag())) {
            response.setStatusCode(304).end();
            return;
        }
        response.putHeader(CONTENT_TYPE, JSON).end(Buffer.buffer(s.body()));
    }

    // ---- request parsing ---------------------------------------------------------------------------------------------

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

    /**
     * Whether the resource (which {@code @Produces} JSON) would answer this {@code Accept} header with JSON: no header,
     * or a list of bare media ranges one of which is {@code * /*}, {@code application/*} or {@code application/json}.
     * Anything with parameters (quality values) is left to the resource and its content negotiation, which answers
     * 406 where no range admits JSON.
     */
    static boolean acceptsJson(String accept) {
        if (accept == null) {
            return true;
        }
        if (accept.indexOf(';') >= 0) {
            return false;
        }
        int from = 0;
        while (from <= accept.length()) {
            int comma = accept.indexOf(',', from);
            int to = comma < 0 ? accept.length() : comma;
            String range = accept.substring(from, to).strip();
            if (range.equals("*/*") || range.equalsIgnoreCase("application/*")
                    || range.equalsIgnoreCase("application/json")) {
                return true;
            }
            from = to + 1;
        }
        return false;
    }

    /**
     * The values of {@code names} in a raw query string (null where absent), or null — "let the resource decide" — if
     * the query has anything else: another parameter, a repeated one, a part without '=', percent-encoding or '+'
     * (decoded values could differ from the raw ones), or a value longer than {@value #MAX_VALUE} characters.
     */
    static String[] parameters(String query, String[] names) {
        String[] values = new String[names.length];
        if (query == null || query.isEmpty()) {
            return values;
        }
        int from = 0;
        while (from <= query.length()) {
            int amp = query.indexOf('&', from);
            int to = amp < 0 ? query.length() : amp;
            int eq = query.indexOf('=', from);
            if (eq < 0 || eq >= to) {
                return null;
            }
            int k = -1;
            for (int i = 0; i < names.length; i++) {
                if (query.regionMatches(from, names[i], 0, names[i].length()) && from + names[i].length() == eq) {
                    k = i;
                    break;
                }
            }
            if (k < 0 || values[k] != null || to - eq - 1 > MAX_VALUE) {
                return null;
            }
            for (int i = eq + 1; i < to; i++) {
                if (!plain(query.charAt(i))) {
                    return null;
                }
            }
            values[k] = query.substring(eq + 1, to);
            from = to + 1;
        }
        return values;
    }

    /** {@code s[from, to)} if it is a plain model reference (an id or a registrable name), else null. */
    static String segment(String s, int from, int to) {
        if (to <= from || to - from > MAX_VALUE || (to - from <= 2 && s.charAt(from) == '.')) {
            return null; // empty, too long, "." or ".." (and ".x", which no model is named)
        }
        for (int i = from; i < to; i++) {
            if (!plain(s.charAt(i))) {
                return null;
            }
        }
        return s.substring(from, to);
    }

    /** Letters, digits, '.', '_' and '-': characters that mean the same raw and percent-decoded. */
    private static boolean plain(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                || c == '-';
    }

    private static long parseId(String text, int from) {
        int n = text.length() - from;
        if (n <= 0 || n > 18) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
