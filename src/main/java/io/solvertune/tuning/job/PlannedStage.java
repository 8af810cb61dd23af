package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One stage of a tuning job's DAG (teacher shard, fit, validation, publish).
 *
 * @param name      unique within the job, e.g. {@code teacher-train-0003}, {@code fit-dc-g7.5}
 * @param kind      what runs it: {@code teacher}, {@code fit}, {@code validate}, {@code publish}, ...
 * @param dependsOn names of the stages that must have succeeded first
 * @param params    the stage's own parameters (seed range, method, NFE list, ...)
 */
public record PlannedStage(String name, String kind, List<String> dependsOn, JsonNode params) {

    public PlannedStage {
        dependsOn = List.copyOf(dependsOn);
    }

    /** A stage of the tuning pipeline: its kind and its parameter record (stored as that record's JSON). */
    public static PlannedStage of(String name, StageKind kind, List<String> dependsOn, Object params) {
        return new PlannedStage(name, kind.id(), dependsOn, StageParams.tree(params));
    }

    /** The tuning pipeline's kind of this stage, or null (a kind of another planner). */
    public StageKind stageKind() {
        return StageKind.of(kind);
    }
}
