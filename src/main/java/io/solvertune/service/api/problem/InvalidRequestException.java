package io.solvertune.service.api.problem;

import java.util.List;

/**
 * A request that is well-formed but invalid, with the offending fields: mapped to 400 problem details with
 * {@code errors}. Services throw this (or an {@link IllegalArgumentException} whose message starts with
 * {@code "field: "}) for validation failures.
 */
public class InvalidRequestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem.FieldError> errors;

    public InvalidRequestException(String detail, List<Problem.FieldError> errors) {
        super(detail);
        this.errors = List.copyOf(errors);
    }

    /** One invalid field. */
    public static InvalidRequestException field(String field, String message) {
        return new InvalidRequestException(field + ": " + message, List.of(new Problem.FieldError(field, message)));
    }

    public List<Problem.FieldError> errors() {
        return errors;
    }
}
