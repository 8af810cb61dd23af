package io.solvertune.service.registry;

/**
 * Fired after a committed change of a model's {@code anonymousRead} flag, so that caches of the flag in this process
 * (the download path's) drop it at once instead of at the end of their TTL.
 */
public record ModelReadAccessChanged(long modelId) {
}
