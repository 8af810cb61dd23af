package io.solvertune.service.api.problem;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.solvertune.service.db.DatabaseOutage;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Maps every exception that leaves a REST resource to RFC 9457 problem details ({@code application/problem+json}).
 * Resources stay thin and just throw:
 *
 * <ul>
 *   <li>{@link jakarta.ws.rs.NotFoundException} (unknown id: give a message) and unmatched routes → 404;</li>
 *   <li>{@link IllegalArgumentException} → 400 (a {@code "field: message"} message also fills {@code errors});
 *       {@link InvalidRequestException} → 400 with several field errors;</li>
 *   <li>malformed JSON / wrong JSON types in a request body → 400 naming the field path and line/column;</li>
 *   <li>database constraint violations → 409 (unique, foreign key, immutable row) or 400 (check, not-null);</li>
 *   <li>any other {@link WebApplicationException} → its status (405 keeps {@code Allow}, 415, 406, ...);</li>
 *   <li>the database out of reach (connection refused or lost, acquisition timeout) → 503 with {@code Retry-After},
 *       logged once per outage by {@link DatabaseOutage};</li>
 *   <li>anything else → 500 with a reference id; the stack trace goes to the log, never into the body.</li>
 * </ul>
 */
public class ProblemMappers {

    /** Problem type of a request refused because the database cannot be reached. */
    public static final String TYPE_UNAVAILABLE = "urn:solvertune:problem:database-unavailable";

