package io.solvertune.service.configs;

import io.solvertune.exports.ConfigExports;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * {@link ConfigExports.NotApplicable} → 409 problem details: the format exists but would not reproduce this config;
 * the detail gives the reason, {@code errors} the formats that do.
 */
public class ConfigsProblemMapper {

    /** Problem type of an export format that does not apply to the config's method or model. */
    public static final String TYPE_FORMAT_NOT_APPLICABLE = "urn:solvertune:problem:export-not-applicable";

    @ServerExceptionMapper
    public Response notApplicable(ConfigExports.NotApplicable e, HttpServerRequest req) {
        List<Problem.FieldError> errors = new java.util.ArrayList<>();
        errors.add(new Problem.FieldError("format", e.getMessage()));
        if (!e.alternatives().isEmpty()) {
            errors.add(new Problem.FieldError("alternatives", String.join(", ", e.alternatives())));
        }
        return Problems.response(new Problem(TYPE_FORMAT_NOT_APPLICABLE, "Export format not applicable", 409,
                e.getMessage(), req.path(), errors));
    }
}
