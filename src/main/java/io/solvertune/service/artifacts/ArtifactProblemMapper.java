package io.solvertune.service.artifacts;

import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** {@link ArtifactTooLargeException} → 413 problem details naming the request body and the limit. */
public class ArtifactProblemMapper {

    /** Problem type of an upload over the configured size limit. */
    public static final String TYPE_TOO_LARGE = "urn:solvertune:problem:upload-too-large";

    @ServerExceptionMapper
    public Response tooLarge(ArtifactTooLargeException e, HttpServerRequest req) {
        return Problems.response(new Problem(TYPE_TOO_LARGE, "Content Too Large", 413, e.getMessage(), req.path(),
                List.of(new Problem.FieldError("body", "larger than the limit of " + e.limitBytes() + " bytes"))));
    }
}
