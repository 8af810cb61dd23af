package io.solvertune.service.registry;

import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** {@link ModelConflictException} → 409 problem details (same type as the database's conflicts). */
public class RegistryProblemMapper {

    @ServerExceptionMapper
    public Response conflict(ModelConflictException e, HttpServerRequest req) {
        return Problems.response(new Problem(Problems.TYPE_CONFLICT, "Conflict", 409, e.getMessage(), req.path(),
                e.errors()));
    }
}
