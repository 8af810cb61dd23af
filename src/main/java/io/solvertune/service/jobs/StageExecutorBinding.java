package io.solvertune.service.jobs;

import io.solvertune.tuning.job.StageExecutor;
import java.util.Objects;

/**
 * Installs a {@link StageExecutor} for one stage kind. The engine collects every CDI bean of this type, e.g.
 * <pre>{@code
 * @Produces @Singleton StageExecutorBinding teacher() { return new StageExecutorBinding("teacher", new TeacherStage()); }
 * }</pre>
 * Two bindings of the same kind are refused at startup.
 */
public record StageExecutorBinding(String kind, StageExecutor executor) {

    public StageExecutorBinding {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(executor, "executor");
    }
}
