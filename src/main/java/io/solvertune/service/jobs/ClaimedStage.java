package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.job.PlannedStage;
import java.util.Map;

/**
 * A stage a worker holds the lease of.
 *
 * @param modelId           the job's model (null if it was deleted meanwhile)
 * @param attempt           this claim's number (1 = first run; a reclaim after a lost worker counts)
 * @param dependencyOutputs outputs of the stages it depends on, by name
 */
public record ClaimedStage(long jobId, PlannedStage stage, JsonNode jobSpec, Long modelId, int attempt,
                           int maxAttempts, Map<String, JsonNode> dependencyOutputs) {
}
