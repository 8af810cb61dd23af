package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A request the server refused (an RFC 9457 problem), or one that never reached it (status 0). The message is one
 * line: {@code "400 Bad Request: detail (field: message; ...)"}.
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One offending field of a problem. */
    public record FieldError(String field, String message) {
    }

    private final int status;
    private final String title;
    private final String detail;
    private final transient List<FieldError> errors;

    public ApiException(int status, String title, String detail, List<FieldError> errors, String message) {
        super(message);
        this.status = status;
        this.title = title;
        this.detail = detail;
        this.errors = List.copyOf(errors);
    }

    /** A transport failure (connection refused, timeout, interruption): status 0. */
    static ApiException transport(String message) {
        return new ApiException(0, null, message, List.of(), message);
    }

    /** The HTTP status (0: the request did not reach the server). */
    public int status() {
        return status;
    }

    /** The problem's title (null when the body was not a problem). */
    public String title() {
        return title;
    }

    /** The problem's detail. */
    public String detail() {
        return detail;
    }

    /** The offending fields the server named (empty when none). */
    public List<FieldError> errors() {
        return errors;
    }

    /** Parses a problem+json body (anything else becomes the detail, cut to 300 characters). */
    static ApiException of(int status, String body) {
        String b = body == null ? "" : body.strip();
        try {
            JsonNode p = b.isEmpty() ? null : JSON.readTree(b);
            if (p != null && p.isObject() && (p.has("title") || p.has("detail"))) {
                String title = p.hasNonNull("title") ? p.get("title").asText() : null;
                String detail = p.hasNonNull("detail") ? p.get("detail").asText() : null;
                List<FieldError> errors = new ArrayList<>();
                StringBuilder fields = new StringBuilder();
                for (JsonNode e : p.path("errors")) {
                    FieldError fe = new FieldError(e.path("field").asText(), e.path("message").asText());
                    errors.add(fe);
                    if (detail == null || !detail.contains(fe.message())) {
                        fields.append(fields.length() == 0 ? "" : "; ").append(fe.field()).append(": ")
                                .append(fe.message());
                    }
                }
                String msg = status + (title == null ? "" : " " + title) + (detail == null ? "" : ": " + detail)
                        + (fields.length() == 0 ? "" : " (" + fields + ")");
                return new ApiException(status, title, detail, errors, msg);
            }
        } catch (IOException ignored) {
            // not JSON: reported as text below
        }
        String text = b.length() > 300 ? b.substring(0, 300) + "..." : b;
        text = text.replaceAll("\\s+", " ");
        return new ApiException(status, null, text.isEmpty() ? null : text, List.of(),
                status + (text.isEmpty() ? "" : ": " + text));
    }
}
