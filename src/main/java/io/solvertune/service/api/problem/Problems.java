package io.solvertune.service.api.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Building {@link Problem} bodies and responses. */
public final class Problems {

    /** {@code type} when the status code says it all (RFC 9457 section 4.2.1). */
    public static final String ABOUT_BLANK = "about:blank";
    /** A request that is well-formed but has invalid values. */
    public static final String TYPE_INVALID_REQUEST = "urn:solvertune:problem:invalid-request";
    /** A request body that is not valid JSON or does not match the expected structure. */
    public static final String TYPE_MALFORMED_BODY = "urn:solvertune:problem:malformed-body";
    /** A database constraint refused the change (duplicate, still referenced, immutable row). */
    public static final String TYPE_CONFLICT = "urn:solvertune:problem:conflict";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code "field: message"} — the convention of validation messages in the numerics layer. */
    private static final Pattern FIELD_PREFIX = Pattern.compile("^([A-Za-z_][A-Za-z0-9_.\\[\\]-]*): (.+)$",
            Pattern.DOTALL);

    private Problems() {
    }

    /** The standard reason phrase of a status code (the {@code title} of an about:blank problem). */
    public static String reason(int status) {
        Response.Status s = Response.Status.fromStatusCode(status);
        if (s != null) {
            return s.getReasonPhrase();
        }
        return switch (status) {
            case 405 -> "Method Not Allowed";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            default -> Response.Status.Family.familyOf(status) == Response.Status.Family.CLIENT_ERROR
                    ? "Client Error" : "Server Error";
        };
    }

    /** An about:blank problem. */
    public static Problem of(int status, String detail, String instance) {
        return new Problem(ABOUT_BLANK, reason(status), status, detail, instance, List.of());
    }

    /** The problem as a JAX-RS response with content type {@code application/problem+json}. */
    public static Response response(Problem p) {
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(toJson(p)).build();
    }

    /** The problem serialized (so it does not depend on message-body-writer selection or the request's Accept). */
    public static String toJson(Problem p) {
        try {
            return JSON.writeValueAsString(p);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The field errors of a message following the {@code "field: message"} convention (for instance
     * {@code "nfe: must be positive"}); empty otherwise.
     */
    public static List<Problem.FieldError> fieldErrorsOf(String message) {
        List<Problem.FieldError> out = new ArrayList<>();
        if (message != null) {
            Matcher m = FIELD_PREFIX.matcher(message.strip());
            if (m.matches()) {
                out.add(new Problem.FieldError(m.group(1), m.group(2)));
            }
        }
        return out;
    }
}
