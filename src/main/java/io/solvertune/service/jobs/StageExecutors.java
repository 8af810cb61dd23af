package io.solvertune.service.jobs;

import io.solvertune.tuning.job.StageExecutor;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The installed stage executors by kind, from every {@link StageExecutorBinding} bean. Two bindings of one kind are
 * refused at startup, unless exactly one of them is an enabled CDI alternative, which then replaces the other (tests
 * and deployments override single kinds that way).
 */
@Singleton
public class StageExecutors {

    private final Map<String, StageExecutor> byKind = new TreeMap<>();

    public StageExecutors(Instance<StageExecutorBinding> bindings) {
        Map<String, Boolean> fromAlternative = new TreeMap<>();
        for (Instance.Handle<StageExecutorBinding> h : bindings.handles()) {
            StageExecutorBinding b = h.get();
            boolean alternative = h.getBean().isAlternative();
            Boolean previous = fromAlternative.get(b.kind());
            if (previous == null || !previous && alternative) {
                byKind.put(b.kind(), b.executor());
                fromAlternative.put(b.kind(), alternative);
            } else if (previous == alternative) {
                throw new IllegalStateException("two stage executors installed for kind '" + b.kind() + "'");
            }
        }
    }

    public Optional<StageExecutor> forKind(String kind) {
        return Optional.ofNullable(byKind.get(kind));
    }

    /** The kinds that have an executor. */
    public Set<String> kinds() {
        return byKind.keySet();
    }
}
