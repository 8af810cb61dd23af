package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * The kinds of stage a tuning job is made of; {@link #id()} is the name stored with a stage (the compile-time constants
 * of {@link TuningStages}, which CDI names need).
 */
public enum StageKind {
    /** One shard of teacher trajectories. */
    TEACHER(TuningStages.TEACHER),
    /** A split's shards assembled into one trajectory set. */
    TEACHER_MERGE(TuningStages.TEACHER_MERGE),
    /** The best untuned baseline per NFE (chosen on training rows, scored on held-out seeds). */
    BASELINE(TuningStages.BASELINE),
    /** A coefficient method fitted, chosen and validated on held-out seeds. */
    FIT(TuningStages.FIT),
    /** Learned timesteps of the untuned solvers (CMA-ES, checkpointed per evaluation). */
    TIMESTEPS(TuningStages.TIMESTEPS),
    /** DPM-Solver-v3's learned grid: its snapped setting's times moved off the statistics grid (CMA-ES). */
    TIMESTEPS_V3(TuningStages.TIMESTEPS_V3),
    /** DPM-Solver-v3 empirical model statistics. */
    FIT_EMS(TuningStages.FIT_EMS),
    /** DPM-Solver-v3 variants chosen and validated on held-out seeds. */
    VALIDATE(TuningStages.VALIDATE),
    /** ConsistencySolver trained by RL, materialised per NFE and validated on held-out seeds. */
    TRAIN_CONSISTENCY(TuningStages.TRAIN_CONSISTENCY),
    /** Sample grids of an image model: teacher | best untuned baseline | tuned results, per NFE, as PNGs. */
    SAMPLE_GRIDS(TuningStages.SAMPLE_GRIDS),
    /** The job's typed candidates for the config store (the service publishes them when the job finishes). */
    PUBLISH(TuningStages.PUBLISH);

    private final String id;

    StageKind(String id) {
        this.id = id;
    }

    /** The stored name. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The kind called {@code id}, or null. */
    @JsonCreator
    public static StageKind of(String id) {
        for (StageKind k : values()) {
            if (k.id.equals(id)) {
                return k;
            }
        }
        return null;
    }
}
