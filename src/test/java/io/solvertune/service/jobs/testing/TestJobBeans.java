package io.solvertune.service.jobs.testing;

import io.solvertune.service.jobs.StageExecutorBinding;
import io.solvertune.tuning.job.JobPlanner;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Installs the {@link TestStages} planner and executors, the way the real ones are installed (producers). An
 * alternative: only test profiles selecting {@code io.solvertune.service.jobs.testing.*} see it.
 */
@Alternative
@Singleton
public class TestJobBeans {

    @Produces
    @Singleton
    @Alternative
    JobPlanner planner() {
        return new TestStages.Planner();
    }

    @Produces
    @Singleton
    @Alternative
    StageExecutorBinding shard() {
        return new StageExecutorBinding("test-shard", new TestStages.Shard());
    }

    @Produces
    @Singleton
    @Alternative
    StageExecutorBinding fit() {
        return new StageExecutorBinding("test-fit", new TestStages.Fit());
    }

    @Produces
    @Singleton
    @Alternative
    StageExecutorBinding validate() {
        return new StageExecutorBinding("test-validate", new TestStages.Validate());
    }

    @Produces
    @Singleton
    @Alternative
    StageExecutorBinding publish() {
        return new StageExecutorBinding("publish", new TestStages.Publish());
    }
}
