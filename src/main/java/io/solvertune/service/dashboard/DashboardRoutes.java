package io.solvertune.service.dashboard;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * HTTP plumbing of the dashboard's static pages ({@code META-INF/resources/dashboard}): {@code /dashboard} redirects
 * to {@code /dashboard/}, and every response under {@code /dashboard/} and {@code /webjars/} carries a strict
 * Content-Security-Policy (scripts, styles, images and connections from this origin only: no inline script or style,
 * no eval, no framing, no plugins), {@code X-Content-Type-Options: nosniff}, {@code Referrer-Policy: no-referrer} and
 * {@code Cache-Control: no-cache} (the UI revalidates its files, so a new jar is picked up at once).
 */
@ApplicationScoped
public class DashboardRoutes {

    /** The policy of every dashboard response ({@code blob:} images: sample grids fetched with the bearer token). */
    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            + "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /** Before the static resources (which Quarkus registers at order 10000). */
    static final int ORDER = -10;

    void register(@Observes Router router) {
        router.routeWithRegex("^/dashboard$").order(ORDER).handler(rc -> rc.response().setStatusCode(303)
                .putHeader("Location", "/dashboard/").end());
        router.routeWithRegex("^/(dashboard|webjars)/.*").order(ORDER).handler(DashboardRoutes::headers);
    }

    private static void headers(RoutingContext rc) {
        rc.response().putHeader("Content-Security-Policy", CSP)
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Cache-Control", "no-cache");
        rc.next();
    }
}
