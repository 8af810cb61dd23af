package io.solvertune.service.limits;

import io.quarkus.runtime.configuration.MemorySize;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.MultiMap;
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
 * The HTTP decoder's own ceilings ({@code quarkus.http.limits.max-initial-line-length}, {@code max-header-size}) are set
 * well above these so that such requests reach this route; only a request beyond those ceilings still gets the
 * decoder's bare 414/431.
 */
@ApplicationScoped
public class HttpLimitsRoute {

    /** Before every other route, including Quarkus' body-size check (order -2) and the download fast path. */
    static final int ORDER = -1000;

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
                        + "quarkus.http.limits.max-body-size)"));
                return;
            }
            if (n > maxJson && isJson(req.getHeader(HttpHeaders.CONTENT_TYPE))) {
                reply(ctx, new RequestTooLargeException(413, "body", maxJson, "the JSON request body is announced "
                        + "with " + n + " bytes, at most " + maxJson + " are accepted (server setting "
                        + "solvertune.limits.request.max-json-bytes)"));
                return;
            }
        }
        ctx.next();
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
            r.endHandler(v -> ctx.request().connection().close());
        }
        r.end(Problems.toJson(p));
    }
}
