package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.MethodId;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Plans a {@link TuningJobSpec}. Per guidance scale {@code w} (prefix {@code g<w>/}):
 * <ol>
 *   <li>{@code teacher-train-000 ..} and {@code teacher-heldout-000 ..}: teacher shards of {@code shardSize} seeds;</li>
 *   <li>{@code teacher-train}, {@code teacher-heldout}: the shards assembled into one trajectory set each;</li>
 *   <li>{@code baseline}: the best untuned baseline per NFE, chosen on the selection rows, scored on held-out;</li>
 *   <li>{@code fit-<method>} per coefficient method (fit, choice and held-out validation);
 *       {@code fit-dpmsolver-v3} (statistics) then {@code validate-dpmsolver-v3} (with {@code "timesteps": "learned"}
 *       also {@code timesteps-dpmsolver-v3}: v3's grid learned off its statistics grid); {@code fit-consistency-solver}
 *       (ConsistencySolver trained by RL, or by the direct gradient with {@code consistency.trainer: direct},
 *       materialised per NFE, validated; with {@code "timesteps": "learned"} also
 *       {@code fit-consistency-solver+timesteps}: trained on the {@code timesteps} stage's learned grids);</li>
 *   <li>{@code sample-grids} (unless {@code sampleGrids.seeds} is 0 or the model is known not to have image
 *       samples): teacher | best untuned baseline | every tuned result per NFE on the first held-out seeds, as PNGs
 *       (a model of unknown shape whose samples turn out not to be images records that it has none);</li>
 *   <li>with {@code "timesteps": "learned"}: {@code timesteps} (learned grids of the untuned solvers), then
 *       {@code fit-<method>+timesteps} per coefficient method (fitted on learned grids);</li>
 * </ol>
 * and one final {@code publish} stage whose output is the JSON array of {@link io.solvertune.tuning.publish.ConfigCandidate}s (written to {@code publish/candidates.json}).
 */
public final class TuningJobPlanner implements JobPlanner {
    /** First seed of the data samples of DPM-Solver-v3 statistics from noised data (as {@code fit-ems}). */
    static final long EMS_DATA_FIRST_SEED = 5_000_000L;

    private final JobLimits limits;

    /** A planner with the {@link JobLimits#DEFAULTS}. */
    public TuningJobPlanner() {
        this(JobLimits.DEFAULTS);
    }

    public TuningJobPlanner(JobLimits limits) {
        this.limits = limits;
    }

    @Override
    public List<PlannedStage> plan(JsonNode spec) {
        return plan(TuningJobSpec.parse(spec, limits));
    }

    @Override
    public List<PlannedStage> plan(JsonNode spec, Model model) {
        return plan(TuningJobSpec.parse(spec, limits, model), model == null || model.sampleShape() == null
                || io.solvertune.tuning.eval.ImageGrid.isImage(model.sampleShape()));
    }

    /** Plans a parsed spec (with its sample-grid stages: the model may have image samples). */
    public List<PlannedStage> plan(TuningJobSpec spec) {
        return plan(spec, true);
    }

    /**
     * Plans a parsed spec; {@code images}: whether the model may have image samples (false: a model known to have
     * other samples gets no sample-grid stages).
     */
    public List<PlannedStage> plan(TuningJobSpec spec, boolean images) {
        List<PlannedStage> stages = new ArrayList<>();
        List<StageParams.Group> groups = new ArrayList<>();
        List<String> publishDeps = new ArrayList<>();
        TuningJobSpec.Seeds s = spec.seeds();
        for (double w : spec.guidance()) {
            String g = guidanceLabel(w) + "/";
            String train = teacher(stages, spec, w, g, "train", s.trainBase(), s.train(), spec.teacher().recordEvery());
            String held = teacher(stages, spec, w, g, "heldout", s.heldOutBase(), s.heldOut(), spec.teacher().steps());
            StageParams.Eval eval = new StageParams.Eval(w, spec.classLabel(), train, held, s.fitRows(), s.train(),
                    spec.nfe(), spec.spacings(), spec.batch());
            String baseline = g + "baseline";
            stages.add(PlannedStage.of(baseline, StageKind.BASELINE, List.of(train, held), eval));
            publishDeps.add(baseline);
            List<String> fits = new ArrayList<>();
            for (MethodId method : spec.coefficientMethods()) {
                String name = g + "fit-" + method.id();
                stages.add(PlannedStage.of(name, StageKind.FIT, List.of(train, held, baseline),
                        new StageParams.Fit(eval, method, s.coefficientFitRows(), baseline)));
                fits.add(name);
                publishDeps.add(name);
            }
            if (spec.learnsTimesteps()) {
                String ts = g + "timesteps";
                stages.add(PlannedStage.of(ts, StageKind.TIMESTEPS, List.of(train, held, baseline),
                        new StageParams.Timesteps(eval, s.coefficientFitRows(), baseline, spec.timesteps())));
                fits.add(ts);
                publishDeps.add(ts);
                for (MethodId method : spec.coefficientMethods()) {
                    String name = g + "fit-" + method.id() + StageOutputs.TIMESTEPS_SUFFIX;
                    stages.add(PlannedStage.of(name, StageKind.FIT, List.of(train, held, baseline, ts),
                            new StageParams.Fit(eval, method, s.coefficientFitRows(), baseline, spec.timesteps(), ts)));
                    fits.add(name);
                    publishDeps.add(name);
                }
            }
            String v3 = null;
            String v3Timesteps = null;
            if (spec.wantsDpmSolverV3()) {
                String ems = g + "fit-" + MethodId.DPMSOLVER_V3.id();
                boolean fromTeacher = spec.ems().source() == EmsSource.TEACHER;
                stages.add(PlannedStage.of(ems, StageKind.FIT_EMS, List.of(train),
                        new StageParams.Ems(w, spec.classLabel(), train, spec.ems().source(),
                                fromTeacher ? s.fitRows() : spec.ems().samples(), EMS_DATA_FIRST_SEED,
                                spec.ems().lMethod(), Math.max(spec.batch(), 256))));
                v3 = g + "validate-" + MethodId.DPMSOLVER_V3.id();
                stages.add(PlannedStage.of(v3, StageKind.VALIDATE, List.of(ems, train, held, baseline),
                        new StageParams.V3(eval, ems, baseline)));
                publishDeps.add(v3);
                if (spec.learnsTimesteps()) {
                    v3Timesteps = g + "timesteps-" + MethodId.DPMSOLVER_V3.id();
                    stages.add(PlannedStage.of(v3Timesteps, StageKind.TIMESTEPS_V3,
                            List.of(ems, train, held, baseline, v3), new StageParams.V3Timesteps(eval,
                                    s.coefficientFitRows(), ems, v3, baseline, spec.timesteps())));
                    publishDeps.add(v3Timesteps);
                }
            }
            String consistency = null;
            if (spec.wantsConsistency()) {
                consistency = g + "fit-" + MethodId.CONSISTENCY_SOLVER.id();
                stages.add(PlannedStage.of(consistency, StageKind.TRAIN_CONSISTENCY, List.of(train, held, baseline),
                        new StageParams.Consistency(eval, spec.consistency(), baseline, null, null,
                                spec.consistency().stageTrainer(), null, null, null)));
                publishDeps.add(consistency);
            }
            String consistencyTimesteps = null;
            if (spec.wantsConsistency() && spec.learnsTimesteps()) {
                // on the grids the timesteps stage learned (per NFE the lowest selection error among them)
                consistencyTimesteps = g + "fit-" + MethodId.CONSISTENCY_SOLVER.id() + StageOutputs.TIMESTEPS_SUFFIX;
                String ts = g + "timesteps";
                stages.add(PlannedStage.of(consistencyTimesteps, StageKind.TRAIN_CONSISTENCY,
                        List.of(train, held, baseline, ts), new StageParams.Consistency(eval, spec.consistency(),
                                baseline, null, null, spec.consistency().stageTrainer(), null, null, null, ts, null)));
                publishDeps.add(consistencyTimesteps);
            }
            StageParams.Group group = new StageParams.Group(w, baseline, fits, v3, consistency, v3Timesteps,
                    consistencyTimesteps);
            groups.add(group);
            if (images && spec.sampleGrids().seeds() > 0) {
                List<String> deps = new ArrayList<>(List.of(held, baseline));
                deps.addAll(fits);
                if (v3 != null) {
                    deps.add(v3);
                }
                if (v3Timesteps != null) {
                    deps.add(v3Timesteps);
                }
                stages.add(PlannedStage.of(g + StageKind.SAMPLE_GRIDS.id(), StageKind.SAMPLE_GRIDS, deps,
                        new StageParams.Grids(group, spec.classLabel(), held, spec.sampleGrids().seeds(),
                                spec.batch())));
            }
        }
        stages.add(PlannedStage.of(StageKind.PUBLISH.id(), StageKind.PUBLISH, publishDeps,
                new StageParams.Publish(groups, spec.teacher(), s)));
        return List.copyOf(stages);
    }

    /** Adds the shard stages and the merge stage of one split; returns the merge stage's name. */
    private static String teacher(List<PlannedStage> stages, TuningJobSpec spec, double w, String prefix, String split,
                                  long first, int count, int recordEvery) {
        TuningJobSpec.Teacher t = spec.teacher();
        int size = spec.seeds().shardSize();
        int shards = (count + size - 1) / size;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            int n = Math.min(size, count - i * size);
            String name = prefix + "teacher-" + split + "-" + String.format(Locale.ROOT, shards > 1000 ? "%04d" : "%03d", i);
            stages.add(PlannedStage.of(name, StageKind.TEACHER, List.of(), new StageParams.Teacher(
                    w, spec.classLabel(), split, first + (long) i * size, n, n, t.steps(), recordEvery, t.tolerance(),
                    i == 0 ? t.checkSeeds() : 0, t.dtype())));
            names.add(name);
        }
        String merge = prefix + "teacher-" + split;
        stages.add(PlannedStage.of(merge, StageKind.TEACHER_MERGE, names, new StageParams.Merge(
                new StageParams.Teacher(w, spec.classLabel(), split, first, count, size, t.steps(), recordEvery,
                        t.tolerance(), t.checkSeeds(), t.dtype()), names)));
        return merge;
    }

    /** {@code g7.5}, {@code g1}: the guidance scale in stage names. */
    public static String guidanceLabel(double w) {
        return "g" + BigDecimal.valueOf(w).stripTrailingZeros().toPlainString();
    }
}
