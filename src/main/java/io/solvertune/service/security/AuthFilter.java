package io.solvertune.service.security;

import io.solvertune.service.api.problem.Problems;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * Checks the bearer token of every REST request against the endpoint's {@link RequiresRole} / {@link PublicEndpoint}
 * and records the {@link Caller}. A present but unknown or revoked token is a 401 even on public endpoints (a client
 * with a broken token should hear about it); an endpoint with neither annotation is refused (fail closed).
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class AuthFilter implements ContainerRequestFilter {

    @Context
    ResourceInfo resource;

    @Inject
    Caller caller;

    @Inject
    TokenService tokens;

    @Override
    public void filter(ContainerRequestContext ctx) {
        Method m = resource.getResourceMethod();
        Class<?> c = resource.getResourceClass();
        if (m == null || c == null) {
            return; // no matching resource: the 404/405 mapper answers
        }
        RequiresRole required = Optional.ofNullable(m.getAnnotation(RequiresRole.class))
                .orElse(c.getAnnotation(RequiresRole.class));
        boolean isPublic = m.isAnnotationPresent(PublicEndpoint.class) || c.isAnnotationPresent(PublicEndpoint.class);

        String header = ctx.getHeaderString(HttpHeaders.AUTHORIZATION);
        if (header != null) {
            String[] parts = header.strip().split("\\s+", 2);
            if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer")) {
                abort(ctx, 401, "Authorization header: expected 'Bearer <token>'");
                return;
            }
            Optional<Principal> p;
            try {
                p = tokens.authenticate(parts[1].strip());
            } catch (TokenService.LookupBudgetExceeded e) {
                ctx.abortWith(Response.fromResponse(Problems.response(Problems.of(503, e.getMessage(),
                        ctx.getUriInfo().getPath()))).header(HttpHeaders.RETRY_AFTER, "1").build());
                return;
            }
            if (p.isEmpty()) {
                abort(ctx, 401, "the bearer token is unknown or revoked");
                return;
            }
            caller.set(p.get());
        }
        if (isPublic) {
            return;
        }
        if (required == null) {
            abort(ctx, 403, "this endpoint declares no access rule and is refused");
            return;
        }
        Optional<Principal> p = caller.principal();
        if (p.isEmpty()) {
            if (!required.anonymousIfModelAllows()) {
                abort(ctx, 401, "this request needs a bearer token with role " + required.value().id()
                        + " (Authorization: Bearer <token>)");
            }
            return;
        }
        if (!p.get().has(required.value())) {
            abort(ctx, 403, "token '" + p.get().name() + "' has role " + p.get().role().id()
                    + "; this request needs " + required.value().id());
        }
    }

    private static void abort(ContainerRequestContext ctx, int status, String detail) {
        Response r = Problems.response(Problems.of(status, detail, ctx.getUriInfo().getPath()));
        if (status == 401) {
            r = Response.fromResponse(r).header(HttpHeaders.WWW_AUTHENTICATE, Caller.CHALLENGE).build();
        }
        ctx.abortWith(r);
    }
}
