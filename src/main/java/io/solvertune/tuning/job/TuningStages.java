package io.solvertune.tuning.job;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The stage kinds of a tuning job ({@link StageKind}; their ids as compile-time constants) and their executors. Executors are stateless (everything a stage needs is in its
 * {@link StageContext}), so one instance per kind may run several stages at once on different threads; every stage
 * works only in its own directory {@code workDir/<stage name>} and reads its dependencies' outputs.
 */
public final class TuningStages {
    /** One shard of teacher trajectories. */
    public static final String TEACHER = "teacher";
    /** A split's shards assembled into one trajectory set. */
    public static final String TEACHER_MERGE = "teacher-merge";
    /** The best untuned baseline per NFE (chosen on training rows, scored on held-out seeds). */
    public static final String BASELINE = "baseline";
    /** A coefficient method fitted, chosen and validated on held-out seeds. */
    public static final String FIT = "fit";
    /** Learned timesteps of the untuned solvers. */
    public static final String TIMESTEPS = "learn-timesteps";
    /** DPM-Solver-v3's learned grid (from its snapped setting, off the statistics grid). */
    public static final String TIMESTEPS_V3 = "learn-timesteps-v3";
    /** DPM-Solver-v3 empirical model statistics. */
    public static final String FIT_EMS = "fit-ems";
    /** DPM-Solver-v3 variants chosen and validated on held-out seeds. */
    public static final String VALIDATE = "validate";
    /** ConsistencySolver trained by RL, materialised per NFE and validated on held-out seeds. */
    public static final String TRAIN_CONSISTENCY = "train-consistency";
    /** Sample grids of an image model (PNGs and their index). */
    public static final String SAMPLE_GRIDS = "sample-grids";
    /** The job's candidates for the config store. */
    public static final String PUBLISH = "publish";

    private TuningStages() {
    }

    /** A fresh executor per kind. */
    public static Map<String, StageExecutor> executors() {
        Map<String, StageExecutor> m = new LinkedHashMap<>();
        m.put(TEACHER, new TeacherShardStage());
        m.put(TEACHER_MERGE, new TeacherMergeStage());
        m.put(BASELINE, new BaselineStage());
        m.put(FIT, new CoefficientFitStage());
        m.put(TIMESTEPS, new TimestepsStage());
        m.put(TIMESTEPS_V3, new DpmSolverV3TimestepsStage());
        m.put(FIT_EMS, new EmsFitStage());
        m.put(VALIDATE, new DpmSolverV3Stage());
        m.put(TRAIN_CONSISTENCY, new ConsistencyStage());
        m.put(SAMPLE_GRIDS, new SampleGridStage());
        m.put(PUBLISH, new PublishStage());
        return java.util.Collections.unmodifiableMap(m);
    }
}
