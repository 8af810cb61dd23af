package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** Turns a job spec into its stages. */
public interface JobPlanner {

    /**
     * Checks the spec and plans it: stages in a topological order (every stage after those it depends on).
     * Deterministic: the same spec gives the same plan.
     *
     * @throws IllegalArgumentException with a {@code "field: message"} text naming the offending spec field
     */
    List<PlannedStage> plan(JsonNode spec);
}
