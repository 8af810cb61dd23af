package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Small plans of the pipeline's own stage kinds for the CLI's tuning commands: {@code teacher} is one
 * {@link StageKind#TEACHER} stage, {@code fit} is one {@link StageKind#BASELINE} stage per NFE and one
 * {@link StageKind#FIT} stage per (method, NFE). {@link LocalJobRunner} runs them as it runs a job, so a command's
 * checkpoints, resume and files are the stages' own. The commands only turn options into these plans and print the
 * stages' outputs.
 */
public final class CommandPlans {
    /** The name under which a fit plan depends on its training teacher set (a given output). */
    public static final String TRAIN = "train";
    /** The name under which a fit plan depends on its held-out teacher set (a given output). */
    public static final String HELD_OUT = "heldout";
    /** How a baseline stage's refusal of a known choice begins ({@link KnownBaseline}). */
    public static final String STORED_CHOICE = BaselineStage.STORED_CHOICE;

    private CommandPlans() {
    }

    /**
     * The class label a stage is given for conditioning {@code g} on a model with {@code numClasses} classes: the
     * stages use that label, else per-seed classes on a conditional model, else none; other conditioning (e.g.
     * unconditional sampling of a conditional model) is refused.
     */
    public static Integer classLabel(Guidance g, int numClasses) {
        if (g.classLabel() != null) {
            return g.classLabel();
        }
        Guidance staged = StageRuntime.guidance(numClasses, null, g.scale());
        if (!staged.equals(g)) {
            throw new IllegalArgumentException(numClasses > 0
                    ? "--class or --per-seed-class: the model is class-conditional (" + numClasses + " classes); "
                    + "give one class or per-seed classes"
                    : "--per-seed-class: the model has no classes");
        }
        return null;
    }

    /**
     * The {@code teacher} command: one teacher stage over {@code count} seeds from {@code firstSeed}, solved in
     * batches of {@code shardSize}, in the directory named {@code stage} (the command's {@code --out}, a stage of
     * the work directory that is its parent). Checks the settings now (errors name the option).
     *
     * @param solver  the teacher solver, or null: DPM-Solver++ 3M
     * @param spacing the teacher grid, or null: logSNR
     */
    public static List<PlannedStage> teacher(String stage, double guidance, Integer classLabel, long firstSeed,
                                             int count, int shardSize, int steps, int recordEvery, double tolerance,
                                             int checkSeeds, Dtype dtype, Dtype modelDtype, SolverSpec solver,
                                             TimestepSpacing spacing, Double tStart, Double tEnd,
                                             boolean recordModelOutput) {
        StageParams.Solve solve = new StageParams.Solve(solver != null ? solver : StageParams.Solve.PIPELINE.solver(),
                spacing != null ? spacing : StageParams.Solve.PIPELINE.spacing(), tStart, tEnd, recordModelOutput);
        if (Json.canonical(solve).equals(Json.canonical(StageParams.Solve.PIPELINE))) {
            solve = null;           // the pipeline's teacher: the same parameters as a job's
        }
        StageParams.Teacher p = new StageParams.Teacher(guidance, classLabel, "teacher", firstSeed, count, shardSize,
                steps, recordEvery, tolerance, checkSeeds, dtype, solve);
        p.settings(modelDtype);     // the settings' own checks ("teacher.steps: must be >= 1", ...)
        return List.of(PlannedStage.of(stage, StageKind.TEACHER, List.of(), p));
    }

    /**
     * A finished trajectory set given to a plan as the output of the stage it depends on (its directory absolute,
     * its sha256 in the dependants' checkpoint keys).
     */
    public static JsonNode given(TrajectorySet set, String split) {
        long[] seeds = set.seeds();
        return Json.MAPPER.valueToTree(new StageOutputs.TeacherSet(
                set.directory().toAbsolutePath().normalize().toString(), split, seeds[0], seeds.length,
                set.meta().sha256(), set.times().length, set.meta().accuracy()));
    }

    /**
     * A best untuned baseline chosen earlier: re-scored instead of swept, refused unless its held-out MSE is
     * {@code heldOutMse}.
     */
    public record KnownBaseline(int nfe, Candidate candidate, double heldOutMse, int candidatesTried) {
    }

    /**
     * What the {@code fit} command fits.
     *
     * @param fitFrom    first training row the coefficients are fitted on
     * @param fitRows    rows fitted on
     * @param selectFrom first training row the variant and the baseline are chosen on
     * @param selectTo   end (exclusive) of those rows
     * @param known      earlier baseline choices by NFE (none: swept)
     * @param consistency ConsistencySolver's training ({@link #consistencyTraining}) when {@code methods} holds
     *                   {@code consistency-solver}, else null
     */
    public record Fit(double guidance, Integer classLabel, int fitFrom, int fitRows, int selectFrom, int selectTo,
                      List<Integer> nfe, List<MethodId> methods, TunedMethods.GainTest gainTest,
                      MethodCatalog.DcOptions dcBounds, int batch, Map<Integer, KnownBaseline> known,
                      ConsistencyTraining consistency) {
        /** Coefficient methods only. */
        public Fit(double guidance, Integer classLabel, int fitFrom, int fitRows, int selectFrom, int selectTo,
                   List<Integer> nfe, List<MethodId> methods, TunedMethods.GainTest gainTest,
                   MethodCatalog.DcOptions dcBounds, int batch, Map<Integer, KnownBaseline> known) {
            this(guidance, classLabel, fitFrom, fitRows, selectFrom, selectTo, nfe, methods, gainTest, dcBounds, batch,
                    known, null);
        }
    }

    /** The stage that trains ConsistencySolver in a {@code fit} plan (one for every NFE). */
    public static final String CONSISTENCY_STAGE = "fit-" + TuningJobSpec.CONSISTENCY_SOLVER;

    /**
     * ConsistencySolver's training for the {@code fit} command from a job spec's {@code consistency} object (null or
     * empty: the defaults), checked as a job's is; errors name the field ({@code consistency.iterations: ...}).
     *
     * @param nfe     the NFEs the network must serve
     * @param fitRows training rows available to it ({@code trainRows} defaults to them, at most them)
     */
    public static ConsistencyTraining consistencyTraining(JsonNode consistency, List<Integer> nfe, int fitRows) {
        TuningJobSpec.Errors err = new TuningJobSpec.Errors();
        TuningJobSpec.Obj root = new TuningJobSpec.Obj(Json.MAPPER.createObjectNode().set("consistency",
                consistency == null ? Json.MAPPER.createObjectNode() : consistency), "", err);
        ConsistencyTraining t = ConsistencyTraining.parse(root.object("consistency"), nfe,
                TuningJobSpec.ALL_SPACINGS, fitRows, fitRows);
        if (!err.isEmpty()) {
            throw new IllegalArgumentException(err.exception().getMessage());
        }
        return t;
    }

    /** The stage that chooses the best untuned baseline at {@code nfe}. */
    public static String baselineStage(int nfe) {
        return String.format(Locale.ROOT, "baseline-nfe%d", nfe);
    }

    /** The stage that fits {@code method} at {@code nfe}. */
    public static String fitStage(MethodId method, int nfe) {
        return String.format(Locale.ROOT, "fit-%s-nfe%d", method.id(), nfe);
    }

    /**
     * The {@code fit} command: per NFE a baseline stage, then per method and NFE a fit stage, each depending on the
     * given {@link #TRAIN} and {@link #HELD_OUT} sets. One stage per (method, NFE), so every finished pair is
     * checkpointed on its own and a rerun (or another NFE list) reuses it.
     */
    public static List<PlannedStage> fit(Fit f) {
        List<PlannedStage> plan = new ArrayList<>();
        for (int nfe : f.nfe()) {
            KnownBaseline k = f.known() == null ? null : f.known().get(nfe);
            StageParams.Eval eval = eval(f, nfe, k == null ? null : List.of(new StageParams.KnownBaseline(k.nfe(),
                    k.candidate(), k.heldOutMse(), k.candidatesTried())));
            plan.add(PlannedStage.of(baselineStage(nfe), StageKind.BASELINE, List.of(TRAIN, HELD_OUT), eval));
        }
        for (MethodId m : f.methods()) {
            if (m == MethodId.CONSISTENCY_SOLVER) {
                continue;
            }
            MethodCatalog.method(m);
            for (int nfe : f.nfe()) {
                boolean defaultBounds = f.dcBounds() == null || f.dcBounds().equals(MethodCatalog.DcOptions.DEFAULT)
                        || m != MethodId.DC && m != MethodId.DC_FINAL;
                plan.add(PlannedStage.of(fitStage(m, nfe), StageKind.FIT, List.of(TRAIN, HELD_OUT,
                        baselineStage(nfe)), new StageParams.Fit(eval(f, nfe, null), m, f.fitRows(), baselineStage(nfe),
                        null, null, f.fitFrom() == 0 ? null : f.fitFrom(),
                        f.gainTest() == TunedMethods.GainTest.PAIRED_MEAN ? null : f.gainTest(),
                        defaultBounds ? null : f.dcBounds())));
            }
        }
        if (f.methods().contains(MethodId.CONSISTENCY_SOLVER)) {
            plan.add(consistency(f));
        }
        return List.copyOf(plan);
    }

    /**
     * ConsistencySolver in a fit plan: one training stage for every NFE (one network serves them), trained on
     * training rows {@code [0, trainRows)}, compared with each NFE's baseline stage.
     */
    private static PlannedStage consistency(Fit f) {
        if (f.consistency() == null) {
            throw new IllegalArgumentException("--method: " + TuningJobSpec.CONSISTENCY_SOLVER + " needs its training "
                    + "settings (CommandPlans.consistencyTraining)");
        }
        if (f.fitFrom() != 0) {
            throw new IllegalArgumentException("--fit-rows: " + TuningJobSpec.CONSISTENCY_SOLVER + " trains on the "
                    + "training rows from 0 (consistency.trainRows of them), not from " + f.fitFrom());
        }
        if (f.selectFrom() < f.consistency().trainRows()) {
            throw new IllegalArgumentException("--select: rows from " + f.selectFrom() + " overlap "
                    + TuningJobSpec.CONSISTENCY_SOLVER + "'s training rows 0.." + (f.consistency().trainRows() - 1));
        }
        List<String> deps = new ArrayList<>(List.of(TRAIN, HELD_OUT));
        List<String> baselines = f.nfe().stream().map(CommandPlans::baselineStage).toList();
        deps.addAll(baselines);
        StageParams.Eval eval = new StageParams.Eval(f.guidance(), f.classLabel(), TRAIN, HELD_OUT, f.selectFrom(),
                f.selectTo(), f.nfe(), TuningJobSpec.ALL_SPACINGS, f.batch(), null);
        return PlannedStage.of(CONSISTENCY_STAGE, StageKind.TRAIN_CONSISTENCY, deps,
                new StageParams.Consistency(eval, f.consistency(), baselines.get(0), baselines));
    }

    private static StageParams.Eval eval(Fit f, int nfe, List<StageParams.KnownBaseline> known) {
        return new StageParams.Eval(f.guidance(), f.classLabel(), TRAIN, HELD_OUT, f.selectFrom(), f.selectTo(),
                List.of(nfe), TuningJobSpec.ALL_SPACINGS, f.batch(), known);
    }

    /**
     * The {@code fit-ems} command: one statistics stage in the directory named {@code stage} (the command's
     * {@code --out}), on the given {@link #TRAIN} teacher set if {@code teacher}.
     *
     * @param lMethod vjp | fd | exact
     * @param grid    K, or null: the teacher's grid (120 without one)
     */
    public static List<PlannedStage> ems(String stage, double guidance, Integer classLabel, boolean teacher,
                                         EmsSource source, int samples, long firstSeed, String lMethod, int batch,
                                         Integer grid, int probes, Double fdStep, int smooth, String dataPreset,
                                         Double tStart, Double tEnd) {
        StageParams.EmsOptions o = new StageParams.EmsOptions(grid, probes == 1 ? null : probes, fdStep,
                smooth == 0 ? null : smooth, dataPreset, tStart, tEnd);
        boolean pipeline = Json.canonical(o).equals("{}") && teacher;
        return List.of(PlannedStage.of(stage, StageKind.FIT_EMS, teacher ? List.of(TRAIN) : List.of(),
                new StageParams.Ems(guidance, classLabel, teacher ? TRAIN : null, source, samples, firstSeed, lMethod,
                        batch, pipeline ? null : o)));
    }

    /** The stage that chooses the best untuned baselines of a {@code train-consistency} plan. */
    public static final String CONSISTENCY_BASELINE = "baseline";

    /**
     * What the {@code train-consistency} command trains.
     *
     * @param stage            the training stage's name (its directory under the command's {@code --out})
     * @param training         the trainer's settings, read as a job's {@code consistency} object
     *                         ({@link ConsistencyTraining#of})
     * @param trainFrom        first training row the policy is trained on ({@code training.trainRows()} rows)
     * @param selectFrom       first training row the inference mode and the baseline are chosen on
     * @param selectTo         end (exclusive) of those rows
     * @param known            earlier baseline choices by NFE (none: swept)
     * @param trainer          RL (the method) or an ablation
     * @param cmaesEvaluations CMA-ES's evaluations per NFE (only for that ablation)
     * @param rho              exponent of a Karras or power-time spacing
     * @param rewardClassifier a TorchScript classifier whose cosine term joins the RL reward, or null
     * @param grids            explicit (learned) grids per NFE to train and run on instead of the spacing, or null
     */
    public record Consistency(String stage, double guidance, Integer classLabel, ConsistencyTraining training,
                              int trainFrom, int selectFrom, int selectTo, List<Integer> nfe, int batch,
                              Map<Integer, KnownBaseline> known, ConsistencyAblations.Trainer trainer,
                              int cmaesEvaluations, double rho, Path rewardClassifier, double rewardWeight,
                              List<ConsistencyGrid> grids) {
        public Consistency(String stage, double guidance, Integer classLabel, ConsistencyTraining training,
                           int trainFrom, int selectFrom, int selectTo, List<Integer> nfe, int batch,
                           Map<Integer, KnownBaseline> known, ConsistencyAblations.Trainer trainer,
                           int cmaesEvaluations, double rho, Path rewardClassifier, double rewardWeight) {
            this(stage, guidance, classLabel, training, trainFrom, selectFrom, selectTo, nfe, batch, known, trainer,
                    cmaesEvaluations, rho, rewardClassifier, rewardWeight, null);
        }
    }

    /**
     * The {@code train-consistency} command: a baseline stage over its NFEs ({@link #CONSISTENCY_BASELINE}), then one
     * ConsistencySolver stage (trained, materialised per NFE, validated), both on the given {@link #TRAIN} and
     * {@link #HELD_OUT} sets. The training stage resumes from its trainer's checkpoint as a job's does. Checks the
     * settings now (errors name the option's field).
     */
    public static List<PlannedStage> consistency(Consistency c) throws IOException {
        if (c.rewardClassifier() != null && c.trainer() != ConsistencyAblations.Trainer.RL) {
            throw new IllegalArgumentException(ConsistencyStage.REWARD_ONLY_RL);
        }
        if (c.trainer() == ConsistencyAblations.Trainer.CMAES
                && (c.cmaesEvaluations() < 10 || c.cmaesEvaluations() > 100_000)) {
            throw new IllegalArgumentException("cmaesEvaluations: must be in [10, 100000], got "
                    + c.cmaesEvaluations());
        }
        if (c.grids() != null && c.trainer() == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("grids: the CMAES ablation runs on the training's spacing only (use "
                    + "the RL or DIRECT trainer on learned grids)");
        }
        if (!(c.rho() > 0 && c.rho() <= 100)) {
            throw new IllegalArgumentException("rho: must be in (0, 100], got " + c.rho());
        }
        StageParams.Reward reward = null;
        if (c.rewardClassifier() != null) {
            if (!(c.rewardWeight() > 0 && c.rewardWeight() <= 1000)) {
                throw new IllegalArgumentException("classifierWeight: must be in (0, 1000], got " + c.rewardWeight());
            }
            Path f = c.rewardClassifier().toAbsolutePath().normalize();
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("classifierReward: no such file " + f);
            }
            reward = new StageParams.Reward(f.toString(), io.solvertune.tuning.Hashing.sha256(f), c.rewardWeight());
        }
        c.training().settings(c.rho());     // the trainer's own checks of the spacing
        List<StageParams.KnownBaseline> known = c.known() == null || c.known().isEmpty() ? null
                : c.nfe().stream().map(n -> c.known().get(n)).filter(java.util.Objects::nonNull)
                        .map(k -> new StageParams.KnownBaseline(k.nfe(), k.candidate(), k.heldOutMse(),
                                k.candidatesTried())).toList();
        StageParams.Eval base = new StageParams.Eval(c.guidance(), c.classLabel(), TRAIN, HELD_OUT, c.selectFrom(),
                c.selectTo(), c.nfe(), TuningJobSpec.ALL_SPACINGS, c.batch(), known);
        StageParams.Eval eval = new StageParams.Eval(c.guidance(), c.classLabel(), TRAIN, HELD_OUT, c.selectFrom(),
                c.selectTo(), c.nfe(), TuningJobSpec.ALL_SPACINGS, c.batch());
        boolean rl = c.trainer() == ConsistencyAblations.Trainer.RL;
        return List.of(
                PlannedStage.of(CONSISTENCY_BASELINE, StageKind.BASELINE, List.of(TRAIN, HELD_OUT), base),
                PlannedStage.of(c.stage(), StageKind.TRAIN_CONSISTENCY, List.of(TRAIN, HELD_OUT, CONSISTENCY_BASELINE),
                        new StageParams.Consistency(eval, c.training(), CONSISTENCY_BASELINE, null,
                                c.trainFrom() == 0 ? null : c.trainFrom(), rl ? null : c.trainer(),
                                c.trainer() == ConsistencyAblations.Trainer.CMAES ? c.cmaesEvaluations() : null,
                                c.rho() == ConsistencyTraining.DEFAULT_RHO ? null : c.rho(), reward, null,
                                c.grids() == null ? null : List.copyOf(c.grids()))));
    }

    /** A ConsistencySolver stage's output. */
    public static StageOutputs.Consistency consistencyOutput(JsonNode output) throws IOException {
        return Json.MAPPER.treeToValue(output, StageOutputs.Consistency.class);
    }

    /**
     * What a ConsistencySolver stage wrote ({@code output}: its {@link StageOutputs.Consistency}): the training and
     * every NFE's validated table, as the command prints and summarises them.
     */
    public static ConsistencyRun consistencyRun(Path workDir, JsonNode output) throws IOException {
        ConsistencyStage.Summary s = ConsistencyStage.read(workDir.resolve(consistencyOutput(output).file()));
        List<ConsistencyRun.Table> tables = tables(s.results());
        List<ConsistencyRun.Table> refined = s.refined() == null ? null : tables(s.refined());
        List<ConsistencyRun> rounds = null;
        if (s.rounds() != null) {
            rounds = new ArrayList<>();
            for (ConsistencyRounds.Round r : s.rounds().subList(1, s.rounds().size())) {
                ConsistencyStage.Summary rs = ConsistencyStage.read(workDir.resolve(r.summary()));
                rounds.add(run(rs, tables(rs.results()), rs.refined() == null ? null : tables(rs.refined()), null,
                        null, null));
            }
        }
        return run(s, tables, refined, rounds, s.choices() == null ? null : s.choices().stream()
                .map(c -> new ConsistencyRun.Choice(c.nfe(), c.round(), c.chosen().id(), c.selectionMse(), c.file()))
                .toList(), s.rounded() == null ? null : tables(s.rounded()));
    }

    private static ConsistencyRun run(ConsistencyStage.Summary s, List<ConsistencyRun.Table> tables,
                                      List<ConsistencyRun.Table> refined, List<ConsistencyRun> rounds,
                                      List<ConsistencyRun.Choice> choices, List<ConsistencyRun.Table> rounded) {
        return new ConsistencyRun(s.trainer(), s.settings(), s.trainRows(), s.selectRows(), s.iterations(),
                s.cmaesCurve() != null ? s.cmaesCurve() : s.curve(), tables, s.failures(), s.selectEvery(),
                s.selectionCurve(), refined, s.refinements(), rounds, choices, rounded, s.rounds());
    }

    private static List<ConsistencyRun.Table> tables(List<ConsistencyStage.Result> results) {
        List<ConsistencyRun.Table> tables = new ArrayList<>();
        for (ConsistencyStage.Result r : results) {
            tables.add(new ConsistencyRun.Table(r.nfe(), r.file(), r.inference(), r.selection(),
                    r.heldOut().meanMse(), r.heldOut().stdErr(), r.median(), r.p99(), r.base().meanMse(),
                    r.base().stdErr(), r.vsBase(), r.baseline(), r.baselineScore().meanMse(),
                    r.baselineScore().stdErr(), r.baselineMedian(), r.baselineP99(), r.pairedDiffStdErr(),
                    r.vsBaseline(), r.selectedIteration(), r.prior() == null ? null : new ConsistencyRun.PriorRow(
                    r.prior().solver(), r.prior().heldOut().meanMse(), r.prior().heldOut().stdErr(),
                    r.prior().median(), r.prior().p99(), r.prior().pairedDiffStdErr(), r.prior().vsPrior())));
        }
        return tables;
    }

    /**
     * A ConsistencySolver stage's training and tables, for the command (see {@link #consistencyRun}); with grid
     * refinement also the refined tables ({@code refined}: a row's base is the table on its own grid) and every NFE's
     * refinement record ({@code refinements}), else null. With alternating rounds ({@code refineRounds} above 1)
     * also the runs of rounds 2, 3, ... ({@code rounds}), the choice per NFE ({@code choices}), the tables of choices
     * from a round of at least 2 ({@code rounded}) and the stage's round records ({@code roundRecords}), else null.
     */
    public record ConsistencyRun(String trainer, Map<String, Object> settings, int[] trainRows, int[] selectRows,
                                 int iterations, List<?> curve, List<Table> tables, List<String> failures,
                                 Integer selectEvery, List<?> selectionCurve, List<Table> refined,
                                 List<?> refinements, List<ConsistencyRun> rounds, List<Choice> choices,
                                 List<Table> rounded, List<?> roundRecords) {
        /**
         * One NFE's choice over the rounds: the round and kind ({@code table} | {@code refined}) of the table of
         * lowest selection-row MSE, and the file it is published as (relative to the work directory).
         */
        public record Choice(int nfe, int round, String chosen, double selectionMse, String file) {
        }

        /** One NFE's validated table (its file relative to the work directory). */
        public record Table(int nfe, String file, String inference, Map<String, Double> selection, double heldOutMse,
                            double heldOutStdErr, double median, double p99, double baseMse, double baseStdErr,
                            io.solvertune.tuning.fit.CoefficientSet.Verdict vsBase, String baseline,
                            double baselineMse, double baselineStdErr, double baselineMedian, double baselineP99,
                            double pairedDiffStdErr, io.solvertune.tuning.fit.CoefficientSet.Verdict vsBaseline,
                            Integer selectedIteration, PriorRow prior) {
        }

        /** With a multistep prior: the prior solver's held-out score and the table's paired verdict against it. */
        public record PriorRow(String solver, double heldOutMse, double heldOutStdErr, double median, double p99,
                               double pairedDiffStdErr, io.solvertune.tuning.fit.CoefficientSet.Verdict vsPrior) {
        }
    }

    /** A statistics stage's output. */
    public static StageOutputs.Ems emsOutput(JsonNode output) throws IOException {
        return Json.MAPPER.treeToValue(output, StageOutputs.Ems.class);
    }

    /** A baseline stage's choices (its {@code baseline.json}, {@code output}: its {@link StageOutputs.Baselines}). */
    public static List<BaselineSweep.Choice> baselines(Path workDir, JsonNode output) throws IOException {
        StageOutputs.Baselines b = Json.MAPPER.treeToValue(output, StageOutputs.Baselines.class);
        return Scores.readBaselines(workDir.resolve(b.file())).choices();
    }

    /** A fit stage's rows. */
    public static StageOutputs.Fit fitOutput(JsonNode output) throws IOException {
        return Json.MAPPER.treeToValue(output, StageOutputs.Fit.class);
    }

    /** The stage of a {@code learn-timesteps} plan that chooses the best untuned baselines at its NFEs. */
    public static final String TIMESTEPS_BASELINE = "baseline";
    /** The stage of a {@code learn-timesteps} plan that scores the best untuned baseline at the reference NFE. */
    public static final String TIMESTEPS_REFERENCE = "baseline-reference";
    /** The stage of a {@code learn-timesteps} plan that learns the grids. */
    public static final String TIMESTEPS_STAGE = io.solvertune.tuning.fit.timesteps.LearnedTimesteps.METHOD;
    /** The name under which a {@code learn-timesteps --v3} plan depends on its given statistics. */
    public static final String EMS = "ems";
    /** The stage of a {@code learn-timesteps --v3} plan that chooses the snapped DPM-Solver-v3 setting. */
    public static final String V3_SNAPPED = "validate-" + MethodId.DPMSOLVER_V3.id();
    /** The stage of a {@code learn-timesteps --v3} plan that learns DPM-Solver-v3's grid. */
    public static final String V3_LEARNED = "timesteps-" + MethodId.DPMSOLVER_V3.id();

    /** The stage that fits {@code method} on learned grids in a {@code learn-timesteps} plan. */
    public static String jointStage(MethodId method) {
        return "fit-" + method.id() + StageOutputs.TIMESTEPS_SUFFIX;
    }

    /**
     * What the {@code learn-timesteps} command learns.
     *
     * @param fitFrom      first training row the grids are learned on ({@code fitRows} rows)
     * @param selectFrom   first training row the baseline and the published grid are chosen on
     * @param selectTo     end (exclusive) of those rows
     * @param heldOutFrom  first held-out row validated on (null with {@code heldOutTo}: the whole held-out set)
     * @param heldOutTo    end (exclusive) of those rows
     * @param referenceNfe the NFE of the best untuned baseline every learned set is also compared with, or null
     * @param settings     CMA-ES and GITS settings, as a job's {@code timesteps} object
     * @param methods      coefficient methods fitted on learned grids ({@code <method>+timesteps})
     * @param v3           whether DPM-Solver-v3's grid is learned too (the statistics given as {@link #EMS})
     */
    public record Timesteps(double guidance, Integer classLabel, int fitFrom, int fitRows, int selectFrom,
                            int selectTo, Integer heldOutFrom, Integer heldOutTo, List<Integer> nfe,
                            Integer referenceNfe, TuningJobSpec.Timesteps settings, List<MethodId> methods,
                            boolean v3, int batch) {
    }

    /**
     * The {@code learn-timesteps} command: a baseline stage over its NFEs ({@link #TIMESTEPS_BASELINE}; with a
     * reference NFE not among them, one more for it, {@link #TIMESTEPS_REFERENCE}), the {@code learn-timesteps}
     * stage ({@link #TIMESTEPS_STAGE}), per method a fit stage on the learned grids ({@link #jointStage}) and, with
     * v3, the snapped DPM-Solver-v3 choice ({@link #V3_SNAPPED}) and its learned grid ({@link #V3_LEARNED}) on the
     * given statistics ({@link #EMS}); all on the given {@link #TRAIN} and {@link #HELD_OUT} sets, the job's stages
     * with the command's rows. Checks the settings now (errors name the setting).
     */
    public static List<PlannedStage> timesteps(Timesteps t) {
        TuningJobSpec.Timesteps s = t.settings();
        if (s.evaluations() < 1 || s.evaluations() > TuningJobSpec.Timesteps.MAX_EVALUATIONS) {
            throw new IllegalArgumentException("evaluations: must be in 1.." + TuningJobSpec.Timesteps.MAX_EVALUATIONS
                    + ", got " + s.evaluations());
        }
        if (s.variants() < 1 || s.variants() > TuningJobSpec.Timesteps.MAX_VARIANTS) {
            throw new IllegalArgumentException("variants: must be in 1.." + TuningJobSpec.Timesteps.MAX_VARIANTS
                    + ", got " + s.variants());
        }
        if (!(s.sigma() > 0 && s.sigma() <= TuningJobSpec.Timesteps.MAX_SIGMA)) {
            throw new IllegalArgumentException("sigma: must be in (0, " + TuningJobSpec.Timesteps.MAX_SIGMA
                    + "], got " + s.sigma());
        }
        if (s.gitsRows() < 1 || s.gitsRows() > t.fitRows()) {
            throw new IllegalArgumentException("gitsRows: must be in 1.." + t.fitRows() + " (the fit rows), got "
                    + s.gitsRows());
        }
        TimestepsStage.settings(s);     // the optimiser's and GITS's own checks
        Integer fitFrom = t.fitFrom() == 0 ? null : t.fitFrom();
        StageParams.Eval eval = new StageParams.Eval(t.guidance(), t.classLabel(), TRAIN, HELD_OUT, t.selectFrom(),
                t.selectTo(), t.nfe(), TuningJobSpec.ALL_SPACINGS, t.batch(), null, t.heldOutFrom(), t.heldOutTo());
        List<String> sets = List.of(TRAIN, HELD_OUT);
        List<PlannedStage> plan = new ArrayList<>();
        plan.add(PlannedStage.of(TIMESTEPS_BASELINE, StageKind.BASELINE, sets, eval));
        if (t.referenceNfe() != null && !t.nfe().contains(t.referenceNfe())) {
            plan.add(PlannedStage.of(TIMESTEPS_REFERENCE, StageKind.BASELINE, sets, new StageParams.Eval(t.guidance(),
                    t.classLabel(), TRAIN, HELD_OUT, t.selectFrom(), t.selectTo(), List.of(t.referenceNfe()),
                    TuningJobSpec.ALL_SPACINGS, t.batch(), null, t.heldOutFrom(), t.heldOutTo())));
        }
        List<String> deps = List.of(TRAIN, HELD_OUT, TIMESTEPS_BASELINE);
        plan.add(PlannedStage.of(TIMESTEPS_STAGE, StageKind.TIMESTEPS, deps, new StageParams.Timesteps(eval,
                t.fitRows(), TIMESTEPS_BASELINE, s, fitFrom)));
        for (MethodId m : t.methods()) {
            if (m.kind() != MethodId.Kind.COEFFICIENTS) {
                throw new IllegalArgumentException("--method: " + m.id() + " is no coefficient method; only those "
                        + "are fitted on learned grids");
            }
            plan.add(PlannedStage.of(jointStage(m), StageKind.FIT, List.of(TRAIN, HELD_OUT, TIMESTEPS_BASELINE,
                    TIMESTEPS_STAGE), new StageParams.Fit(eval, m, t.fitRows(), TIMESTEPS_BASELINE, s, TIMESTEPS_STAGE,
                    fitFrom, null, null)));
        }
        if (t.v3()) {
            plan.add(PlannedStage.of(V3_SNAPPED, StageKind.VALIDATE, List.of(EMS, TRAIN, HELD_OUT, TIMESTEPS_BASELINE),
                    new StageParams.V3(eval, EMS, TIMESTEPS_BASELINE)));
            plan.add(PlannedStage.of(V3_LEARNED, StageKind.TIMESTEPS_V3, List.of(EMS, TRAIN, HELD_OUT,
                    TIMESTEPS_BASELINE, V3_SNAPPED), new StageParams.V3Timesteps(eval, t.fitRows(), EMS, V3_SNAPPED,
                    TIMESTEPS_BASELINE, s, fitFrom)));
        }
        return List.copyOf(plan);
    }

    /**
     * DPM-Solver-v3 statistics in {@code dir} (l.npz, sb.npz, ems.json) given to a plan as the output of the
     * statistics stage it depends on (the directory absolute, the files' sha256 in the dependants' checkpoint keys and
     * checked when a stage reads them).
     */
    public static JsonNode givenEms(Path dir) throws IOException {
        io.solvertune.numerics.coeff.EmpiricalModelStatistics ems = io.solvertune.numerics.coeff.EmsNpz.read(dir);
        Map<String, String> sha = new java.util.TreeMap<>();
        for (String f : List.of(io.solvertune.numerics.coeff.EmsNpz.L_FILE, io.solvertune.numerics.coeff.EmsNpz.SB_FILE,
                io.solvertune.numerics.coeff.EmsNpz.METADATA_FILE)) {
            Path file = dir.resolve(f);
            if (Files.isRegularFile(file)) {
                sha.put(f, io.solvertune.tuning.Hashing.sha256(file));
            }
        }
        return Json.MAPPER.valueToTree(new StageOutputs.Ems(dir.toAbsolutePath().normalize().toString(),
                ems.gridSteps(), "given", ems.sampleSize(), "given", sha));
    }

    /**
     * One NFE's set on learned timesteps with the scores a paired verdict needs (per seed): on the selection rows,
     * held out, its own base and the best untuned baseline held out; {@code selection} every candidate's selection
     * error (null where the stage does not record them).
     */
    public record Scored(int nfe, String config, io.solvertune.tuning.eval.Evaluation.Result select,
                         io.solvertune.tuning.eval.Evaluation.Result heldOut,
                         io.solvertune.tuning.eval.Evaluation.Result base,
                         io.solvertune.tuning.eval.Evaluation.Result baseline,
                         List<io.solvertune.tuning.eval.Evaluation.Result> selection) {
    }

    /** The per-seed scores of a stage on learned grids ({@code output}: its {@link StageOutputs.Fit}). */
    public static List<Scored> scores(Path workDir, JsonNode output) throws IOException {
        StageOutputs.Fit f = fitOutput(output);
        if (f.scores() == null) {
            throw new IOException(f.method() + ": the stage recorded no per-seed scores");
        }
        List<Scored> out = new ArrayList<>();
        for (Scores.SetScores x : Scores.readScores(workDir.resolve(f.scores()))) {
            out.add(new Scored(x.nfe(), x.config(), x.select().result(), x.heldOut().result(), x.base().result(),
                    x.baseline().result(), x.selection() == null ? null
                            : x.selection().stream().map(Scores.Score::result).toList()));
        }
        return out;
    }

    /** The learned grids' optimisations a stage recorded ({@code output}: any output with a {@code grids} file). */
    public static List<io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid> grids(Path workDir, JsonNode output)
            throws IOException {
        String g = output.path("grids").asText(null);
        return g == null ? List.of() : TimestepsStage.readGrids(workDir.resolve(g));
    }

    /**
     * One NFE's DPM-Solver-v3 pick: the snapped setting or its learned grid, its scores (per seed) and its config
     * values (statistics, solver settings, times; positions snapped or interpolated).
     */
    public record V3Pick(int nfe, String name, double[] times, io.solvertune.tuning.eval.Evaluation.Result select,
                         io.solvertune.tuning.eval.Evaluation.Result heldOut,
                         io.solvertune.tuning.eval.Evaluation.Result base, boolean publishable,
                         io.solvertune.tuning.publish.ConfigValues values) {
    }

    /**
     * The picks of a {@link #V3_SNAPPED} or {@link #V3_LEARNED} stage ({@code output}: its output) with the
     * statistics in {@code emsDir}.
     */
    public static List<V3Pick> v3Picks(Path workDir, JsonNode output, Path emsDir, boolean learned)
            throws IOException {
        String file = output.path("file").asText();
        io.solvertune.numerics.coeff.EmpiricalModelStatistics ems = io.solvertune.numerics.coeff.EmsNpz.read(emsDir);
        List<V3Pick> out = new ArrayList<>();
        for (DpmSolverV3Stage.Pick pk : DpmSolverV3Stage.read(workDir.resolve(file)).picks()) {
            var spec = new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, pk.order(), pk.pPseudo(),
                    pk.useCorrector(), pk.cPseudo(), false, false, null).withPositions(learned
                    ? io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.INTERPOLATED
                    : io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.SNAPPED);
            out.add(new V3Pick(pk.nfe(), pk.name(), pk.times(), pk.select().result(), pk.heldOut().result(),
                    pk.base().result(), pk.publishable(), io.solvertune.tuning.publish.ConfigValues.ofDpmSolverV3(
                            spec, pk.spacing(), pk.times().length - 1, true, false, pk.times())));
        }
        return out;
    }
}
