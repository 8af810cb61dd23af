package io.solvertune.service.registry;

import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Test double of a {@link ModelUsage} (the jobs' one): blocks the deletion of the models a test puts in. */
@Singleton
public class BlockingModelUsage implements ModelUsage {

    /** Model id → reason. */
    static final Map<Long, String> BLOCKED = new ConcurrentHashMap<>();

    @Override
    public Optional<String> blocksDelete(long modelId) {
        return Optional.ofNullable(BLOCKED.get(modelId));
    }
}
