package io.solvertune.service.security;

import io.solvertune.service.api.problem.Problems;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * {@link TokenService.LookupBudgetExceeded} → 503 with {@code Retry-After}: lookups of unknown tokens are over their
 * budget (the package maps its own exceptions).
 */
public class SecurityProblemMapper {

    @ServerExceptionMapper
    public Response lookupBudget(TokenService.LookupBudgetExceeded e, HttpServerRequest req) {
        return Response.fromResponse(Problems.response(Problems.of(503, e.getMessage(), req.path())))
                .header(HttpHeaders.RETRY_AFTER, "1").build();
    }
}
