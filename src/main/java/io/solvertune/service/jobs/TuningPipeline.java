package io.solvertune.service.jobs;

import io.quarkus.arc.DefaultBean;
import io.solvertune.service.limits.Limits;
import io.solvertune.tuning.job.JobPlanner;
import io.solvertune.tuning.job.TuningJobPlanner;
import io.solvertune.tuning.job.TuningStages;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

/**
 * Installs the real tuning pipeline ({@code io.solvertune.tuning.job}) in the job engine: the
 * {@link TuningJobPlanner} and one {@link StageExecutorBinding} per stage kind of {@link TuningStages}. The planner is
 * a default bean and single kinds can be replaced by CDI alternatives (tests do both).
 */
@Dependent
public class TuningPipeline {

    @Produces
    @Singleton
    @DefaultBean
    JobPlanner planner(Limits limits) {
        return new TuningJobPlanner(Limits.jobLimits(limits.job()));
    }

    private static StageExecutorBinding bind(String kind) {
        return new StageExecutorBinding(kind, TuningStages.executors().get(kind));
    }

    @Produces @Singleton @Named("stage-" + TuningStages.TEACHER)
    StageExecutorBinding teacher() {
        return bind(TuningStages.TEACHER);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.TEACHER_MERGE)
    StageExecutorBinding teacherMerge() {
        return bind(TuningStages.TEACHER_MERGE);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.BASELINE)
    StageExecutorBinding baseline() {
        return bind(TuningStages.BASELINE);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.FIT)
    StageExecutorBinding fit() {
        return bind(TuningStages.FIT);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.TIMESTEPS)
    StageExecutorBinding timesteps() {
        return bind(TuningStages.TIMESTEPS);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.TIMESTEPS_V3)
    StageExecutorBinding timestepsV3() {
        return bind(TuningStages.TIMESTEPS_V3);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.FIT_EMS)
    StageExecutorBinding fitEms() {
        return bind(TuningStages.FIT_EMS);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.VALIDATE)
    StageExecutorBinding validate() {
        return bind(TuningStages.VALIDATE);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.TRAIN_CONSISTENCY)
    StageExecutorBinding trainConsistency() {
        return bind(TuningStages.TRAIN_CONSISTENCY);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.SAMPLE_GRIDS)
    StageExecutorBinding sampleGrids() {
        return bind(TuningStages.SAMPLE_GRIDS);
    }

    @Produces @Singleton @Named("stage-" + TuningStages.PUBLISH)
    StageExecutorBinding publish() {
        return bind(TuningStages.PUBLISH);
    }
}
