package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.consistency.CoefficientPrior;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.fit.consistency.TrainerSettings;
import io.solvertune.tuning.job.CommandPlans;
import io.solvertune.tuning.job.ConsistencyGrid;
import io.solvertune.tuning.job.ConsistencyTraining;
import io.solvertune.tuning.job.InvalidSpecException;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.StageKind;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * {@code solvertune train-consistency}: trains ConsistencySolver's coefficients (RL on DJL by default; the ablations
 * {@code --trainer direct} and {@code --trainer cmaes}), materialises the table at every {@code --nfe}, and validates it
 * on the held-out seeds against its own base (DDIM) and the best untuned baseline (paired, two standard errors), with
 * the mean ± s.e., median and p99 of the per-seed MSE.
 *
 * <p>An adapter over the pipeline's stages ({@link CommandPlans#consistency}): a {@code baseline} stage and a
 * {@code train-consistency} stage ({@code consistency-<trainer>/}) under {@code --out}, run by {@link LocalJobRunner}
 * as {@code run-job} runs them, so the checkpoints (the stage's record, the trainer's state every
 * {@code --checkpoint-every} iterations) and files are the stages'. A rerun with the same settings reuses or continues
 * them. The trainer options are read as a job's {@code consistency} object ({@link ConsistencyTraining#of}): the same
 * defaults, bounds and messages. The sets are linked into {@code --out} as {@code consistency-<trainer>-nfe<n>.json},
 * beside {@code summary-<trainer>.json}. With {@code --refine-grid} the stage then optimises each table's grid for its
 * fixed coefficients ({@link io.solvertune.tuning.fit.consistency.GridRefinement}); a kept grid's set is linked as
 * {@code consistency-<trainer>+grid-nfe<n>.json} and its row goes under {@code refined} in the summary. With
 * {@code --refine-rounds N} (N >= 2) round k retrains a fresh network on round k-1's final grids and refines again
 * ({@link io.solvertune.tuning.job.CommandPlans.ConsistencyRun#rounds}); each round's tables are printed, and every
 * NFE's choice (the lowest selection-row MSE over the rounds), when from a round of at least 2, is linked as
 * {@code consistency-<trainer>+rounds-nfe<n>.json}; the summary gains {@code rounds} and {@code choices}.
 */
@CommandLine.Command(name = "train-consistency", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train ConsistencySolver (RL on DJL), write its per-NFE tables validated on held-out seeds.")
final class TrainConsistencyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Mixin
    TeacherSetOptions sets = new TeacherSetOptions();

    @CommandLine.Option(names = "--train-rows", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            defaultValue = "0:128", description = "training rows the policy is trained on (default ${DEFAULT-VALUE})")
    SeedRange trainRows;

    @CommandLine.Option(names = "--select", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            defaultValue = "256:256", description = "training rows the inference mode and the baseline are chosen on "
            + "(default ${DEFAULT-VALUE})")
    SeedRange select;

    @CommandLine.Option(names = "--baseline", paramLabel = "SUMMARY", description = "reuse the best untuned baseline of "
            + "an earlier `fit` (its summary.json), re-scored on the held-out seeds, instead of sweeping the untuned "
            + "candidates")
    Path baselineFile;

    @CommandLine.Option(names = "--nfe", split = ",", defaultValue = "5,6,8", description = "NFEs to materialise and validate (default ${DEFAULT-VALUE})")
    int[] nfes;

    @CommandLine.Option(names = "--trainer", defaultValue = "RL", description = "RL (the method), DIRECT (ablation: "
            + "gradient through the unrolled solver), CMAES (ablation: CMA-ES on each NFE's table) (default ${DEFAULT-VALUE})")
    ConsistencyAblations.Trainer trainer;

    // The trainer's settings: read as a job's `consistency` object (ConsistencyTraining.of), which owns their
    // defaults, bounds and messages; an option left out is the job's default (TrainerSettings.defaults).
    @CommandLine.Option(names = "--form", description = "NOISE (reference, default), DATA, FLOW_VELOCITY")
    Consistency.Form form;
    @CommandLine.Option(names = "--order", description = "outputs combined at most, 2..4 (default 4)")
    Integer order;
    @CommandLine.Option(names = "--policy", description = "GAUSSIAN (default) or CATEGORICAL")
    TrainerSettings.PolicyKind policy;
    @CommandLine.Option(names = "--bins", description = "categorical: values per coefficient (default 11)")
    Integer bins;
    @CommandLine.Option(names = "--init-std", description = "Gaussian: initial standard deviation (default 0.1)")
    Double initStd;
    @CommandLine.Option(names = "--hidden", description = "width of the hidden layers (default 64)")
    Integer hidden;
    @CommandLine.Option(names = "--nfe-input", description = "the network also sees NFE / max-nfe")
    boolean nfeInput;
    @CommandLine.Option(names = "--min-nfe", description = "smallest NFE trained (default min(4, smallest --nfe))")
    Integer minNfe;
    @CommandLine.Option(names = "--max-nfe", description = "largest NFE trained (default max(10, largest --nfe))")
    Integer maxNfe;
    @CommandLine.Option(names = "--iterations", description = "training iterations (default 200)")
    Integer iterations;
    @CommandLine.Option(names = "--noises", description = "training noises per iteration (default 4)")
    Integer noises;
    @CommandLine.Option(names = "--group", description = "rollouts per noise, the GRPO group (default 16)")
    Integer group;
    @CommandLine.Option(names = "--ppo-epochs", description = "policy updates per batch (default 1)")
    Integer ppoEpochs;
    @CommandLine.Option(names = "--clip", description = "PPO clip range (default 0.2)")
    Double clip;
    @CommandLine.Option(names = "--entropy", description = "entropy bonus (default 0.01)")
    Double entropy;
    @CommandLine.Option(names = "--lr", description = "Adam learning rate (default 3e-3)")
    Double lr;
    @CommandLine.Option(names = "--max-grad-norm", description = "gradient-norm clip (default 1)")
    Double maxGradNorm;
    @CommandLine.Option(names = "--advantage-scale", description = "factor on the advantages (default 10)")
    Double advantageScale;
    @CommandLine.Option(names = "--seed", description = "seed of the initialisation and draws (default 0)")
    Long seed;
    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform", description = "the grid trained and run "
            + "on (default ${DEFAULT-VALUE}; a job's default is karras)")
    String spacing;
    @CommandLine.Option(names = "--rho", defaultValue = "7.0", description = "exponent of karras / time_power (default ${DEFAULT-VALUE})")
    double rho;
    @CommandLine.Option(names = "--checkpoint-every", description = "iterations between training checkpoints (default 10)")
    Integer checkpointEvery;
    @CommandLine.Option(names = "--select-every", paramLabel = "N", description = "checkpoint selection (RL, "
            + "DIRECT): every N iterations and after the last, score the policy's table at every --nfe on the --select "
            + "rows and publish each NFE's lowest-scoring snapshot; 0 = off (the last iteration); default "
            + "ceil(iterations / 20); at most 200 snapshots")
    Integer selectEvery;
    @CommandLine.Option(names = "--prior", description = "what the coefficients start from: NONE (default, the "
            + "reference: the zero head is DDIM) or MULTISTEP (the form's multistep DPM-Solver++ / DPM-Solver of "
            + "--prior-order; coefficients = prior + head; Gaussian policy, DATA or NOISE form, RL or DIRECT)")
    String prior;
    @CommandLine.Option(names = "--prior-order", description = "with --prior MULTISTEP: the multistep solver's order, "
            + "2 or 3, at most --order (default 3)")
    Integer priorOrder;
    @CommandLine.Option(names = "--cmaes-evaluations", defaultValue = "300", description = "CMAES: objective evaluations per NFE")
    int cmaesEvaluations;

    @CommandLine.Option(names = "--reward-classifier", paramLabel = "FILE", description = "image models: add the "
            + "cosine similarity of this TorchScript classifier's outputs (its logits) for the rollout's and the "
            + "teacher's final state to the reward, times --reward-classifier-weight (RL only)")
    Path rewardClassifier;
    @CommandLine.Option(names = "--reward-classifier-weight", defaultValue = "0.1", description = "factor on the "
            + "classifier cosine, (0, 1000] (default ${DEFAULT-VALUE})")
    double rewardClassifierWeight;

    @CommandLine.Option(names = "--grids", paramLabel = "DIR", description = "train and run on the grids "
            + "`learn-timesteps --out DIR` chose (its timesteps-nfe<n>.json, one for every --nfe of at least 2, each "
            + "with one step per model call) instead of --spacing; the tables are named consistency-<trainer>+timesteps")
    Path gridsDir;

    @CommandLine.Option(names = "--refine-grid", description = "after training, optimise each --nfe table's grid "
            + "for its fixed coefficients (CMA-ES on the --train-rows from the table's own grid, the learned "
            + "timesteps' parameterisation and objective), keep it where it beats the table on the --select rows, and "
            + "validate it on the held-out seeds; written as consistency-<trainer>+grid-nfe<n>.json")
    boolean refineGrid;
    @CommandLine.Option(names = "--refine-evaluations", paramLabel = "N", description = "with --refine-grid: loss "
            + "evaluations per NFE, 1..10000 (default 60)")
    Integer refineEvaluations;
    @CommandLine.Option(names = "--refine-rounds", paramLabel = "N", description = "with --refine-grid: alternating "
            + "rounds, 1..4 (default 1); round k >= 2 trains a new network on round k-1's final grids (as --grids "
            + "would) and refines its tables again, stopping early when a round kept no refined grid; every NFE "
            + "publishes the table of lowest --select MSE over the rounds (from a round >= 2: "
            + "consistency-<trainer>+rounds-nfe<n>.json)")
    Integer refineRounds;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size of the evaluations (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--progress", description = "print the training progress line to stderr")
    boolean progress;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (checkpoint, sets, summary.json)")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        PrintWriter e = cmd.commandLine().getErr();
        for (int n : nfes) {
            if (n < 1 || n > 50) {
                throw new IllegalArgumentException("--nfe: must be in [1, 50], got " + n);
            }
        }
        List<Integer> nfeList = Arrays.stream(nfes).boxed().toList();
        ConsistencyTraining training = training(nfeList, trainRows.count());
        ModelOptions.Loaded m = model.load();
        TrajectorySet tr = TrajectorySet.open(sets.train);
        TrajectorySet ho = TrajectorySet.open(sets.heldout);
        ModelOptions.checkTrainHeldOut(tr, ho, m);
        int from = (int) trainRows.first();
        int to = from + trainRows.count();
        int sFrom = (int) select.first();
        int sTo = (int) Math.min(tr.size(), select.first() + select.count());
        if (from < 0 || to > tr.size()) {
            throw new IllegalArgumentException("--train-rows: rows " + from + ".." + (to - 1) + " outside the training "
                    + "set's " + tr.size() + " rows");
        }
        if (sTo <= sFrom || sFrom < to && sTo > from) {
            throw new IllegalArgumentException("--select: rows " + sFrom + ".." + (sTo - 1) + " are empty or overlap "
                    + "--train-rows");
        }
        String name = trainer.name().toLowerCase(Locale.ROOT);
        List<ConsistencyGrid> grids = null;
        if (gridsDir != null) {
            if (trainer == ConsistencyAblations.Trainer.CMAES) {
                throw new IllegalArgumentException("--grids: the CMAES ablation runs on --spacing only (use --trainer "
                        + "RL or DIRECT)");
            }
            grids = grids(gridsDir, nfes, tr.times());
            for (ConsistencyGrid cg : grids) {
                if (cg.variant().endsWith(UNTUNED)) {
                    e.printf(Locale.ROOT, "WARN --grids: NFE %d runs %s's untuned grid (learn-timesteps chose it over "
                            + "the learned ones)%n", cg.nfe(), cg.variant());
                }
            }
            name = name + io.solvertune.tuning.job.StageOutputs.TIMESTEPS_SUFFIX;
        }
        Integer classLabel;
        try (Denoiser d = m.build()) {
            classLabel = CommandPlans.classLabel(m.guidance(), d.numClasses());
        }
        List<PlannedStage> plan = CommandPlans.consistency(new CommandPlans.Consistency("consistency-" + name,
                m.guidance().scale(), classLabel, training, from, sFrom, sTo, nfeList, batch,
                FitCommand.known(baselineFile), trainer, cmaesEvaluations, rho, rewardClassifier,
                rewardClassifierWeight, grids));
        Printer printer = new Printer(o, e);
        try {
            LocalJobRunner.tuning().run(0, Json.MAPPER.valueToTree(Map.of("command", "train-consistency")), plan,
                    Map.of(CommandPlans.TRAIN, CommandPlans.given(tr, "train"),
                            CommandPlans.HELD_OUT, CommandPlans.given(ho, "heldout")),
                    model.resolved(m), out, printer, () -> false);
        } catch (IllegalArgumentException x) {
            if (baselineFile != null && x.getMessage() != null && x.getMessage().startsWith(CommandPlans.STORED_CHOICE)) {
                throw new IllegalArgumentException("--baseline: " + x.getMessage() + " (" + baselineFile + ")", x);
            }
            if (gridsDir != null && x.getMessage() != null && x.getMessage().startsWith("grids: ")) {
                throw new IllegalArgumentException("--grids: " + x.getMessage().substring(7) + " (" + gridsDir + ")",
                        x);
            }
            throw x;
        }
        CommandPlans.ConsistencyRun run = printer.run;
        // the sets and the summary under the names earlier versions wrote them to (the sets: the same bytes, linked)
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("trainer", trainer.name().toLowerCase(Locale.ROOT));
        if (grids != null) {
            summary.put("grids", grids);
        }
        summary.put("settings", run.settings());
        summary.put("trainRows", run.trainRows());
        summary.put("selectRows", run.selectRows());
        summary.put("heldOutSeeds", ho.size());
        if (rewardClassifier != null) {
            summary.put("classifierReward", Map.of("file", rewardClassifier.toString(), "weight",
                    rewardClassifierWeight, "features", "logits"));
        }
        if (training.prior() != CoefficientPrior.Kind.NONE) {
            summary.put("prior", training.coefficientPrior().asMap());
        }
        summary.put("iterations", run.iterations());
        summary.put("trainSeconds", printer.seconds);
        summary.put("rewardCurve", run.curve());
        if (run.selectEvery() != null) {
            summary.put("selectEvery", run.selectEvery());
            summary.put("selectionCurve", run.selectionCurve());
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (CommandPlans.ConsistencyRun.Table t : run.tables()) {
            String file = "consistency-" + name + "-nfe" + t.nfe() + ".json";
            FitEmsCommand.link(out.resolve(t.file()), out.resolve(file));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("nfe", t.nfe());
            row.put("file", file);
            row.put("stageFile", t.file());
            row.put("inference", t.inference());
            row.put("inferenceSelection", t.selection());
            if (t.selectedIteration() != null) {
                row.put("selectedIteration", t.selectedIteration());
            }
            row.put("values", CoefficientSet.fromJson(Files.readString(out.resolve(file))).values());
            putHeldOut(row, t);
            row.put("baseMse", t.baseMse());
            row.put("vsBase", t.vsBase());
            putBaseline(row, t);
            if (t.prior() != null) {
                row.put("prior", t.prior());
            }
            rows.add(row);
        }
        summary.put("results", rows);
        if (run.refined() != null) {
            // the tables on their refined grids: a row's base is the table on its own grid
            List<Map<String, Object>> refinedRows = new ArrayList<>();
            for (CommandPlans.ConsistencyRun.Table t : run.refined()) {
                String file = "consistency-" + name + io.solvertune.tuning.fit.consistency.GridRefinement.METHOD_SUFFIX
                        + "-nfe" + t.nfe() + ".json";
                FitEmsCommand.link(out.resolve(t.file()), out.resolve(file));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("nfe", t.nfe());
                row.put("method", "consistency-" + name + io.solvertune.tuning.fit.consistency.GridRefinement
                        .METHOD_SUFFIX);
                row.put("file", file);
                row.put("stageFile", t.file());
                row.put("times", CoefficientSet.fromJson(Files.readString(out.resolve(file))).times());
                putHeldOut(row, t);
                row.put("unrefinedMse", t.baseMse());
                row.put("unrefinedStdErr", t.baseStdErr());
                row.put("vsUnrefined", t.vsBase());
                row.put("pairedDiffStdErrVsUnrefined", run.refinements().stream()
                        .map(x -> Json.MAPPER.convertValue(x, JsonNode.class))
                        .filter(x -> x.path("nfe").asInt() == t.nfe()).map(x -> x.path("pairedDiffStdErr").asDouble())
                        .findFirst().orElse(Double.NaN));
                putBaseline(row, t);
                refinedRows.add(row);
            }
            summary.put("refined", refinedRows);
            summary.put("refinements", run.refinements());
        }
        if (run.choices() != null) {
            summary.put("rounds", run.roundRecords());
            List<Map<String, Object>> choices = new ArrayList<>();
            for (CommandPlans.ConsistencyRun.Choice c : run.choices()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("nfe", c.nfe());
                row.put("round", c.round());
                row.put("chosen", c.chosen());
                row.put("selectionMse", c.selectionMse());
                row.put("stageFile", c.file());
                if (c.round() > 1) {
                    String file = "consistency-" + name + ROUNDS_SUFFIX + "-nfe" + c.nfe() + ".json";
                    FitEmsCommand.link(out.resolve(c.file()), out.resolve(file));
                    row.put("file", file);
                    run.rounded().stream().filter(t -> t.nfe() == c.nfe()).findFirst().ifPresent(t -> {
                        row.put("heldOutMse", t.heldOutMse());
                        row.put("heldOutStdErr", t.heldOutStdErr());
                        row.put("baseline", t.baseline());
                        row.put("baselineMse", t.baselineMse());
                        row.put("pairedDiffStdErr", t.pairedDiffStdErr());
                        row.put("vsBaseline", t.vsBaseline());
                    });
                }
                choices.add(row);
            }
            summary.put("choices", choices);
        }
        summary.put("failures", run.failures());
        Path sum = out.resolve("summary-" + name + ".json");
        Path tmp = sum.resolveSibling(sum.getFileName() + ".tmp");
        Files.writeString(tmp, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
        Files.move(tmp, sum, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        o.println("wrote " + out);
        return 0;
    }

    /** Suffix of a choice over alternating rounds ({@code --refine-rounds}) from a round of at least 2. */
    static final String ROUNDS_SUFFIX = "+rounds";

    /** Marks the variant of a grid learn-timesteps left untuned. */
    static final String UNTUNED = " (untuned)";

    /** A summary row's held-out score of table {@code t}: mean, standard error, median, p99. */
    private static void putHeldOut(Map<String, Object> row, CommandPlans.ConsistencyRun.Table t) {
        row.put("heldOutMse", t.heldOutMse());
        row.put("heldOutStdErr", t.heldOutStdErr());
        row.put("heldOutMedian", t.median());
        row.put("heldOutP99", t.p99());
    }

    /** A summary row's best untuned baseline of table {@code t}, its score and the paired verdict against it. */
    private static void putBaseline(Map<String, Object> row, CommandPlans.ConsistencyRun.Table t) {
        row.put("baseline", t.baseline());
        row.put("baselineMse", t.baselineMse());
        row.put("baselineStdErr", t.baselineStdErr());
        row.put("baselineMedian", t.baselineMedian());
        row.put("baselineP99", t.baselineP99());
        row.put("pairedDiffStdErr", t.pairedDiffStdErr());
        row.put("vsBaseline", t.vsBaseline());
    }

    /**
     * The grids {@code learn-timesteps --out dir} chose, one per NFE of at least 2: {@code timesteps-nfe<n>.json}, a
     * {@code timesteps} set whose grid has {@code n} steps and runs over the training teacher's time range
     * ({@code teacherTimes}); every problem is an error naming {@code --grids}.
     */
    static List<ConsistencyGrid> grids(Path dir, int[] nfes, double[] teacherTimes) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--grids: no such directory " + dir);
        }
        List<ConsistencyGrid> out = new ArrayList<>();
        for (int n : Arrays.stream(nfes).filter(n -> n >= 2).distinct().sorted().toArray()) {
            Path f = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json",
                    io.solvertune.tuning.fit.timesteps.LearnedTimesteps.METHOD, n));
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("--grids: " + dir + " has no grid for NFE " + n + " (" + f.getFileName()
                        + "; learn-timesteps --nfe " + n + " --out " + dir + " writes it)");
            }
            CoefficientSet set;
            try {
                set = CoefficientSet.fromJson(Files.readString(f));
            } catch (RuntimeException | java.io.IOException x) {
                throw new IllegalArgumentException("--grids: " + f + " is not a coefficient set: " + x.getMessage(), x);
            }
            if (set.method() != CoefficientSet.Method.TIMESTEPS || set.nfe() != n) {
                throw new IllegalArgumentException("--grids: " + f + " is not learn-timesteps' set of NFE " + n + " ("
                        + set.method().name().toLowerCase(Locale.ROOT) + ", NFE " + set.nfe() + ")");
            }
            double[] t = set.times();
            if (t.length != n + 1) {
                throw new IllegalArgumentException("--grids: " + f.getFileName() + " has " + (t.length - 1) + " steps ("
                        + set.base().label() + " spends " + n + " NFE in them); ConsistencySolver takes one step per "
                        + "model call and needs " + n);
            }
            double t0 = teacherTimes[0];
            double t1 = teacherTimes[teacherTimes.length - 1];
            if (Math.abs(t[0] - t0) > 1e-9 * Math.max(1, Math.abs(t0)) || Math.abs(t[n] - t1) > 1e-9 * Math.max(1,
                    Math.abs(t1))) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--grids: %s runs from %.9g to %.9g, the "
                        + "--train teacher from %.9g to %.9g (a grid of another teacher?)", f.getFileName(), t[0], t[n],
                        t0, t1));
            }
            String variant = new io.solvertune.tuning.fit.timesteps.LearnedTimesteps.Variant(set.base(),
                    set.baseSpacing() != null ? set.baseSpacing() : set.spacing()).label()
                    + (set.baseSpacing() == null ? UNTUNED : "");
            out.add(new ConsistencyGrid(n, t, variant, null, f.toAbsolutePath().normalize().toString(), null));
        }
        return out;
    }

    /**
     * The trainer's options as a job's {@code consistency} object (only those given; the rest are the job's
     * defaults), read by {@link ConsistencyTraining#of}; an error names the option.
     */
    private ConsistencyTraining training(List<Integer> nfeList, int rows) {
        ObjectNode c = Json.MAPPER.createObjectNode();
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("form", form == null ? null : form.name());
        given.put("order", order);
        given.put("policy", policy == null ? null : policy.name());
        given.put("bins", bins);
        given.put("initStd", initStd);
        given.put("hidden", hidden);
        given.put("nfeInput", nfeInput ? Boolean.TRUE : null);
        given.put("minNfe", minNfe);
        given.put("maxNfe", maxNfe);
        given.put("iterations", iterations);
        given.put("noises", noises);
        given.put("group", group);
        given.put("ppoEpochs", ppoEpochs);
        given.put("clip", clip);
        given.put("entropy", entropy);
        given.put("learningRate", lr);
        given.put("maxGradNorm", maxGradNorm);
        given.put("advantageScale", advantageScale);
        given.put("seed", seed);
        given.put("spacing", spacing);
        // a categorical RL policy's tables: expected value or argmax, chosen on --select; the ablations: expected
        given.put("inference", trainer == ConsistencyAblations.Trainer.RL ? "auto" : "expected");
        given.put("checkpointEvery", checkpointEvery);
        given.put("trainRows", rows);
        if (selectEvery != null && selectEvery > 0 && trainer == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("--select-every: checkpoint selection applies to the RL and DIRECT "
                    + "trainers, not CMAES");
        }
        given.put("selectEvery", selectEvery);
        if (prior != null && trainer == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("--prior: the CMAES ablation searches each table from the neutral "
                    + "coefficients; the prior is for the RL and DIRECT trainers");
        }
        given.put("prior", prior);
        given.put("priorOrder", priorOrder);
        if (refineEvaluations != null && !refineGrid) {
            throw new IllegalArgumentException("--refine-evaluations: only with --refine-grid");
        }
        if (refineGrid && trainer == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("--refine-grid: refines the tables of the RL and DIRECT trainers, not "
                    + "the CMAES ablation's");
        }
        given.put("refineGrid", refineGrid ? Boolean.TRUE : null);
        given.put("refineEvaluations", refineEvaluations);
        if (refineRounds != null && !refineGrid) {
            throw new IllegalArgumentException("--refine-rounds: only with --refine-grid");
        }
        given.put("refineRounds", refineRounds);
        given.forEach((k, v) -> {
            if (v != null) {
                c.set(k, Json.MAPPER.valueToTree(v));
            }
        });
        try {
            return ConsistencyTraining.of(c, nfeList, rows);
        } catch (InvalidSpecException x) {
            throw new IllegalArgumentException(x.errors().stream().map(f -> f.field() + ": " + f.message() + " ("
                    + option(f.field()) + ")").collect(Collectors.joining("; ")), x);
        }
    }

    /** The option of a {@code consistency} field: {@code learningRate} is {@code --lr}, else kebab case. */
    static String option(String field) {
        return switch (field) {
            case "learningRate" -> "--lr";
            case "trainRows" -> "--train-rows";
            case "selectEvery" -> "--select-every";
            default -> "--" + field.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
        };
    }

    /** Prints the stages' outputs as they finish. */
    private final class Printer implements LocalJobRunner.Listener {
        private final PrintWriter o;
        private final PrintWriter e;
        CommandPlans.ConsistencyRun run;
        double seconds;

        Printer(PrintWriter o, PrintWriter e) {
            this.o = o;
            this.e = e;
        }

        @Override
        public void stageOutput(PlannedStage stage, JsonNode output, boolean reused, double secs) {
            if (stage.stageKind() != StageKind.TRAIN_CONSISTENCY) {
                return;
            }
            try {
                run = CommandPlans.consistencyRun(out, output);
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
            seconds = secs;
            o.printf(Locale.ROOT, "trained (%s) in %s%n", trainer.name().toLowerCase(Locale.ROOT), reused
                    ? "(checkpoint)" : String.format(Locale.ROOT, "%.1f s", secs));
            print(run);
            if (run.rounds() != null) {
                for (int k = 0; k < run.rounds().size(); k++) {
                    o.printf(Locale.ROOT, "round %d: a new network trained on round %d's grids%n", k + 2, k + 1);
                    print(run.rounds().get(k));
                }
                for (CommandPlans.ConsistencyRun.Choice c : run.choices()) {
                    CommandPlans.ConsistencyRun.Table t = c.round() == 1 ? null : run.rounded().stream()
                            .filter(x -> x.nfe() == c.nfe()).findFirst().orElse(null);
                    o.printf(Locale.ROOT, "NFE %d: round %d's %s chosen of %d rounds (selection MSE %.5g)%s%n",
                            c.nfe(), c.round(), c.chosen(), run.rounds().size() + 1, c.selectionMse(), t == null ? ""
                                    : String.format(Locale.ROOT, ", held-out MSE %.5g ± %.2g vs best %s %.5g (%s)",
                                    t.heldOutMse(), t.heldOutStdErr(), t.baseline(), t.baselineMse(),
                                    FitCommand.verdict(t.vsBaseline())));
                }
            }
            o.flush();
        }

        /** One round's tables, refined tables and failures, as the command has always printed them. */
        private void print(CommandPlans.ConsistencyRun run) {
            o.printf(Locale.ROOT, "| NFE | inference | held-out MSE ± s.e. | median | p99 | DDIM-form base | vs base | "
                    + "best baseline | its MSE ± s.e. | median | p99 | vs best | beats best? |%n"
                    + "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|%n");
            for (CommandPlans.ConsistencyRun.Table t : run.tables()) {
                o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.3g | %.3g | %.5g | %.3f %s | %s | %.5g ± %.2g | %.3g | "
                                + "%.3g | %.3f ± %.3f | %s |%n", t.nfe(), t.inference(), t.heldOutMse(),
                        t.heldOutStdErr(), t.median(), t.p99(), t.baseMse(), t.heldOutMse() / t.baseMse(),
                        FitCommand.verdict(t.vsBase()), t.baseline(), t.baselineMse(), t.baselineStdErr(),
                        t.baselineMedian(), t.baselineP99(), t.heldOutMse() / t.baselineMse(), t.pairedDiffStdErr() / t.baselineMse(),
                        FitCommand.verdict(t.vsBaseline()));
            }
            for (CommandPlans.ConsistencyRun.Table t : run.tables()) {
                if (t.prior() != null) {
                    o.printf(Locale.ROOT, "NFE %d vs its prior %s: %.5g ± %.2g (median %.3g, p99 %.3g); ratio %.3f ± %.3f,"
                            + " %s%n", t.nfe(), t.prior().solver(), t.prior().heldOutMse(), t.prior().heldOutStdErr(),
                            t.prior().median(), t.prior().p99(), t.heldOutMse() / t.prior().heldOutMse(),
                            t.prior().pairedDiffStdErr() / t.prior().heldOutMse(), FitCommand.verdict(t.prior().vsPrior()));
                }
            }
            if (run.refinements() != null) {
                o.printf(Locale.ROOT, "grid refinement: %d of %d tables kept a refined grid%n", run.refined().size(),
                        run.refinements().size());
                if (!run.refined().isEmpty()) {
                    o.printf(Locale.ROOT, "| NFE | refined held-out MSE ± s.e. | median | p99 | table on its grid | vs "
                            + "table | best baseline | its MSE | vs best (paired s.e.) | beats best? |%n"
                            + "|---:|---:|---:|---:|---:|---|---|---:|---:|---|%n");
                }
                for (CommandPlans.ConsistencyRun.Table t : run.refined()) {
                    o.printf(Locale.ROOT, "| %d | %.5g ± %.2g | %.3g | %.3g | %.5g | %.3f %s | %s | %.5g | %.3f ± %.3f "
                                    + "| %s |%n", t.nfe(), t.heldOutMse(), t.heldOutStdErr(), t.median(), t.p99(),
                            t.baseMse(), t.heldOutMse() / t.baseMse(), FitCommand.verdict(t.vsBase()), t.baseline(),
                            t.baselineMse(), t.heldOutMse() / t.baselineMse(), t.pairedDiffStdErr() / t.baselineMse(),
                            FitCommand.verdict(t.vsBaseline()));
                }
            }
            for (String f : run.failures()) {
                o.printf(Locale.ROOT, "(no table: %s)%n", f);
            }
        }

        @Override
        public void progress(PlannedStage stage, long done, long total, String message) {
            // stage messages are "<library stage>: <message>"; the training line, and the ends of the others
            int i = message.indexOf(": ");
            String lib = i > 0 ? message.substring(0, i) : stage.name();
            if (progress && (lib.startsWith("consistency") || lib.equals("refine-grid") || done == total)) {
                e.printf(Locale.ROOT, "[%s %d/%d] %s%n", lib, done, total, i > 0 ? message.substring(i + 2) : message);
                e.flush();
            }
        }

        @Override
        public void log(PlannedStage stage, String level, String message) {
            if (!"INFO".equals(level) || message.contains("resumed training")) {
                e.printf(Locale.ROOT, "%s %s%n", level, message);
                e.flush();
            }
        }
    }
}
