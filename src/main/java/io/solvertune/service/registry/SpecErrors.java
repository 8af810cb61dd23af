package io.solvertune.service.registry;

import ai.djl.engine.EngineException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.api.problem.Problems;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Turns what the numerics layer throws while reading, building or running a model into 400 problem details naming
 * the request field. The numerics follow the {@code "field: message"} convention with fields relative to the model
 * spec ({@code model.npz}, {@code schedule}); a {@code fieldMap} places them in the request ({@code spec.model.npz},
 * or a query parameter).
 */
final class SpecErrors {

    private SpecErrors() {
    }

    /** Whether {@code e} is a client's model failing (as opposed to a bug or an outage). */
    static boolean isModelFailure(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof ArithmeticException || e instanceof EngineException
                || e instanceof UnsupportedOperationException || e instanceof IOException;
    }

    /**
     * A 400 for a failure of the model.
     *
     * @param fieldMap maps the numerics' field ({@code model.x}, {@code schedule}, ...; {@code ""} when the message
     *                 names none) and the rest of the message to the request's field
     * @param scrub    removes server-side details (temporary file names) from messages
     */
    static InvalidRequestException of(Throwable e, BiFunction<String, String, String> fieldMap,
                                      UnaryOperator<String> scrub) {
        if (e instanceof InvalidRequestException ire) {
            return ire;
        }
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof NoSuchFileException) {
            msg = "a file the model needs is missing on the server: " + msg;
        } else if (e instanceof EngineException) {
            msg = "the model failed to run: " + firstLine(msg);
        }
        msg = scrub.apply(msg);
        List<Problem.FieldError> fe = Problems.fieldErrorsOf(msg);
        String field;
        String text;
        if (fe.size() == 1) {
            field = fieldMap.apply(fe.get(0).field(), fe.get(0).message());
            text = fe.get(0).message();
        } else {
            field = fieldMap.apply("", msg);
            text = msg;
        }
        return InvalidRequestException.field(field, firstLine(text));
    }

    /** A 400 for a spec that Jackson could not bind, naming the JSON path below {@code prefix}. */
    static InvalidRequestException ofJson(JsonProcessingException e, String prefix) {
        String path = e instanceof JsonMappingException jm ? path(jm) : "";
        String message;
        if (e instanceof InvalidTypeIdException t) {
            message = t.getTypeId() == null ? "missing 'type'" : "unknown type '" + t.getTypeId() + "'";
            if (!path.isEmpty()) {
                path = path + ".type";
            } else {
                path = "type";
            }
        } else if (e instanceof UnrecognizedPropertyException u) {
            message = "unknown field '" + u.getPropertyName() + "'" + (u.getKnownPropertyIds() == null ? ""
                    : " (known: " + u.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                    .collect(Collectors.joining(", ")) + ")");
        } else if (e.getCause() instanceof IllegalArgumentException iae) {
            List<Problem.FieldError> inner = Problems.fieldErrorsOf(iae.getMessage());
            message = inner.size() == 1 ? inner.get(0).message() : iae.getMessage();
        } else {
            message = firstLine(e.getOriginalMessage()).replaceAll("`[a-z][\\w.]*\\.([A-Z][\\w$]*)`", "$1");
        }
        return InvalidRequestException.field(path.isEmpty() ? prefix : prefix + "." + path, firstLine(message));
    }

    /** The dotted JSON path of a mapping error (the problem mappers' rendering). */
    static String path(JsonMappingException e) {
        return io.solvertune.service.api.problem.ProblemMappers.path(e);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.split("\n", 2)[0].strip();
    }
}
