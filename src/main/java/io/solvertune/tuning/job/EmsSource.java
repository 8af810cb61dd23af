package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.solvertune.tuning.fit.EmsEstimator;
import java.util.Arrays;

/** Where DPM-Solver-v3 statistics come from (the job spec's {@code ems.source}). */
public enum EmsSource {
    /** The guided teacher's own states on the fit rows (default). */
    TEACHER("teacher", EmsEstimator.Source.TEACHER_TRAJECTORY),
    /** Noised data samples (the paper). */
    DATA("data", EmsEstimator.Source.NOISED_DATA);

    private final String id;
    private final EmsEstimator.Source estimator;

    EmsSource(String id, EmsEstimator.Source estimator) {
        this.id = id;
        this.estimator = estimator;
    }

    @JsonValue
    public String id() {
        return id;
    }

    /** The estimator's source. */
    public EmsEstimator.Source estimator() {
        return estimator;
    }

    /** The source called {@code id}, or null. */
    @JsonCreator
    public static EmsSource of(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id)).findFirst().orElse(null);
    }
}
