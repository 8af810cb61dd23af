package io.solvertune.service.limits;

import io.quarkus.runtime.configuration.MemorySize;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Size limits checked on the event loop before any other route (the download fast path, the REST layer, Quarkus' own
 * body-size check) sees the request, answered as problem details instead of the HTTP layer's bare pages:
 *
 * <ul>
 *   <li>a request target longer than {@code solvertune.limits.request.max-uri-length} → 414;</li>
 *   <li>headers larger than {@code solvertune.limits.request.max-header-bytes} → 431;</li>
 *   <li>a body announced (Content-Length) larger than the transport ceiling {@code quarkus.http.limits.max-body-size},
 *       or a JSON body announced larger than {@code solvertune.limits.request.max-json-bytes} → 413, unread, and the
 *       connection is closed.</li>
 * </ul>
 *
 * Closing a connection whose request body is still arriving makes the peer's TCP stack answer the client's next
 * segments with a reset, and a client still writing its body then sees "broken pipe" instead of the 413 (the race
 * HTTP/1.1 calls lingering close, RFC 9112 §9.6). So a body announced at most {@link #LINGER_BYTES} long is read and
 * discarded after the answer, for at most {@link #LINGER_MILLIS}, and the connection closed when it ends; a larger one
 * (a multi-gigabyte upload) is cut off at once — such clients should send {@code Expect: 100-continue}.
 *
 * The HTTP decoder's own ceilings ({@code quarkus.http.limits.max-initial-line-length}, {@code max-header-size}) are set
 * well above these so that such requests reach this route; only a request beyond those ceilings still gets the
 * decoder's bare 414/431.
 */
@ApplicationScoped
public class HttpLimitsRoute {

    /** Before every other route, including Quarkus' body-size check (order -2) and the download fast path. */
    static final int ORDER = -1000;
    /** The largest refused body still read to its end (and discarded) so that its sender sees the 413. */
    static final long LINGER_BYTES = 16L << 20;
    /** How long a refused body is read before the connection is closed regardless. */
    static final long LINGER_MILLIS = 10_000;

    private final Limits limits;
    private final long maxBody;

    public HttpLimitsRoute(Limits limits,
                           @ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBody) {
        this.limits = limits;
        this.maxBody = maxBody.map(MemorySize::asLongValue).orElse(Long.MAX_VALUE);
    }

    void register(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle);
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        Limits.Request l = limits.request();
        String uri = req.uri();
        if (uri.length() > l.maxUriLength()) {
            reply(ctx, new RequestTooLargeException(414, "uri", l.maxUriLength(), "the request target has "
                    + uri.length() + " characters, at most " + l.maxUriLength() + " are accepted (server setting "
                    + "solvertune.limits.request.max-uri-length)"));
            return;
        }
        long headerBytes = headerBytes(req.headers());
        long maxHeaders = l.maxHeaderBytes().asLongValue();
        if (headerBytes > maxHeaders) {
            reply(ctx, new RequestTooLargeException(431, "headers", maxHeaders, "the request headers have "
                    + headerBytes + " bytes, at most " + maxHeaders + " are accepted (server setting "
                    + "solvertune.limits.request.max-header-bytes)"));
            return;
        }
        String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                n = -1; // the HTTP layer answers malformed lengths
            }
            long maxJson = l.maxJsonBytes().asLongValue();
            if (n > maxBody) {
                reply(ctx, new RequestTooLargeException(413, "body", maxBody, "the request body is announced with "
                        + n + " bytes, at most " + maxBody + " are accepted (server setting "
                        + "quarkus.http.limits.max-body-size)"), n);
                return;
            }
            if (n > maxJson && isJson(req.getHeader(HttpHeaders.CONTENT_TYPE))) {
                reply(ctx, new RequestTooLargeException(413, "body", maxJson, "the JSON request body is announced "
                        + "with " + n + " bytes, at most " + maxJson + " are accepted (server setting "
                        + "solvertune.limits.request.max-json-bytes)"), n);
                return;
            }
        }
        ctx.next();
    }

    /** Reads and discards the rest of the refused body, then closes the connection (or after LINGER_MILLIS). */
    private static void lingerThenClose(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        HttpConnection connection = req.connection();
        AtomicBoolean closed = new AtomicBoolean();
        Runnable close = () -> {
            if (closed.compareAndSet(false, true)) {
                connection.close();
            }
        };
        long timer = ctx.vertx().setTimer(LINGER_MILLIS, id -> close.run());
        Handler<Void> done = v -> {
            ctx.vertx().cancelTimer(timer);
            close.run();
        };
        req.handler(chunk -> { });
        req.exceptionHandler(t -> done.handle(null));
        req.endHandler(done);
        req.resume();
    }

    static long headerBytes(MultiMap headers) {
        long n = 0;
        for (Map.Entry<String, String> h : headers) {
            n += h.getKey().length() + h.getValue().length() + 4; // ": " and CRLF
        }
        return n;
    }

    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String t = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        return t.endsWith("/json") || t.endsWith("+json");
    }

    private static void reply(RoutingContext ctx, RequestTooLargeException e) {
        reply(ctx, e, -1);
    }

    /** Answers {@code e}; {@code announced} is the refused body's Content-Length (-1: no body is pending). */
    private static void reply(RoutingContext ctx, RequestTooLargeException e, long announced) {
        String path = ctx.request().path();
        if (path != null && path.length() > 256) {
            path = path.substring(0, 256) + "...";
        }
        Problem p = e.problem(path);
        HttpServerResponse r = ctx.response().setStatusCode(e.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE);
        if (e.status() == 413) {
            // the body was not read: the connection cannot carry another request
            r.putHeader(HttpHeaders.CONNECTION, "close");
            HttpServerRequest req = ctx.request();
            if (announced > 0 && announced <= LINGER_BYTES && !req.isEnded()) {
                lingerThenClose(ctx);
            } else {
                r.endHandler(v -> req.connection().close());
            }
        }
        r.end(Problems.toJson(p));
    }
}
