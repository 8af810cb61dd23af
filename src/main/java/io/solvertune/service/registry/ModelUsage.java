package io.solvertune.service.registry;

import java.util.Optional;

/**
 * Something that may still need a registered model (unfinished tuning jobs). Deleting a model asks every CDI bean of
 * this type; the first reason given refuses the delete with 409.
 */
public interface ModelUsage {

    /** Why the model cannot be deleted now (e.g. "used by queued/running jobs 12, 15"), or empty. */
    Optional<String> blocksDelete(long modelId);
}
