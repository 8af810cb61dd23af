package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Runs one stage. A stage is idempotent and checkpointed: run again after a crash (same work directory), it resumes
 * or redoes its work and produces the same output, so a killed worker loses at most the stage in flight.
 */
public interface StageExecutor {

    /**
     * Runs the stage; the returned JSON (small: paths, sha256s, metrics, candidates) is stored with the stage and
     * handed to the stages that depend on it.
     *
     * @throws java.util.concurrent.CancellationException when {@link StageContext#cancelled()} became true
     */
    JsonNode execute(StageContext ctx) throws Exception;
}