    @Inject
    Instance<DatabaseOutage> outages;

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);
    private static final Set<String> HOP_HEADERS = Set.of("content-type", "content-length", "transfer-encoding");
    /** Messages of exceptions thrown by the REST layer itself; the mapper says it more precisely. */
    private static final Set<String> FRAMEWORK_MESSAGES = Set.of(
            "Unable to find matching target resource method",
            "The content-type header value did not match the value in @Consumes",
            "The content-type header value did not correspond to a valid media type",
            "The accept header value did not match the value in @Produces");
    private static final Pattern PG_KEY = Pattern.compile("^Key \\(([^)]*)\\)=");

    // ---- 4xx from the framework or thrown by resources ----------------------------------------------------------

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, HttpServerRequest req) {
        Optional<JsonProcessingException> json = cause(e, JsonProcessingException.class);
        if (json.isPresent() && e.getResponse().getStatus() == 400) {
            return json(json.get(), req); // the Jackson reader wraps parse errors in a 400 WebApplicationException
        }
        int status = e.getResponse().getStatus();
        if (status == 500) {
            return unexpected(e, req);
        }
        return withHeaders(Problems.response(Problems.of(status, detail(e, status, req), req.path())),
                e.getResponse());
    }

    @ServerExceptionMapper
    public Response invalidRequest(InvalidRequestException e, HttpServerRequest req) {
        return Problems.response(new Problem(Problems.TYPE_INVALID_REQUEST, "Invalid request", 400, e.getMessage(),
                req.path(), e.errors()));
    }

    @ServerExceptionMapper
    public Response illegalArgument(IllegalArgumentException e, HttpServerRequest req) {
        return Problems.response(new Problem(Problems.TYPE_INVALID_REQUEST, "Invalid request", 400, e.getMessage(),
                req.path(), Problems.fieldErrorsOf(e.getMessage())));
    }

    // ---- request bodies ------------------------------------------------------------------------------------------

    /** Also replaces quarkus-rest-jackson's built-in mapper for this type (which answers in its own format). */
    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e, HttpServerRequest req) {
        return jsonProcessing(e, req);
    }

    /**
     * A Jackson error while reading the request body is the client's (400); one from our own code (reading stored
     * JSON, say) is a bug (500). A resource that parses a body itself should turn its errors into an
     * {@link InvalidRequestException}.
     */
    @ServerExceptionMapper
    public Response jsonProcessing(JsonProcessingException e, HttpServerRequest req) {
        boolean fromBodyReader = Arrays.stream(e.getStackTrace())
                .anyMatch(f -> f.getClassName().endsWith("MessageBodyReader"));
        return fromBodyReader ? json(e, req) : unexpected(e, req);
    }

    private Response json(JsonProcessingException e, HttpServerRequest req) {
        if (e instanceof InvalidDefinitionException) {
            return unexpected(e, req); // no (de)serializer for a type: our bug, not the client's
        }
        // a syntax error inside a value being bound arrives wrapped in a JsonMappingException
        Optional<StreamReadException> syntax = causes(e).stream()
                .filter(t -> t instanceof StreamReadException && !(t instanceof JsonMappingException))
                .map(StreamReadException.class::cast).findFirst();
        JsonProcessingException source = syntax.isPresent() ? syntax.get() : e;
        String field = syntax.map(ProblemMappers::parserPath).filter(p -> !p.isEmpty())
                .orElseGet(() -> e instanceof JsonMappingException jm ? path(jm) : "");
        String message = jsonMessage(source);
        if (!syntax.isPresent() && e.getCause() instanceof IllegalArgumentException) {
            // a constructor's own validation following the "field: message" convention names the inner field
            List<Problem.FieldError> inner = Problems.fieldErrorsOf(message);
            if (inner.size() == 1) {
                field = field.isEmpty() ? inner.get(0).field() : field + "." + inner.get(0).field();
                message = inner.get(0).message();
            }
        }
        JsonLocation loc = source.getLocation() != null ? source.getLocation() : e.getLocation();
        String where = loc != null && loc.getLineNr() > 0
                ? " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")" : "";
        String detail = syntax.isPresent()
                ? "Malformed JSON" + where + (field.isEmpty() ? "" : " in field '" + field + "'") + ": " + message
                : "Invalid request body" + (field.isEmpty() ? "" : ": field '" + field + "'") + where + ": " + message;
        // a problem of the body as a whole (a trailing token, a truncated document) is the field "body"
        List<Problem.FieldError> errors = List.of(new Problem.FieldError(field.isEmpty() ? "body" : field, message));
        return Problems.response(new Problem(Problems.TYPE_MALFORMED_BODY, "Malformed request body", 400, detail,
                req.path(), errors));
    }

    private static String jsonMessage(JsonProcessingException e) {
        if (e instanceof ValueInstantiationException || e.getCause() instanceof IllegalArgumentException) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return firstLine(c.getMessage());
        }
        if (e instanceof UnrecognizedPropertyException u) {
            Collection<Object> known = u.getKnownPropertyIds();
            return "unknown field '" + u.getPropertyName() + "'" + (known == null || known.isEmpty() ? ""
                    : " (known: " + known.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "))
                    + ")");
        }
        if (e instanceof InvalidFormatException f && f.getTargetType() != null) {
            return "cannot read " + quote(f.getValue()) + " as " + describe(f.getTargetType());
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            String orig = firstLine(m.getOriginalMessage());
            if (orig.startsWith("Cannot deserialize value of type") || orig.startsWith("Cannot construct instance")) {
                return "expected " + describe(m.getTargetType());
            }
            return stripClassNames(orig);
        }
        return stripClassNames(firstLine(e.getOriginalMessage()));
    }

    /** Jackson's locations name the (redacted) source: keep only line and column. */
    private static String stripSource(String s) {
        return s.replaceAll("\\[Source: [^;\\]]*; (line: \\d+, column: \\d+)]", "$1");
    }

    /** What a JSON value of this type looks like, without Java class names. */
    static String describe(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class || t == short.class
                || t == Short.class || t == java.math.BigInteger.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(t) || t == double.class || t == float.class) {
            return "a number";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "a boolean (true or false)";
        }
        if (t == String.class || t == char.class || t == Character.class || CharSequence.class.isAssignableFrom(t)) {
            return "a string";
        }
        if (t.isEnum()) {
            return "one of " + Arrays.stream(t.getEnumConstants()).map(String::valueOf)
                    .collect(Collectors.joining(", "));
        }
        if (t.isArray() || Collection.class.isAssignableFrom(t)) {
            return "an array";
        }
        return "an object";
    }

    private static String quote(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }

    /** Jackson names Java types in backticks; clients know the JSON, not our classes. */
    private static String stripClassNames(String s) {
        return stripSource(s).replaceAll("`[a-z][\\w.]*\\.([A-Z][\\w$]*)`", "$1");
    }

    /** The dotted JSON path of a mapping error: {@code spec.model.weights[2]}. */
    public static String path(JsonMappingException e) {
        StringBuilder p = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                if (p.length() > 0) {
                    p.append('.');
                }
                p.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                p.append('[').append(r.getIndex()).append(']');
            }
        }
        return p.toString();
    }

    /** The field the parser was in when the syntax error happened. */
    private static String parserPath(StreamReadException e) {
        JsonParser parser = e.getProcessor();
        if (parser == null) {
            return "";
        }
        try {
            List<String> parts = new ArrayList<>();
            for (JsonStreamContext c = parser.getParsingContext(); c != null && !c.inRoot(); c = c.getParent()) {
                if (c.inObject() && c.getCurrentName() != null) {
                    parts.add(0, "." + c.getCurrentName());
                } else if (c.inArray() && c.getCurrentIndex() >= 0) {
                    parts.add(0, "[" + c.getCurrentIndex() + "]");
                }
            }
            String p = String.join("", parts);
            return p.startsWith(".") ? p.substring(1) : p;
        } catch (RuntimeException ignored) {
            return "";
        }
    }

    // ---- persistence ---------------------------------------------------------------------------------------------

    @ServerExceptionMapper
    public Response constraintViolation(org.hibernate.exception.ConstraintViolationException e,
                                        HttpServerRequest req) {
        return integrity(e, req).orElseGet(() -> Problems.response(new Problem(Problems.TYPE_CONFLICT,
                "Conflict", 409, "The change violates the constraint " + e.getConstraintName(), req.path(),
                List.of())));
    }

    /** A PostgreSQL integrity-constraint error (SQLState class 23) anywhere in the cause chain. */
    private static Optional<Response> integrity(Throwable e, HttpServerRequest req) {
        Optional<SQLException> sqlEx = causes(e).stream().filter(SQLException.class::isInstance)
                .map(SQLException.class::cast)
                .filter(s -> s.getSQLState() != null && s.getSQLState().startsWith("23")).findFirst();
        if (sqlEx.isEmpty()) {
            return Optional.empty();
        }
        SQLException s = sqlEx.get();
        ServerErrorMessage m = s instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String pgDetail = m == null ? null : m.getDetail();
        String constraint = m == null ? null : m.getConstraint();
        List<Problem.FieldError> errors = new ArrayList<>();
        String state = s.getSQLState();
        int status;
        String detail;
        switch (state) {
            case "23505" -> { // unique_violation
                status = 409;
                detail = "A record with the same key already exists" + (pgDetail == null ? "" : ": " + pgDetail);
                errors.addAll(keyFields(pgDetail, "already exists"));
            }
            case "23503" -> { // foreign_key_violation
                status = 409;
                detail = "The change refers to a missing record or would orphan one"
                        + (pgDetail == null ? "" : ": " + pgDetail);
                errors.addAll(keyFields(pgDetail, "invalid reference"));
            }
            case "23502", "23514" -> { // not_null_violation, check_violation
                status = 400;
                String column = m == null ? null : m.getColumn();
                detail = "A value is missing or out of range"
                        + (column != null ? ": " + column : constraint != null ? ": " + constraint : "");
                if (column != null) {
                    errors.add(new Problem.FieldError(column, "23502".equals(state) ? "is required" : "is invalid"));
                }
            }
            default -> { // 23001 restrict_violation (e.g. the immutability trigger on solver_configs) and others
                status = 409;
                detail = m != null && m.getMessage() != null ? m.getMessage() : firstLine(s.getMessage());
            }
        }
        LOG.debugf(s, "integrity violation %s on %s %s", state, req.method(), req.path());
        return Optional.of(Problems.response(new Problem(status == 409 ? Problems.TYPE_CONFLICT
                : Problems.TYPE_INVALID_REQUEST, status == 409 ? "Conflict" : "Invalid request", status, detail,
                req.path(), errors)));
    }

    private static List<Problem.FieldError> keyFields(String pgDetail, String message) {
        if (pgDetail == null) {
            return List.of();
        }
        Matcher k = PG_KEY.matcher(pgDetail);
        if (!k.find()) {
            return List.of();
        }
        return Arrays.stream(k.group(1).split(",\\s*")).map(c -> new Problem.FieldError(c, message)).toList();
    }

    // ---- everything else -----------------------------------------------------------------------------------------

    @ServerExceptionMapper
    public Response unexpected(Throwable e, HttpServerRequest req) {
        Optional<Response> integrity = integrity(e, req);
        if (integrity.isPresent()) {
            return integrity.get(); // e.g. a constraint violation surfacing at commit, wrapped by the transaction
        }
        if (DatabaseOutage.isUnavailable(e)) {
            DatabaseOutage outage = outages.get();
            outage.refused(e); // one log line per outage, not a stack trace per request
            return Response.fromResponse(Problems.response(new Problem(TYPE_UNAVAILABLE, "Service Unavailable", 503,
                    "The database cannot be reached; retry in " + outage.retryAfterSeconds() + " s.", req.path(),
                    List.of()))).header(HttpHeaders.RETRY_AFTER, Long.toString(outage.retryAfterSeconds())).build();
        }
        String ref = UUID.randomUUID().toString();
        LOG.errorf(e, "Unhandled error on %s %s (reference %s)", req.method(), req.path(), ref);
        return Problems.response(Problems.of(500, "An unexpected error occurred. It has been logged with reference "
                + ref + ".", req.path()));
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static String detail(WebApplicationException e, int status, HttpServerRequest req) {
        String msg = e.getMessage();
        boolean generic = msg == null || msg.isBlank() || msg.startsWith("HTTP " + status)
                || FRAMEWORK_MESSAGES.contains(msg);
        if (!generic) {
            return msg;
        }
        String target = req.method() + " " + req.path();
        return switch (status) {
            case 404 -> "No resource matches " + target;
            case 405 -> {
                Object allow = e.getResponse().getHeaders().getFirst(HttpHeaders.ALLOW);
                yield "Method " + req.method() + " is not allowed on " + req.path()
                        + (allow == null ? "" : " (allowed: " + allow.toString().replace(",", ", ") + ")");
            }
            case 415 -> "Content-Type '" + Optional.ofNullable(req.getHeader(HttpHeaders.CONTENT_TYPE)).orElse("none")
                    + "' is not supported by " + target;
            case 406 -> "None of the acceptable media types (Accept: "
                    + Optional.ofNullable(req.getHeader(HttpHeaders.ACCEPT)).orElse("*/*") + ") is produced by "
                    + target;
            default -> Problems.reason(status);
        };
    }

    /** Keeps headers such as {@code Allow}, {@code WWW-Authenticate} or {@code Retry-After}. */
    private static Response withHeaders(Response problem, Response original) {
        if (original == null || original.getHeaders().isEmpty()) {
            return problem;
        }
        Response.ResponseBuilder b = Response.fromResponse(problem);
        for (Map.Entry<String, List<Object>> h : original.getHeaders().entrySet()) {
            if (!HOP_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                for (Object v : h.getValue()) {
                    b.header(h.getKey(), v);
                }
            }
        }
        return b.build();
    }

    private static <T extends Throwable> Optional<T> cause(Throwable e, Class<T> type) {
        return causes(e).stream().filter(type::isInstance).map(type::cast).findFirst();
    }

    private static List<Throwable> causes(Throwable e) {
        List<Throwable> out = new ArrayList<>();
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable t = e; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            out.add(t);
            if (t instanceof SQLException s && s.getNextException() != null) {
                out.add(s.getNextException());
            }
        }
        return out;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.split("\n", 2)[0].strip();
    }
}
