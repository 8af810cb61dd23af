package io.solvertune.service.registry;

import io.solvertune.service.api.problem.Problem;
import java.util.List;

/**
 * A registry change that conflicts with the current state (duplicate name, model still in use): 409 problem details
 * with the offending field ({@link RegistryProblemMapper}).
 */
public class ModelConflictException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem.FieldError> errors;

    public ModelConflictException(String detail, List<Problem.FieldError> errors) {
        super(detail);
        this.errors = List.copyOf(errors);
    }

    public List<Problem.FieldError> errors() {
        return errors;
    }
}
