package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;

/** Turns the output of a job's last stage into the job's result once every stage succeeded (e.g. publishing). */
@FunctionalInterface
public interface JobFinisher {

    /**
     * Computes the job result. Runs again if the job's completion could not be stored, so it must be idempotent per
     * job.
     *
     * @throws IllegalArgumentException when the output cannot be finished (the job then fails with this message)
     */
    JsonNode finish(long jobId, Long modelId, String lastStageKind, JsonNode lastStageOutput);
}
