package io.solvertune.service.configs;

import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** {@link ConfigExports.NotApplicable} → 409 problem details: the format exists but does not fit this config. */
public class ConfigsProblemMapper {

    /** Problem type of an export format that does not apply to the config's method or model. */
    public static final String TYPE_FORMAT_NOT_APPLICABLE = "urn:solvertune:problem:export-not-applicable";

    @ServerExceptionMapper
    public Response notApplicable(ConfigExports.NotApplicable e, HttpServerRequest req) {
        return Problems.response(new Problem(TYPE_FORMAT_NOT_APPLICABLE, "Export format not applicable", 409,
                e.getMessage(), req.path(), List.of(new Problem.FieldError("format", e.getMessage()))));
    }
}
