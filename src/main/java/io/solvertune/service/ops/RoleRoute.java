package io.solvertune.service.ops;

import io.solvertune.service.api.problem.Problems;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * In a {@code worker} process ({@code solvertune.role=worker}) the API is not served: every {@code /api/} request is
 * answered 404 problem details naming the role, before any other route (the download fast path included). Health
 * ({@code /q/health}), metrics ({@code /q/metrics}) and OpenAPI stay.
 */
@ApplicationScoped
public class RoleRoute {

    private static final Logger LOG = Logger.getLogger(RoleRoute.class);
    static final int ORDER = -1100;

    private final ProcessRole role;

    public RoleRoute(@ConfigProperty(name = ProcessRole.KEY, defaultValue = "all") String role) {
        this.role = ProcessRole.parse(role);
    }

    public ProcessRole role() {
        return role;
    }

    void register(@Observes Router router) {
        LOG.infof("process role %s (%s=all|api|worker)", role.id(), ProcessRole.KEY);
        if (!role.servesApi()) {
            router.routeWithRegex("/api(/.*)?").order(ORDER).handler(this::refuse);
        }
    }

    void refuse(RoutingContext ctx) {
        String body = Problems.toJson(Problems.of(404, "this process runs job workers only (" + ProcessRole.KEY
                + "=worker); the API is served by the processes with role api or all", ctx.request().path()));
        ctx.response().setStatusCode(404).putHeader("Content-Type", "application/problem+json").end(body);
    }
}
