package io.solvertune.tuning.job;

import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.consistency.MultistepPrior;
import io.solvertune.tuning.fit.consistency.CoefficientPrior;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.fit.consistency.ConsistencyTrainer;
import io.solvertune.tuning.fit.consistency.Policy;
import io.solvertune.tuning.fit.consistency.TrainerSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The job spec's {@code consistency} object: how ConsistencySolver ({@code consistency-solver}) is trained, with the
 * names and bounds of {@link TrainerSettings} (the {@code train-consistency} options), plus which training rows it
 * sees and how the trained policy becomes a table. Every field is optional; every bad value is an error naming
 * {@code consistency.<field>}.
 *
 * @param form            {@code noise} (the reference) | {@code data} | {@code flow_velocity}
 * @param order           outputs combined at most, 2..4 (default 4)
 * @param policy          {@code gaussian} (default) | {@code categorical} (the reference's bins)
 * @param bins            categorical: values per coefficient, 2..401 (default 11)
 * @param initStd         Gaussian: initial standard deviation, (0, 10] (default 0.1)
 * @param hidden          width of the two hidden layers, 1..1024 (default 64)
 * @param nfeInput        the network also sees NFE / maxNfe (default false)
 * @param minNfe          smallest NFE drawn per iteration, 2..50 (default min(4, the job's smallest NFE))
 * @param maxNfe          largest NFE drawn per iteration, minNfe..50 (default max(10, the job's largest NFE)); every
 *                        job NFE of at least 2 must lie in [minNfe, maxNfe]
 * @param iterations      training iterations, 1..100,000 (default 200)
 * @param noises          training noises per iteration, 1..64 and at most {@code trainRows} (default 4)
 * @param group           rollouts per noise (the GRPO group), 2..256 (default 16)
 * @param ppoEpochs       policy updates per batch, 1..16 (default 1)
 * @param clip            PPO clip range, (0, 1) (default 0.2)
 * @param entropy         entropy bonus, [0, 10] (default 0.01)
 * @param learningRate    Adam learning rate, (0, 1] (default 3e-3)
 * @param maxGradNorm     gradient-norm clip, (0, 1e6] (default 1)
 * @param advantageScale  factor on the group-normalised advantages, (0, 1000] (default 10)
 * @param seed            seed of the initialisation, noise choice and action draws, >= 0 (default 0)
 * @param spacing         the grid the solver is trained and run on: one of the job's spacings (default
 *                        {@code karras} when the job has it, BENCHMARKS.md: better than the reference's uniform grid,
 *                        else the job's first)
 * @param inference       {@code auto} (default: a categorical policy's expected-value and argmax tables are scored
 *                        on the selection rows and the lower kept; the Gaussian's are equal) | {@code expected} |
 *                        {@code argmax}
 * @param checkpointEvery iterations between training checkpoints, 1..100,000 (default 10)
 * @param trainRows       training rows {@code [0, trainRows)} the policy is trained on, 1..fitRows (default
 *                        {@code seeds.coefficientFitRows})
 * @param selectEvery     checkpoint selection: every {@code selectEvery} iterations (and after the last) the policy's
 *                        table at every job NFE is scored on the selection rows (training rows the reward never sees)
 *                        and each NFE publishes its lowest-scoring snapshot; 0 = off (the last iteration is
 *                        published, as before this field existed), else 1..100,000 with at most
 *                        {@value io.solvertune.tuning.fit.consistency.ConsistencyTrainer#MAX_SNAPSHOTS} snapshots
 *                        (default {@code ceil(iterations / }{@value #DEFAULT_SNAPSHOTS}{@code )}); left out of the
 *                        stage parameters' JSON when 0, so stored stages of jobs before it existed keep their keys
 * @param prior           what the coefficients start from: {@code none} (default, the reference: the zero head is the
 *                        form's first-order step, DDIM) | {@code multistep} (the form's multistep DPM-Solver++ (data) /
 *                        DPM-Solver (noise) of {@code priorOrder}: coefficients = prior + head; Gaussian policy, data or
 *                        noise form); left out of the JSON when {@code none}
 * @param priorOrder      with {@code prior multistep}: the multistep solver's order, 2 or 3 and at most {@code order}
 *                        (default {@value io.solvertune.tuning.fit.consistency.CoefficientPrior#DEFAULT_ORDER}); 0
 *                        (absent) without a prior
 * @param refineGrid      after training, optimise each table's grid for it with its coefficients fixed (CMA-ES on the
 *                        fit rows from the table's own grid, kept where it beats the table on the selection rows) and
 *                        publish the refined table as its own candidate ({@code consistency-solver+grid}); default
 *                        false, left out of the JSON when false (stored stages keep their keys)
 * @param refineEvaluations with {@code refineGrid}: loss evaluations per NFE, 1..{@value
 *                        io.solvertune.tuning.fit.consistency.GridRefinement.Settings#MAX_EVALUATIONS} (default {@value
 *                        io.solvertune.tuning.fit.consistency.GridRefinement.Settings#DEFAULT_EVALUATIONS}); 0 without
 * @param refineRounds    with {@code refineGrid}: alternating rounds, 1..{@value #MAX_REFINE_ROUNDS} (default 1: train,
 *                        then refine); round k >= 2 trains a fresh network on round k-1's final grids (as
 *                        {@code grids} would) and refines its tables again, until a round keeps no refined grid;
 *                        0 without refineGrid; left out of the JSON when at most 1 (stored stages keep their keys)
 * @param trainer         {@code rl} (default, the method: GRPO/PPO on the sampled rollouts) | {@code direct} (the
 *                        deterministic coefficients' final-state MSE differentiated through the unrolled solver and
 *                        the model by DJL autograd: minimises the batch-mean MSE; models differentiable in DJL only,
 *                        not TorchScript); {@code cmaes} stays a {@code train-consistency} ablation; left out of the
 *                        JSON when {@code rl} (stored stages keep their keys)
 */
public record ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                                  double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                                  int noises, int group, int ppoEpochs, double clip, double entropy,
                                  double learningRate, double maxGradNorm, double advantageScale, long seed,
                                  SpacingName spacing, Inference inference, int checkpointEvery, int trainRows,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
                                  int selectEvery,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          value = com.fasterxml.jackson.annotation.JsonInclude.Include.CUSTOM,
                                          valueFilter = NoPrior.class)
                                  CoefficientPrior.Kind prior,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
                                  int priorOrder,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
                                  boolean refineGrid,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
                                  int refineEvaluations,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          value = com.fasterxml.jackson.annotation.JsonInclude.Include.CUSTOM,
                                          valueFilter = OneRound.class)
                                  int refineRounds,
                                  @com.fasterxml.jackson.annotation.JsonInclude(
                                          value = com.fasterxml.jackson.annotation.JsonInclude.Include.CUSTOM,
                                          valueFilter = RlTrainer.class)
                                  ConsistencyAblations.Trainer trainer) {

    /** Most alternating rounds ({@code refineRounds}). */
    public static final int MAX_REFINE_ROUNDS = 4;

    /** Leaves {@code refineRounds} of at most 1 out of the JSON: stages of one round keep their keys. */
    static final class OneRound {
        @Override
        public boolean equals(Object o) {
            return o == null || o instanceof Integer i && i <= 1;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    /** Leaves {@code trainer: rl} (and a missing trainer) out of the JSON: stored stages before it existed keep their keys. */
    static final class RlTrainer {
        @Override
        public boolean equals(Object o) {
            return o == null || o == ConsistencyAblations.Trainer.RL;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    /** Why {@code trainer: direct} is refused for a TorchScript model (the job spec's and the stage's message). */
    public static final String DIRECT_NEEDS_DJL = "direct needs a model differentiable in DJL (analytic mixture or "
            + "empirical denoiser); a TorchScript network gives no input gradient here — use rl";

    /** The trainers a job may ask for ({@code cmaes} is the {@code train-consistency} command's ablation only). */
    static final ConsistencyAblations.Trainer[] JOB_TRAINERS = {ConsistencyAblations.Trainer.RL,
        ConsistencyAblations.Trainer.DIRECT};

    /** Leaves {@code prior: none} (and a missing prior) out of the JSON: stored stages before it existed keep their keys. */
    static final class NoPrior {
        @Override
        public boolean equals(Object o) {
            return o == null || o == CoefficientPrior.Kind.NONE;
        }

        @Override
        public int hashCode() {
            return 0;
        }
    }

    public ConsistencyTraining {
        if (prior == null) {
            prior = CoefficientPrior.Kind.NONE; // stored stages of jobs before the field existed
        }
        if (!refineGrid) {
            refineEvaluations = 0;
        }
        refineRounds = refineGrid ? Math.max(1, refineRounds) : 0;
        if (trainer == null) {
            trainer = ConsistencyAblations.Trainer.RL; // stored stages of jobs before the field existed
        }
    }

    /** A spec trained by RL (as before {@code trainer} existed). */
    public ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                               double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                               int noises, int group, int ppoEpochs, double clip, double entropy, double learningRate,
                               double maxGradNorm, double advantageScale, long seed, SpacingName spacing,
                               Inference inference, int checkpointEvery, int trainRows, int selectEvery,
                               CoefficientPrior.Kind prior, int priorOrder, boolean refineGrid, int refineEvaluations,
                               int refineRounds) {
        this(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations, noises, group,
                ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery, trainRows, selectEvery, prior, priorOrder, refineGrid, refineEvaluations,
                refineRounds, ConsistencyAblations.Trainer.RL);
    }

    /** The trainer as the stage parameters carry it: null for RL (the method), else the trainer. */
    ConsistencyAblations.Trainer stageTrainer() {
        return trainer == ConsistencyAblations.Trainer.RL ? null : trainer;
    }

    /** A spec of one round at most (as before {@code refineRounds} existed). */
    public ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                               double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                               int noises, int group, int ppoEpochs, double clip, double entropy, double learningRate,
                               double maxGradNorm, double advantageScale, long seed, SpacingName spacing,
                               Inference inference, int checkpointEvery, int trainRows, int selectEvery,
                               CoefficientPrior.Kind prior, int priorOrder, boolean refineGrid, int refineEvaluations) {
        this(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations, noises, group,
                ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery, trainRows, selectEvery, prior, priorOrder, refineGrid, refineEvaluations, 0);
    }

    /** The same training with {@code rounds} alternating rounds (1: one round, as before the field existed). */
    ConsistencyTraining withRefineRounds(int rounds) {
        return new ConsistencyTraining(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe,
                iterations, noises, group, ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed,
                spacing, inference, checkpointEvery, trainRows, selectEvery, prior, priorOrder, refineGrid,
                refineEvaluations, rounds, trainer);
    }

    /** A spec without grid refinement (as before {@code refineGrid} existed). */
    public ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                               double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                               int noises, int group, int ppoEpochs, double clip, double entropy, double learningRate,
                               double maxGradNorm, double advantageScale, long seed, SpacingName spacing,
                               Inference inference, int checkpointEvery, int trainRows, int selectEvery,
                               CoefficientPrior.Kind prior, int priorOrder) {
        this(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations, noises, group,
                ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery, trainRows, selectEvery, prior, priorOrder, false, 0);
    }

    /** The grid refinement's settings, or null when {@code refineGrid} is off. */
    public io.solvertune.tuning.fit.consistency.GridRefinement.Settings refinement() {
        return refineGrid ? io.solvertune.tuning.fit.consistency.GridRefinement.Settings.of(refineEvaluations) : null;
    }

    /** A spec without a prior (as before {@code prior} existed). */
    public ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                               double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                               int noises, int group, int ppoEpochs, double clip, double entropy, double learningRate,
                               double maxGradNorm, double advantageScale, long seed, SpacingName spacing, Inference inference,
                               int checkpointEvery, int trainRows, int selectEvery) {
        this(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations, noises, group,
                ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery, trainRows, selectEvery, CoefficientPrior.Kind.NONE, 0);
    }

    /** The trainer's prior. */
    public CoefficientPrior coefficientPrior() {
        return new CoefficientPrior(prior, prior == CoefficientPrior.Kind.NONE ? 0 : priorOrder);
    }

    /** Snapshots scored by default ({@code selectEvery} absent). */
    public static final int DEFAULT_SNAPSHOTS = 20;

    /** A spec without checkpoint selection (as before {@code selectEvery} existed). */
    public ConsistencyTraining(Consistency.Form form, int order, TrainerSettings.PolicyKind policy, int bins,
                               double initStd, int hidden, boolean nfeInput, int minNfe, int maxNfe, int iterations,
                               int noises, int group, int ppoEpochs, double clip, double entropy, double learningRate,
                               double maxGradNorm, double advantageScale, long seed, SpacingName spacing, Inference inference,
                               int checkpointEvery, int trainRows) {
        this(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations, noises, group,
                ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed, spacing, inference,
                checkpointEvery, trainRows, 0, CoefficientPrior.Kind.NONE, 0);
    }

    /** The default interval: {@link #DEFAULT_SNAPSHOTS} snapshots over the run. */
    public static int defaultSelectEvery(int iterations) {
        return Math.max(1, (iterations + DEFAULT_SNAPSHOTS - 1) / DEFAULT_SNAPSHOTS);
    }

    /** How the trained policy becomes one deterministic table per NFE. */
    public enum Inference {
        /** Expected value and argmax scored on the selection rows, the lower kept (per NFE). */
        AUTO,
        EXPECTED,
        ARGMAX;

        /** The modes tried. */
        List<Policy.Inference> modes(TrainerSettings.PolicyKind policy) {
            return switch (this) {
                case AUTO -> policy == TrainerSettings.PolicyKind.CATEGORICAL
                        ? List.of(Policy.Inference.EXPECTED, Policy.Inference.ARGMAX) : List.of(Policy.Inference.EXPECTED);
                case EXPECTED -> List.of(Policy.Inference.EXPECTED);
                case ARGMAX -> List.of(Policy.Inference.ARGMAX);
            };
        }
    }

    /** The field names, as in the spec. */
    static final String[] FIELDS = {"form", "order", "policy", "bins", "initStd", "hidden", "nfeInput", "minNfe",
        "maxNfe", "iterations", "noises", "group", "ppoEpochs", "clip", "entropy", "learningRate", "maxGradNorm",
        "advantageScale", "seed", "spacing", "inference", "checkpointEvery", "trainRows", "selectEvery", "prior",
        "priorOrder", "refineGrid", "refineEvaluations", "refineRounds", "trainer"};

    /** The trainer's settings (the table's inference mode is chosen per NFE, not by the trainer). */
    public TrainerSettings settings() {
        return settings(DEFAULT_RHO);
    }

    /** The exponent of the Karras spacing when none is given. */
    public static final double DEFAULT_RHO = SpacingName.DEFAULT_RHO;

    /** {@link #settings()} with {@code rho} the exponent of a Karras spacing. */
    public TrainerSettings settings(double rho) {
        return new TrainerSettings(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe, iterations,
                noises, group, ppoEpochs, clip, entropy, learningRate, maxGradNorm, advantageScale, seed,
                spacing.spacing(rho), Policy.Inference.EXPECTED, checkpointEvery);
    }

    /**
     * The settings the {@code train-consistency} command was given, read as a job's {@code consistency} object (the
     * same names, defaults, bounds and messages): {@code given} holds only the options the user set, by field name.
     *
     * @param nfe       the NFEs the command materialises
     * @param rows      the training rows there are (the largest {@code trainRows})
     * @throws InvalidSpecException naming every bad field (bare field names: {@code group}, {@code learningRate})
     */
    public static ConsistencyTraining of(com.fasterxml.jackson.databind.JsonNode given, List<Integer> nfe, int rows) {
        TuningJobSpec.Errors err = new TuningJobSpec.Errors();
        ConsistencyTraining t = parse(new TuningJobSpec.Obj(given, "", err), nfe, TuningJobSpec.ALL_SPACINGS, rows,
                rows);
        if (!err.isEmpty()) {
            throw err.exception();
        }
        return t;
    }

    /**
     * Reads {@code c} (the spec's {@code consistency} object, empty if absent); errors go to {@code c}'s error list.
     *
     * @param nfe      the job's NFEs (null if they were invalid)
     * @param spacings the job's spacings (null if invalid)
     * @param fitRows  the job's fit rows (the largest {@code trainRows})
     * @param coeffRows the job's coefficient fit rows (the default {@code trainRows})
     */
    static ConsistencyTraining parse(TuningJobSpec.Obj c, List<Integer> nfe, List<SpacingName> spacings, int fitRows,
                                     int coeffRows) {
        c.only(FIELDS);
        TrainerSettings d = TrainerSettings.defaults();
        Consistency.Form form = enumOf(c, "form", Consistency.Form.values(), d.form());
        int order = c.integer("order", 2, Consistency.MAX_ORDER, d.order());
        TrainerSettings.PolicyKind policy = enumOf(c, "policy", TrainerSettings.PolicyKind.values(), d.policy());
        int bins = c.integer("bins", 2, 401, d.bins());
        double initStd = c.number("initStd", 0, true, 10, false, d.initStd());
        int hidden = c.integer("hidden", 1, 1024, d.hidden());
        boolean nfeInput = c.bool("nfeInput", d.nfeInput());
        int[] jobNfe = nfe == null ? new int[0] : nfe.stream().mapToInt(Integer::intValue).filter(n -> n >= 2)
                .sorted().toArray();
        int lo = jobNfe.length == 0 ? d.minNfe() : Math.min(d.minNfe(), jobNfe[0]);
        int hi = jobNfe.length == 0 ? d.maxNfe() : Math.max(d.maxNfe(), jobNfe[jobNfe.length - 1]);
        int minNfe = c.integer("minNfe", 2, JobLimits.MAX_NFE, Math.max(2, lo));
        int maxNfe = c.integer("maxNfe", 2, JobLimits.MAX_NFE, Math.max(minNfe, hi));
        if (c.ok("minNfe") && c.ok("maxNfe")) {
            if (maxNfe < minNfe) {
                c.err().add(c.field("maxNfe"), "must be >= minNfe (" + minNfe + "), got " + maxNfe);
            } else if (jobNfe.length > 0 && jobNfe[0] < minNfe) {
                c.err().add(c.field("minNfe"), "the job's NFE " + jobNfe[0] + " lies below minNfe " + minNfe
                        + ": one network serves the NFEs it was trained on");
            } else if (jobNfe.length > 0 && jobNfe[jobNfe.length - 1] > maxNfe) {
                c.err().add(c.field("maxNfe"), "the job's NFE " + jobNfe[jobNfe.length - 1] + " lies above maxNfe "
                        + maxNfe + ": one network serves the NFEs it was trained on");
            }
        }
        int iterations = c.integer("iterations", 1, 100_000, d.iterations());
        int trainRows = c.integer("trainRows", 1, Math.max(1, fitRows), Math.min(coeffRows, Math.max(1, fitRows)));
        int noises = c.integer("noises", 1, 64, Math.min(d.noises(), trainRows));
        if (c.ok("noises") && c.ok("trainRows") && noises > trainRows) {
            c.err().add(c.field("noises"), noises + " noises per iteration but only " + trainRows + " training rows"
                    + " (consistency.trainRows)");
        }
        int group = c.integer("group", 2, 256, d.group());
        long rollouts = (long) iterations * noises * (group + 1);
        if (c.ok("iterations") && c.ok("noises") && c.ok("group") && rollouts > TuningJobSpec.MAX_CONSISTENCY_ROLLOUTS) {
            c.err().add(c.field("iterations"), "iterations x noises x (group + 1) = " + rollouts + " rollouts, at most "
                    + TuningJobSpec.MAX_CONSISTENCY_ROLLOUTS);
        }
        int ppoEpochs = c.integer("ppoEpochs", 1, 16, d.ppoEpochs());
        double clip = c.number("clip", 0, true, 1, true, d.clip());
        double entropy = c.number("entropy", 0, false, 10, false, d.entropy());
        double lr = c.number("learningRate", 0, true, 1, false, d.learningRate());
        double maxGradNorm = c.number("maxGradNorm", 0, true, 1e6, false, d.maxGradNorm());
        double advantageScale = c.number("advantageScale", 0, true, 1000, false, d.advantageScale());
        long seed = c.longValue("seed", d.seed());
        SpacingName dfltSpacing = spacings == null || spacings.contains(SpacingName.KARRAS) ? SpacingName.KARRAS
                : spacings.get(0);
        String spacingName = c.string("spacing", dfltSpacing.id());
        SpacingName spacing = SpacingName.find(spacingName);
        List<SpacingName> allowed = spacings == null ? TuningJobSpec.ALL_SPACINGS : spacings;
        if (c.ok("spacing") && (spacing == null || !allowed.contains(spacing))) {
            c.err().add(c.field("spacing"), (spacing != null ? "'" + spacingName
                    + "' is not among the job's spacings " : "unknown spacing '" + spacingName
                    + "' (the job's spacings: ") + allowed + (spacing != null ? "" : ")"));
        }
        if (spacing == null) {
            spacing = dfltSpacing;
        }
        Inference inference = enumOf(c, "inference", Inference.values(), Inference.AUTO);
        int checkpointEvery = c.integer("checkpointEvery", 1, 100_000, 10);
        int selectEvery = c.integer("selectEvery", 0, 100_000, defaultSelectEvery(iterations));
        if (c.ok("selectEvery") && c.ok("iterations") && selectEvery > 0
                && ConsistencyTrainer.snapshots(iterations, selectEvery) > ConsistencyTrainer.MAX_SNAPSHOTS) {
            c.err().add(c.field("selectEvery"), iterations + " iterations every " + selectEvery + " make "
                    + ConsistencyTrainer.snapshots(iterations, selectEvery) + " snapshots to score, at most "
                    + ConsistencyTrainer.MAX_SNAPSHOTS + " (0 turns checkpoint selection off)");
        }
        CoefficientPrior.Kind prior = enumOf(c, "prior", CoefficientPrior.Kind.values(), CoefficientPrior.Kind.NONE);
        int priorOrder = 0;
        if (c.ok("prior") && prior == CoefficientPrior.Kind.NONE) {
            if (c.has("priorOrder")) {
                c.err().add(c.field("priorOrder"), "only with prior multistep (the prior is none)");
            }
        } else if (prior == CoefficientPrior.Kind.MULTISTEP) {
            priorOrder = c.integer("priorOrder", MultistepPrior.MIN_ORDER, MultistepPrior.MAX_ORDER,
                    Math.min(CoefficientPrior.DEFAULT_ORDER, order));
            if (c.ok("priorOrder") && c.ok("order") && priorOrder > order) {
                c.err().add(c.field("priorOrder"), "must be at most order (" + order + "), got " + priorOrder);
            }
            if (c.ok("form") && form != Consistency.Form.DATA && form != Consistency.Form.NOISE) {
                c.err().add(c.field("prior"), "multistep needs the data or noise form (DPM-Solver++ or DPM-Solver "
                        + "multistep), got form " + form.id());
            }
            if (c.ok("policy") && policy != TrainerSettings.PolicyKind.GAUSSIAN) {
                c.err().add(c.field("prior"), "multistep needs the gaussian policy (the categorical bins are the "
                        + "reference's fixed ranges, not offsets around a prior)");
            }
        }
        boolean refineGrid = c.bool("refineGrid", false);
        int refineEvaluations = 0;
        if (refineGrid) {
            refineEvaluations = c.integer("refineEvaluations", 1,
                    io.solvertune.tuning.fit.consistency.GridRefinement.Settings.MAX_EVALUATIONS,
                    io.solvertune.tuning.fit.consistency.GridRefinement.Settings.DEFAULT_EVALUATIONS);
        } else if (c.ok("refineGrid") && c.has("refineEvaluations")) {
            c.err().add(c.field("refineEvaluations"), "only with refineGrid true (the grid is not refined)");
        }
        int refineRounds = 0;
        if (refineGrid) {
            refineRounds = c.integer("refineRounds", 1, MAX_REFINE_ROUNDS, 1);
        } else if (c.ok("refineGrid") && c.has("refineRounds")) {
            c.err().add(c.field("refineRounds"), "only with refineGrid true (the grid is not refined)");
        }
        ConsistencyAblations.Trainer trainer = ConsistencyAblations.Trainer.RL;
        if (c.has("trainer") && c.node().get("trainer").isTextual() && c.node().get("trainer").asText()
                .equalsIgnoreCase(ConsistencyAblations.Trainer.CMAES.name())) {
            c.err().add(c.field("trainer"), "cmaes is an ablation of the train-consistency command (--trainer cmaes),"
                    + " not a job's trainer: expected one of rl, direct");
        } else {
            trainer = enumOf(c, "trainer", JOB_TRAINERS, ConsistencyAblations.Trainer.RL);
        }
        return new ConsistencyTraining(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe,
                iterations, noises, group, ppoEpochs, clip, entropy, lr, maxGradNorm, advantageScale, seed, spacing,
                inference, checkpointEvery, trainRows, selectEvery, prior, priorOrder, refineGrid, refineEvaluations,
                refineRounds, trainer);
    }

    /** An enum constant by its lower-case name. */
    private static <E extends Enum<E>> E enumOf(TuningJobSpec.Obj c, String name, E[] values, E dflt) {
        String s = c.string(name, null);
        if (s == null) {
            return dflt;
        }
        for (E e : values) {
            if (e.name().equalsIgnoreCase(s)) {
                return e;
            }
        }
        c.err().add(c.field(name), "expected one of " + String.join(", ", Arrays.stream(values)
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList()) + ", got '" + s + "'");
        return dflt;
    }
}
