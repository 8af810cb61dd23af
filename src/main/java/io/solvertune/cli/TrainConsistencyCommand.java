package io.solvertune.cli;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.fit.consistency.ClassifierReward;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.fit.consistency.ConsistencyTrainer;
import io.solvertune.tuning.fit.consistency.Policy;
import io.solvertune.tuning.fit.consistency.TrainerSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune train-consistency}: trains ConsistencySolver's coefficients (RL on DJL by default; the ablations
 * {@code --trainer direct} and {@code --trainer cmaes}), materialises the table at every {@code --nfe}, and validates it
 * on the held-out seeds against its own base (DDIM) and the best untuned baseline (paired, two standard errors), with
 * the mean ± s.e., median and p99 of the per-seed MSE. Resumable: the training state is checkpointed and a rerun with the
 * same settings continues it.
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

    @CommandLine.Option(names = "--form", defaultValue = "NOISE", description = "NOISE (reference), DATA, FLOW_VELOCITY")
    Consistency.Form form;
    @CommandLine.Option(names = "--order", defaultValue = "4")
    int order;
    @CommandLine.Option(names = "--policy", defaultValue = "GAUSSIAN", description = "GAUSSIAN or CATEGORICAL")
    TrainerSettings.PolicyKind policy;
    @CommandLine.Option(names = "--bins", defaultValue = "11")
    int bins;
    @CommandLine.Option(names = "--init-std", defaultValue = "0.1")
    double initStd;
    @CommandLine.Option(names = "--hidden", defaultValue = "64")
    int hidden;
    @CommandLine.Option(names = "--nfe-input", description = "the network also sees NFE / max-nfe")
    boolean nfeInput;
    @CommandLine.Option(names = "--min-nfe", defaultValue = "4")
    int minNfe;
    @CommandLine.Option(names = "--max-nfe", defaultValue = "10")
    int maxNfe;
    @CommandLine.Option(names = "--iterations", defaultValue = "200")
    int iterations;
    @CommandLine.Option(names = "--noises", defaultValue = "4", description = "training noises per iteration")
    int noises;
    @CommandLine.Option(names = "--group", defaultValue = "16", description = "rollouts per noise (GRPO group)")
    int group;
    @CommandLine.Option(names = "--ppo-epochs", defaultValue = "1")
    int ppoEpochs;
    @CommandLine.Option(names = "--clip", defaultValue = "0.2")
    double clip;
    @CommandLine.Option(names = "--entropy", defaultValue = "0.01")
    double entropy;
    @CommandLine.Option(names = "--lr", defaultValue = "3e-3")
    double lr;
    @CommandLine.Option(names = "--max-grad-norm", defaultValue = "1.0")
    double maxGradNorm;
    @CommandLine.Option(names = "--advantage-scale", defaultValue = "10")
    double advantageScale;
    @CommandLine.Option(names = "--seed", defaultValue = "0")
    long seed;
    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform")
    String spacing;
    @CommandLine.Option(names = "--rho", defaultValue = "7.0")
    double rho;
    @CommandLine.Option(names = "--checkpoint-every", defaultValue = "10")
    int checkpointEvery;
    @CommandLine.Option(names = "--select-every", defaultValue = "-1", paramLabel = "N", description = "checkpoint "
            + "selection (RL, DIRECT): every N iterations and after the last, score the policy's table at every --nfe on "
            + "the --select rows and publish each NFE's lowest-scoring snapshot; 0 = off (the last iteration), "
            + "-1 = ceil(iterations / 20) (default ${DEFAULT-VALUE}); at most 200 snapshots")
    int selectEvery;
    @CommandLine.Option(names = "--cmaes-evaluations", defaultValue = "300", description = "CMAES: objective evaluations per NFE")
    int cmaesEvaluations;

    @CommandLine.Option(names = "--reward-classifier", paramLabel = "FILE", description = "image models: add the "
            + "cosine similarity of this TorchScript classifier's outputs (its logits) for the rollout's and the "
            + "teacher's final state to the reward, times --reward-classifier-weight (RL only)")
    Path rewardClassifier;
    @CommandLine.Option(names = "--reward-classifier-weight", defaultValue = "0.1", description = "factor on the "
            + "classifier cosine, (0, 1000] (default ${DEFAULT-VALUE})")
    double rewardClassifierWeight;

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
        io.solvertune.tuning.Progress prog = !progress ? io.solvertune.tuning.Progress.NONE
                : (stage, done, total, message) -> {
                    if (stage.startsWith("consistency") || done == total) {
                        e.printf(Locale.ROOT, "[%s %d/%d] %s%n", stage, done, total, message);
                        e.flush();
                    }
                };
        TrainerSettings st = new TrainerSettings(form, order, policy, bins, initStd, hidden, nfeInput, minNfe, maxNfe,
                iterations, noises, group, ppoEpochs, clip, entropy, lr, maxGradNorm, advantageScale, seed,
                TimestepSpacing.named(spacing, rho), Policy.Inference.EXPECTED, checkpointEvery);
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
        for (int n : nfes) {
            if (n < 1 || n > 50) {
                throw new IllegalArgumentException("--nfe: must be in [1, 50], got " + n);
            }
        }
        if (selectEvery < -1 || selectEvery > 100_000) {
            throw new IllegalArgumentException("--select-every: must be -1 (auto), 0 (off) or in [1, 100000], got "
                    + selectEvery);
        }
        int every = selectEvery == -1 ? (trainer == ConsistencyAblations.Trainer.CMAES ? 0
                : io.solvertune.tuning.job.ConsistencyTraining.defaultSelectEvery(iterations)) : selectEvery;
        if (every > 0 && trainer == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("--select-every: checkpoint selection applies to the RL and DIRECT "
                    + "trainers, not CMAES");
        }
        if (every > 0 && ConsistencyTrainer.snapshots(iterations, every) > ConsistencyTrainer.MAX_SNAPSHOTS) {
            throw new IllegalArgumentException("--select-every: " + iterations + " iterations every " + every
                    + " make " + ConsistencyTrainer.snapshots(iterations, every) + " snapshots, at most "
                    + ConsistencyTrainer.MAX_SNAPSHOTS);
        }
        int[] selNfe = java.util.Arrays.stream(nfes).filter(n -> n >= 2).distinct().sorted().toArray();
        Evaluation.Targets trT = Evaluation.Targets.load(tr, from, to);
        Evaluation.Targets selT = Evaluation.Targets.load(tr, sFrom, sTo);
        Evaluation.Targets hoT = Evaluation.Targets.load(ho, 0, ho.size());
        Files.createDirectories(out);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("trainer", trainer.name().toLowerCase(Locale.ROOT));
        summary.put("settings", st.asMap());
        summary.put("trainRows", List.of(from, to));
        summary.put("selectRows", List.of(sFrom, sTo));
        summary.put("heldOutSeeds", ho.size());
        if (every > 0 && selNfe.length > 0) {
            summary.put("selectEvery", every);
        }
        try (Denoiser d = m.build()) {
            CoefficientSet.Provenance prov = new CoefficientSet.Provenance(m.hash(), d.schedule().spec(), m.guidance(),
                    tr.meta().teacher(), null, io.solvertune.numerics.CodeVersion.get(), null, null);
            FitContext ctx = new FitContext(d, m.guidance(), trT.seeds(), trT.initial(), trT.sampleShape(),
                    trT.tStart(), trT.tEnd(), m.dtype(), batch, prog, prov);
            ConsistencyAblations.Trained trained;
            try (io.solvertune.tuning.eval.TorchScriptClassifier cls = rewardClassifier == null ? null
                    : new io.solvertune.tuning.eval.TorchScriptClassifier(rewardClassifier)) {
                ClassifierReward reward = cls == null ? null : new ClassifierReward(cls, rewardClassifierWeight,
                        "sha256:" + io.solvertune.tuning.Hashing.sha256(rewardClassifier));
                if (reward != null) {
                    summary.put("classifierReward", Map.of("file", rewardClassifier.toString(), "weight",
                            rewardClassifierWeight, "features", "logits"));
                }
                ConsistencyTrainer.Selection selection = every == 0 || selNfe.length == 0 ? null
                        : new ConsistencyTrainer.Selection(every, selNfe, trainer == ConsistencyAblations.Trainer.RL
                                && policy == TrainerSettings.PolicyKind.CATEGORICAL
                                ? List.of(Policy.Inference.EXPECTED, Policy.Inference.ARGMAX)
                                : List.of(Policy.Inference.EXPECTED), sFrom + ":" + sTo,
                        (set, n) -> Evaluation.evaluate(d, m.guidance(), selT, candidate(set), n, batch, m.dtype(), 0)
                                .result().meanMse());
                trained = ConsistencyAblations.train(trainer, ctx, trT.fin(), st, nfes, cmaesEvaluations,
                        out.resolve("checkpoint-" + trainer.name().toLowerCase(Locale.ROOT) + ".json"), reward,
                        selection);
            }
            o.printf(Locale.ROOT, "trained (%s) in %.1f s%n", trainer.name().toLowerCase(Locale.ROOT),
                    trained.seconds());
            summary.put("trainSeconds", trained.seconds());
            summary.put("rewardCurve", trained.curve());
            if (!trained.selectionCurve().isEmpty()) {
                summary.put("selectionCurve", trained.selectionCurve());
            }
            List<BaselineSweep.Choice> base = baselines(d, m, selT, hoT, prog);
            List<Map<String, Object>> rows = new ArrayList<>();
            o.printf(Locale.ROOT, "| NFE | inference | held-out MSE ± s.e. | median | p99 | DDIM-form base | vs base | "
                    + "best baseline | its MSE ± s.e. | median | p99 | vs best | beats best? |%n"
                    + "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|%n");
            for (int k = 0; k < nfes.length; k++) {
                int nfe = nfes[k];
                // inference mode: expected value vs argmax, chosen on the selection rows (equal for the Gaussian)
                Policy.Inference inf = Policy.Inference.EXPECTED;
                Map<String, Object> selection = new LinkedHashMap<>();
                ConsistencyTrainer.Snapshot snap = trained.selected(nfe);
                if (snap != null) {
                    // checkpoint selection chose the snapshot and its mode on the selection rows
                    inf = ConsistencyTrainer.inferenceOf(snap.inference());
                    for (ConsistencyTrainer.SelectionPoint sp : trained.selectionCurve()) {
                        if (sp.nfe() == nfe && sp.iteration() == snap.iteration()) {
                            selection.put(sp.inference(), sp.mse());
                        }
                    }
                } else if (trainer == ConsistencyAblations.Trainer.RL
                        && policy == TrainerSettings.PolicyKind.CATEGORICAL) {
                    double best = Double.POSITIVE_INFINITY;
                    for (Policy.Inference mode : Policy.Inference.values()) {
                        CoefficientSet cs = trained.set(nfe, mode);
                        double mse = Evaluation.evaluate(d, m.guidance(), selT, candidate(cs), nfe, batch, m.dtype(), 0)
                                .result().meanMse();
                        selection.put(mode.name().toLowerCase(Locale.ROOT), mse);
                        if (mse < best) {
                            best = mse;
                            inf = mode;
                        }
                    }
                }
                CoefficientSet cs = trained.selectedSet(nfe, inf);
                Evaluation.Scored t = Evaluation.evaluate(d, m.guidance(), hoT, candidate(cs), nfe, batch, m.dtype(), 0);
                Evaluation.Scored b = Evaluation.evaluate(d, m.guidance(), hoT, TunedMethods.baseCandidate(cs), nfe,
                        batch, m.dtype(), 0);
                BaselineSweep.Choice bl = base.get(k);
                CoefficientSet.Validation v = new CoefficientSet.Validation(t.result().seeds(), t.result().meanMse(),
                        t.result().stdErr(), b.result().meanMse(), b.result().stdErr(),
                        CoefficientSet.Verdict.of(t.result(), b.result()), bl.best().name(), bl.heldOut().meanMse(),
                        CoefficientSet.Verdict.of(t.result(), bl.heldOut()));
                cs = cs.withValidation(v);
                String file = "consistency-" + trainer.name().toLowerCase(Locale.ROOT) + "-nfe" + nfe + ".json";
                Files.writeString(out.resolve(file), cs.toJson());
                double[] q = quantiles(t.perSeedMse());
                double[] qb = quantiles(bl.heldOut().perSeed());
                o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.3g | %.3g | %.5g | %.3f %s | %s | %.5g ± %.2g | %.3g | "
                                + "%.3g | %.3f ± %.3f | %s |%n", nfe, inf.name().toLowerCase(Locale.ROOT),
                        t.result().meanMse(), t.result().stdErr(), q[0], q[1], b.result().meanMse(),
                        t.result().meanMse() / b.result().meanMse(), t.result().verdict(b.result()), bl.best().name(),
                        bl.heldOut().meanMse(), bl.heldOut().stdErr(), qb[0], qb[1],
                        t.result().meanMse() / bl.heldOut().meanMse(),
                        t.result().diffStdErr(bl.heldOut()) / bl.heldOut().meanMse(),
                        t.result().verdict(bl.heldOut()));
                o.flush();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("nfe", nfe);
                row.put("file", file);
                row.put("inference", inf.name().toLowerCase(Locale.ROOT));
                row.put("inferenceSelection", selection);
                if (snap != null) {
                    // the last iteration's table on the same held-out seeds, for the record of what selection changed
                    Evaluation.Result last = Evaluation.evaluate(d, m.guidance(), hoT, candidate(trained.set(nfe, inf)),
                            nfe, batch, m.dtype(), 0).result();
                    double[] ql = quantiles(last.perSeed());
                    row.put("selectedIteration", snap.iteration());
                    row.put("selectionMse", snap.mse());
                    row.put("lastIterationHeldOutMse", last.meanMse());
                    row.put("lastIterationHeldOutStdErr", last.stdErr());
                    row.put("lastIterationHeldOutMedian", ql[0]);
                    row.put("lastIterationHeldOutP99", ql[1]);
                    row.put("lastIterationPairedDiffStdErr", last.diffStdErr(bl.heldOut()));
                    row.put("lastIterationVsBaseline", last.verdict(bl.heldOut()));
                    o.printf(Locale.ROOT, "|   | NFE %d: snapshot of iteration %d selected (selection MSE %.5g); the last "
                                    + "iteration's held-out MSE %.5g ± %.2g (median %.3g, p99 %.3g), vs best %.3f ± %.3f "
                                    + "%s |%n", nfe, snap.iteration(), snap.mse(), last.meanMse(), last.stdErr(), ql[0],
                            ql[1], last.meanMse() / bl.heldOut().meanMse(),
                            last.diffStdErr(bl.heldOut()) / bl.heldOut().meanMse(), last.verdict(bl.heldOut()));
                }
                row.put("values", cs.values());
                row.put("heldOutMse", t.result().meanMse());
                row.put("heldOutStdErr", t.result().stdErr());
                row.put("heldOutMedian", q[0]);
                row.put("heldOutP99", q[1]);
                row.put("baseMse", b.result().meanMse());
                row.put("vsBase", v.vsBase());
                row.put("baseline", bl.best().name());
                row.put("baselineMse", bl.heldOut().meanMse());
                row.put("baselineStdErr", bl.heldOut().stdErr());
                row.put("baselineMedian", qb[0]);
                row.put("baselineP99", qb[1]);
                row.put("pairedDiffStdErr", t.result().diffStdErr(bl.heldOut()));
                row.put("vsBaseline", v.vsBaseline());
                rows.add(row);
                summary.put("results", rows);
                Files.writeString(out.resolve("summary-" + trainer.name().toLowerCase(Locale.ROOT) + ".json"),
                        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            }
        }
        o.println("wrote " + out);
        return 0;
    }

    private static Candidate candidate(CoefficientSet cs) {
        return new Candidate("consistency " + cs.spacing().id(), io.solvertune.tuning.fit.MethodCatalog.spec(cs),
                cs.spacing(), true, false, null, null);
    }

    /** Median and 99th percentile. */
    static double[] quantiles(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return new double[] {n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]),
            s[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)]};
    }

    /** The best untuned baseline per NFE: a stored choice re-scored, or a sweep on the selection rows. */
    private List<BaselineSweep.Choice> baselines(Denoiser d, ModelOptions.Loaded m, Evaluation.Targets selT,
                                                Evaluation.Targets hoT, io.solvertune.tuning.Progress prog)
            throws java.io.IOException {
        Map<Integer, com.fasterxml.jackson.databind.JsonNode> kept = new java.util.HashMap<>();
        if (baselineFile != null) {
            if (!Files.isRegularFile(baselineFile)) {
                throw new IllegalArgumentException("--baseline: no such file " + baselineFile);
            }
            for (com.fasterxml.jackson.databind.JsonNode c : Json.MAPPER.readTree(baselineFile.toFile()).path("baseline")) {
                kept.put(c.path("nfe").asInt(), c);
            }
        }
        List<BaselineSweep.Choice> outList = new ArrayList<>();
        for (int nfe : nfes) {
            com.fasterxml.jackson.databind.JsonNode c = kept.get(nfe);
            if (c == null) {
                outList.addAll(BaselineSweep.run(d, m.guidance(), selT, hoT, BaselineSweep.untunedCandidates(),
                        new int[] {nfe}, batch, m.dtype(), prog));
                continue;
            }
            Candidate winner = Json.MAPPER.treeToValue(c.path("best"), Candidate.class);
            Evaluation.Result held = Evaluation.evaluate(d, m.guidance(), hoT, winner, nfe, batch, m.dtype(), 0).result();
            double was = c.path("heldOut").path("meanMse").asDouble(Double.NaN);
            if (!(Math.abs(held.meanMse() - was) <= 1e-4 * Math.abs(was))) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--baseline: the stored choice for NFE %d "
                        + "(%s) had held-out MSE %.6g but scores %.6g here: another model or held-out set?", nfe,
                        winner.name(), was, held.meanMse()));
            }
            outList.add(new BaselineSweep.Choice(nfe, winner, null, held, c.path("candidatesTried").asInt()));
        }
        return outList;
    }
}
