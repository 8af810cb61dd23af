package io.solvertune.tuning.job;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A job spec with one or more invalid fields. The message is {@code "field: message"} of every error joined by
 * {@code "; "}, so a single error reads exactly as the {@code "field: message"} convention of the numerics layer.
 */
public class InvalidSpecException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** One invalid field: a dotted path into the spec ({@code seeds.heldOutBase}, {@code nfe[2]}). */
    public record FieldError(String field, String message) {
        @Override
        public String toString() {
            return field + ": " + message;
        }
    }

    private final transient List<FieldError> errors;

    public InvalidSpecException(List<FieldError> errors) {
        super(errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("an invalid spec has at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    /** Every invalid field, in the order the spec was read. */
    public List<FieldError> errors() {
        return errors;
    }
}
