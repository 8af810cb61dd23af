package io.solvertune.tuning.job;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.teacher.TeacherSettings;
import java.util.List;

/**
 * The parameters of each stage kind, as stored in {@link PlannedStage#params()}: self-contained (a stage needs
 * nothing of the job spec but these and its dependencies' outputs), and the basis of the stage's checkpoint key.
 */
final class StageParams {
    private StageParams() {
    }

    static JsonNode tree(Object params) {
        return Json.MAPPER.valueToTree(params);
    }

    static <T> T read(JsonNode params, Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(params, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("stage params: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A teacher solve over seeds {@code firstSeed ..} (a shard, or the whole split for the merge).
     *
     * @param split     train | heldout
     * @param shardSize seeds per solve batch (a shard stage: its own count, one batch)
     * @param checkSeeds seeds of the half-step check (only the first shard of a split runs it)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Teacher(double guidance, Integer classLabel, String split, long firstSeed, int count, int shardSize,
                   int steps, int recordEvery, double tolerance, int checkSeeds, Dtype dtype, Solve solve) {

        /** The pipeline's teacher: DPM-Solver++ 3M on a logSNR grid over the schedule's time range. */
        Teacher(double guidance, Integer classLabel, String split, long firstSeed, int count, int shardSize,
                int steps, int recordEvery, double tolerance, int checkSeeds, Dtype dtype) {
            this(guidance, classLabel, split, firstSeed, count, shardSize, steps, recordEvery, tolerance, checkSeeds,
                    dtype, null);
        }

        /** DPM-Solver++ 3M on a logSNR grid, the schedule's time range, as the benchmark scripts (unless solve). */
        TeacherSettings settings(Dtype modelDtype) {
            Solve s = solve != null ? solve : Solve.PIPELINE;
            return new TeacherSettings(s.solver(), s.spacing(), steps, s.tStart(), s.tEnd(), recordEvery,
                    s.recordModelOutput(), shardSize, (dtype != null ? dtype : modelDtype).id(), tolerance,
                    checkSeeds);
        }
    }

    /**
     * How a teacher solves when not as the pipeline ({@link #PIPELINE}): the {@code teacher} command's options.
     *
     * @param tStart null: the schedule's
     * @param tEnd   null: the schedule's
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Solve(SolverSpec solver, TimestepSpacing spacing, Double tStart, Double tEnd, boolean recordModelOutput) {
        static final Solve PIPELINE = new Solve(DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(), null,
                null, false);
    }

    /** Assembles the shard stages (in order) of one split into one trajectory set. */
    record Merge(Teacher teacher, List<String> shards) {
    }

    /**
     * Rows and stages every evaluation stage of one guidance scale works from: held-out rows
     * {@code [heldOutFrom, heldOutTo)} of the held-out set (both null: all of it; the {@code learn-timesteps}
     * command's {@code --heldout-rows}, null for a job, so a job's parameters and checkpoint keys are unchanged).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Eval(double guidance, Integer classLabel, String train, String heldOut, int selectFrom, int selectTo,
                List<Integer> nfe, List<SpacingName> spacings, int batch, List<KnownBaseline> known,
                Integer heldOutFrom, Integer heldOutTo) {
        Eval {
            if ((heldOutFrom == null) != (heldOutTo == null)
                    || heldOutFrom != null && (heldOutFrom < 0 || heldOutTo <= heldOutFrom)) {
                throw new IllegalArgumentException("held-out rows: expected 0 <= from < to, got " + heldOutFrom
                        + ".." + heldOutTo);
            }
        }

        Eval(double guidance, Integer classLabel, String train, String heldOut, int selectFrom, int selectTo,
             List<Integer> nfe, List<SpacingName> spacings, int batch, List<KnownBaseline> known) {
            this(guidance, classLabel, train, heldOut, selectFrom, selectTo, nfe, spacings, batch, known, null, null);
        }

        Eval(double guidance, Integer classLabel, String train, String heldOut, int selectFrom, int selectTo,
             List<Integer> nfe, List<SpacingName> spacings, int batch) {
            this(guidance, classLabel, train, heldOut, selectFrom, selectTo, nfe, spacings, batch, null);
        }

        int[] nfeArray() {
            return nfe.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /**
     * A best untuned baseline chosen earlier (the {@code fit} command's {@code --baseline}): the baseline stage
     * re-scores it instead of sweeping, and refuses it when its held-out MSE differs from {@code heldOutMse}.
     */
    record KnownBaseline(int nfe, io.solvertune.tuning.eval.Candidate candidate, double heldOutMse,
                         int candidatesTried) {
    }

    /**
     * Learned timesteps for the plain untuned solvers: per NFE the best untuned baseline's solver (and the next best
     * distinct untuned solvers), learned on training rows {@code [fitFrom, fitFrom + fitRows)} (fitFrom null: 0, a
     * job's; the {@code learn-timesteps} command's {@code --fit-rows}), chosen on the eval's select rows.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Timesteps(Eval eval, int fitRows, String baseline, TuningJobSpec.Timesteps settings, Integer fitFrom) {
        Timesteps(Eval eval, int fitRows, String baseline, TuningJobSpec.Timesteps settings) {
            this(eval, fitRows, baseline, settings, null);
        }

        /** The first fit row (null: 0). */
        int firstFitRow() {
            return fitFrom == null ? 0 : fitFrom;
        }
    }

    /**
     * A coefficient method: fitted on training rows {@code [fitFrom, fitFrom + fitRows)} (fitFrom null: 0), chosen on
     * the eval's select rows by {@code gainTest} (null: paired mean), DC-Solver with {@code dcBounds} (null: the
     * fitter's). With {@code timesteps}: fitted on learned grids ({@code <method>+timesteps}), reusing the grids the
     * {@code grids} stage (the guidance scale's {@code timesteps} stage) learned on the same rows.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Fit(Eval eval, MethodId method, int fitRows, String baseline, TuningJobSpec.Timesteps timesteps,
               String grids, Integer fitFrom, io.solvertune.tuning.fit.TunedMethods.GainTest gainTest,
               io.solvertune.tuning.fit.MethodCatalog.DcOptions dcBounds) {
        Fit(Eval eval, MethodId method, int fitRows, String baseline) {
            this(eval, method, fitRows, baseline, null, null, null, null, null);
        }

        Fit(Eval eval, MethodId method, int fitRows, String baseline, TuningJobSpec.Timesteps timesteps,
            String grids) {
            this(eval, method, fitRows, baseline, timesteps, grids, null, null, null);
        }
    }

    /**
     * DPM-Solver-v3 statistics on the training teacher's recorded grid ({@code train}: its stage; null only with
     * {@code options}, for statistics from data without a teacher set).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Ems(double guidance, Integer classLabel, String train, EmsSource source, int samples, long firstSeed,
               String lMethod, int batch, EmsOptions options) {
        Ems(double guidance, Integer classLabel, String train, EmsSource source, int samples, long firstSeed,
            String lMethod, int batch) {
            this(guidance, classLabel, train, source, samples, firstSeed, lMethod, batch, null);
        }
    }

    /**
     * What the {@code fit-ems} command may change of the statistics stage; a null field is the pipeline's choice.
     *
     * @param grid       K grid intervals (default: the teacher's recorded grid, or 120 without a teacher)
     * @param probes     Hutchinson probes per sample (default 1)
     * @param fdStep     lambda step of the central differences (default 1e-4 float64, 1e-2 float32)
     * @param smooth     moving-average half-width for l' (default 0)
     * @param dataPreset draw the data samples of source data from this preset's data (default: the model's)
     * @param tStart     start time of source data (default: the teacher's, or the schedule's)
     * @param tEnd       end time of source data (default: the teacher's, or the schedule's)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record EmsOptions(Integer grid, Integer probes, Double fdStep, Integer smooth, String dataPreset, Double tStart,
                      Double tEnd) {
    }

    /** DPM-Solver-v3 variants chosen and validated. */
    record V3(Eval eval, String ems, String baseline) {
    }

    /**
     * DPM-Solver-v3's learned grid: per NFE the snapped setting the {@code v3} stage chose on the selection rows is
     * the start, its times learned on training rows {@code [fitFrom, fitFrom + fitRows)} (fitFrom null: 0) off the {@code ems} stage's statistics grid,
     * scored on the selection rows and validated on the held-out seeds against the snapped v3 and the baseline.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record V3Timesteps(Eval eval, int fitRows, String ems, String v3, String baseline,
                       TuningJobSpec.Timesteps settings, Integer fitFrom) {
        V3Timesteps(Eval eval, int fitRows, String ems, String v3, String baseline,
                    TuningJobSpec.Timesteps settings) {
            this(eval, fitRows, ems, v3, baseline, settings, null);
        }

        /** The first fit row (null: 0). */
        int firstFitRow() {
            return fitFrom == null ? 0 : fitFrom;
        }
    }

    /**
     * ConsistencySolver: trained on training rows {@code [trainFrom, trainFrom + training.trainRows())} (trainFrom
     * null: 0), its inference mode chosen on the eval's select rows, validated on held-out seeds against its base and
     * the baseline stage's best untuned solver ({@code baselines}: several baseline stages, e.g. one per NFE, or null:
     * the one {@code baseline}). The fields after {@code baselines} are the {@code train-consistency} command's and
     * null for a job (left out of the JSON, so a job's parameters and checkpoint keys are unchanged), except
     * {@code trainer}, which a job sets from {@code consistency.trainer} when that is {@code direct}:
     * {@code trainer} an ablation instead of RL ({@code cmaesEvaluations}: CMA-ES's budget per NFE), {@code rho} the
     * Karras / power-time exponent of the spacing (null: 7), {@code reward} a classifier term of the RL reward.
     * On learned grids ({@code fit-consistency-solver+timesteps}): {@code timesteps} names the guidance scale's
     * {@code timesteps} stage whose grids it takes (a job's), or {@code grids} are given (the command's
     * {@code --grids}); both null: the training's spacing.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Consistency(Eval eval, ConsistencyTraining training, String baseline, List<String> baselines,
                       Integer trainFrom, io.solvertune.tuning.fit.consistency.ConsistencyAblations.Trainer trainer,
                       Integer cmaesEvaluations, Double rho, Reward reward, String timesteps,
                       List<ConsistencyGrid> grids) {
        Consistency(Eval eval, ConsistencyTraining training, String baseline, List<String> baselines,
                    Integer trainFrom, io.solvertune.tuning.fit.consistency.ConsistencyAblations.Trainer trainer,
                    Integer cmaesEvaluations, Double rho, Reward reward) {
            this(eval, training, baseline, baselines, trainFrom, trainer, cmaesEvaluations, rho, reward, null, null);
        }

        /** One baseline stage for every NFE (a job's). */
        Consistency(Eval eval, ConsistencyTraining training, String baseline) {
            this(eval, training, baseline, null, null, null, null, null, null);
        }

        /** Several baseline stages (the {@code fit} command's stage per NFE). */
        Consistency(Eval eval, ConsistencyTraining training, String baseline, List<String> baselines) {
            this(eval, training, baseline, baselines, null, null, null, null, null);
        }

        /**
         * The baseline stages whose picks the tables are compared with: {@code baselines} (the {@code fit} command's
         * stage per NFE) or the one {@code baseline}.
         */
        List<String> baselineStages() {
            return baselines != null ? baselines : List.of(baseline);
        }

        /** The first training row (null: 0). */
        int firstTrainRow() {
            return trainFrom == null ? 0 : trainFrom;
        }

        /** Whether it runs on learned / given grids instead of the training's spacing. */
        boolean onGrids() {
            return timesteps != null || grids != null;
        }

        /** The trainer (null: the training's, {@code consistency.trainer}; RL, the method, by default). */
        io.solvertune.tuning.fit.consistency.ConsistencyAblations.Trainer trainerOrRl() {
            return trainer != null ? trainer : training.trainer();
        }
    }

