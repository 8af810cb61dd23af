package io.solvertune.service.api.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * An RFC 9457 problem details body ({@code application/problem+json}). {@code errors} lists the offending fields
 * when they are known (omitted otherwise).
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@Schema(name = "Problem", description = "RFC 9457 problem details")
public record Problem(
        @Schema(description = "URI identifying the problem type; about:blank when the HTTP status says it all",
                example = "about:blank") String type,
        @Schema(description = "short summary of the problem type", example = "Not Found") String title,
        @Schema(description = "HTTP status code", example = "404") int status,
        @Schema(description = "explanation of this occurrence") String detail,
        @Schema(description = "the request path", example = "/api/v1/solvers/foo") String instance,
        @Schema(description = "per-field errors, when the offending fields are known") List<FieldError> errors) {

    /** Media type of problem details. */
    public static final String MEDIA_TYPE = "application/problem+json";

    /** One invalid field: a dotted path into the request ({@code spec.schedule.betas[3]}) or a parameter name. */
    @Schema(name = "FieldError")
    public record FieldError(String field, String message) {
    }

    public Problem {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }
}
