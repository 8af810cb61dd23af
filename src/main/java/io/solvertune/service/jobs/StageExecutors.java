package io.solvertune.service.jobs;

import io.solvertune.tuning.job.StageExecutor;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The installed stage executors by kind, from every {@link StageExecutorBinding} bean. */
@Singleton
public class StageExecutors {

    private final Map<String, StageExecutor> byKind = new TreeMap<>();

    public StageExecutors(Instance<StageExecutorBinding> bindings) {
        for (StageExecutorBinding b : bindings) {
            if (byKind.putIfAbsent(b.kind(), b.executor()) != null) {
                throw new IllegalStateException("two stage executors installed for kind '" + b.kind() + "'");
            }
        }
    }

    public Optional<StageExecutor> forKind(String kind) {
        return Optional.ofNullable(byKind.get(kind));
    }

    /** The kinds that have an executor. */
    public java.util.Set<String> kinds() {
        return byKind.keySet();
    }
}
