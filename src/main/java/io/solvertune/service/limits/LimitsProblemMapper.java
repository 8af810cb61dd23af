package io.solvertune.service.limits;

import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** {@link RequestTooLargeException} → 413 / 414 / 431 problem details (the package maps its own exceptions). */
public class LimitsProblemMapper {

    @ServerExceptionMapper
    public Response tooLarge(RequestTooLargeException e, HttpServerRequest req) {
        return e.response(req.path());
    }
}
