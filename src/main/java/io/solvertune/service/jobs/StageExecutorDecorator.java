package io.solvertune.service.jobs;

import io.solvertune.tuning.job.StageExecutor;

/**
 * Wraps the executor of every stage the in-process workers run (metrics, the shared artifact store). The
 * {@link WorkerPool} applies every CDI bean of this type, in ascending {@link #order()}: the lowest order is the
 * innermost wrapper.
 */
public interface StageExecutorDecorator {

    /** The executor to run for a stage of {@code kind} in place of {@code executor}. */
    StageExecutor decorate(String kind, StageExecutor executor);

    /** As {@link #decorate(String, StageExecutor)}, for the pool's worker number {@code worker} (0-based). */
    default StageExecutor decorate(int worker, String kind, StageExecutor executor) {
        return decorate(kind, executor);
    }

    /** Wraps the job finisher (which may read the job's files, e.g. for publishing). */
    default JobFinisher decorateFinisher(JobFinisher finisher) {
        return finisher;
    }

    /** Lower runs closer to the stage. */
    default int order() {
        return 0;
    }
}
