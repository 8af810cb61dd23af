package io.solvertune.service.configs;

import io.solvertune.tuning.publish.ConfigCandidate;
import java.util.List;

/** Publishes the validated results of a tuning job as immutable config versions. */
public interface ConfigPublisher {

    /**
     * Publishes every validated candidate as the next version of its key, in one transaction, and returns the new
     * config ids (in candidate order, skipping the unvalidated ones). Each key's {@code latest} alias moves to its new
     * version, and per (model, NFE, guidance) the candidate with the lowest held-out MSE becomes {@code recommended}.
     * Idempotent per job: publishing the same job again returns the ids published the first time instead of creating
     * new versions. An invalid candidate ({@code "candidates[i].field: message"}) rejects the whole publish.
     */
    List<Long> publish(long jobId, List<ConfigCandidate> candidates);
}