    /**
     * A classifier term of the RL reward (the {@code train-consistency} command's {@code --reward-classifier}): the
     * TorchScript file (absolute), its sha256 (in the checkpoint key, and checked when the stage loads it) and weight.
     */
    record Reward(String file, String sha256, double weight) {
    }

    /**
     * One guidance scale's result stages ({@code consistency}: the ConsistencySolver stage, or null;
     * {@code v3Timesteps}: DPM-Solver-v3's learned-grid stage, or null; {@code consistencyTimesteps}: ConsistencySolver
     * on learned grids, or null).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Group(double guidance, String baseline, List<String> fits, String v3, String consistency,
                 String v3Timesteps, String consistencyTimesteps) {
        Group(double guidance, String baseline, List<String> fits, String v3, String consistency) {
            this(guidance, baseline, fits, v3, consistency, null, null);
        }

        Group(double guidance, String baseline, List<String> fits, String v3, String consistency,
              String v3Timesteps) {
            this(guidance, baseline, fits, v3, consistency, v3Timesteps, null);
        }
    }

    /**
     * The sample grids of one guidance scale: the first {@code seeds} rows of the held-out teacher set, its final
     * states beside the runs of the group's best baselines and tuned results.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Grids(Group group, Integer classLabel, String heldOut, int seeds, int batch) {
    }


    /** The publish stage: every group, and the protocol for provenance. */
    record Publish(List<Group> groups, TuningJobSpec.Teacher teacher, TuningJobSpec.Seeds seeds) {
    }
}
