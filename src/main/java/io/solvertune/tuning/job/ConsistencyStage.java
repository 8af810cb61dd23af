package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.eval.TorchScriptClassifier;
import io.solvertune.tuning.fit.consistency.ClassifierReward;
import io.solvertune.tuning.fit.consistency.CoefficientPrior;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.consistency.MultistepPrior;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.fit.consistency.ConsistencyTrainer;
import io.solvertune.tuning.fit.consistency.Policy;
import io.solvertune.tuning.fit.consistency.TrainerSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * ConsistencySolver in the pipeline: the coefficient network trained by RL ({@link ConsistencyTrainer}) on training
 * rows {@code [trainFrom, trainFrom + trainRows)} (a job: from 0) against the training teacher's final states (the
 * job's {@code consistency.trainer: direct} or the {@code train-consistency} command may ask for the direct gradient
 * instead, the command also for CMA-ES per NFE); its table materialised at every job NFE
 * (the inference mode chosen on the selection rows where there is a choice); each table validated on the held-out
 * seeds against its own base (the form's neutral solver on the same grid) and against the baseline stage's best
 * untuned solver, paired, at two standard errors, with mean ± s.e., median and p99 of the per-seed MSE.
 *
 * <p>Checkpointed inside the stage: the trainer's state (network, Adam moments, reward curve) is written every
 * {@code checkpointEvery} iterations to {@code trainer-<key>.json} ({@code key}: the training parameters, the model
 * and the training teacher); a killed or cancelled stage resumes from it and, the trainer being deterministic given
 * its seed, ends with the same bytes as an uninterrupted run. Writes {@code consistency-solver-nfe<n>.json} per NFE (a
 * {@code CoefficientSet}, without wall times) and {@value #FILE} ({@link Summary}). With {@code refineRounds} above 1
 * the stage is {@link ConsistencyRounds}: this round, then rounds on the refined grids under {@code round<k>/}.
 */
final class ConsistencyStage extends TypedStage<StageParams.Consistency, StageOutputs.Consistency> {
    static final String FILE = "consistency.json";
    /** Points of the reward curve that go into the sets and the published provenance (the summary keeps all). */
    static final int CURVE_POINTS = 500;
    /** The trainer name in provenance. */
    static final String TRAINER = "rl-grpo-ppo";

    ConsistencyStage() {
        super(StageParams.Consistency.class);
    }

    /**
     * One NFE's validated table.
     *
     * @param file                its {@code CoefficientSet}, relative to the work directory
     * @param inference           expected | argmax
     * @param selection           the selection rows' MSE of each inference mode scored (empty when there was no choice)
     * @param heldOut             the table's held-out score (with per-seed errors)
     * @param median              median of its per-seed held-out MSE
     * @param p99                 99th percentile of it
     * @param base                its base solver's held-out score on the same grid
     * @param baseline            the best untuned baseline (the job's baseline stage) and its held-out score
     * @param pairedDiffStdErr    standard error of the paired difference to the baseline
     * @param selectedIteration   with checkpoint selection: the iteration of the published snapshot (else absent)
     * @param prior               with a multistep prior: the prior solver's held-out score and the paired verdict of
     *                            the table against it (else absent)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Result(int nfe, String file, String inference, Map<String, Double> selection, Scores.Score heldOut,
                  double median, double p99, Scores.Score base, double baseMedian, double baseP99,
                  CoefficientSet.Verdict vsBase, String baseline, Scores.Score baselineScore, double baselineMedian,
                  double baselineP99, double pairedDiffStdErr, CoefficientSet.Verdict vsBaseline,
                  Integer selectedIteration, PriorCheck prior) {
    }

    /**
     * The table against the untuned solver its prior is (iteration 0), on the same held-out seeds and grid.
     *
     * @param solver           the prior solver's label (e.g. {@code dpmsolver++ multistep o3})
     * @param heldOut          its held-out score (with per-seed errors)
     * @param median           median of its per-seed MSE
     * @param p99              99th percentile of it
     * @param pairedDiffStdErr standard error of the paired difference table - prior
     * @param vsPrior          the table's verdict against it, at two paired standard errors
     */
    record PriorCheck(String solver, Scores.Score heldOut, double median, double p99, double pairedDiffStdErr,
                      CoefficientSet.Verdict vsPrior) {
    }

    /**
     * The stage's file.
     *
     * @param settings         the trainer's settings ({@link TrainerSettings#asMap})
     * @param trainSeeds       first training seed and count of the rows the policy was trained on
     * @param curve            the whole reward curve (empty for CMA-ES)
     * @param failures         NFEs without a table, with the reason
     * @param classifierReward the classifier term of the reward, if any (the command's)
     * @param cmaesCurve       the CMA-ES ablation's curve (only for it)
     * @param selectEvery      with checkpoint selection: iterations between scored snapshots (else absent)
     * @param selectionCurve   with checkpoint selection: every snapshot's selection-row MSE per NFE and mode
     * @param grids            on learned grids: the grid of every NFE trained and run (else absent)
     * @param refinements      with {@code refineGrid}: every NFE's grid refinement (else absent)
     * @param refined          with {@code refineGrid}: the kept refined tables' results (else absent)
     * @param rounds           with {@code refineRounds} above 1: every round run (round 1: this summary's tables;
     *                         round k: its own summary under {@code round<k>/}), else absent
     * @param choices          with rounds: per NFE the table of lowest selection-row MSE over every round's table and
     *                         refined table, and the file it is published as
     * @param rounded          with rounds: the results of the choices from a round of at least 2, published as
     *                         {@code <method>+rounds-nfe<n>.json}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Summary(String trainer, String policyId, Map<String, Object> settings, ConsistencyTraining training,
                   long[] trainSeeds, int[] trainRows, int[] selectRows, int iterations,
                   List<ConsistencyTrainer.CurvePoint> curve, List<Result> results, List<String> failures,
                   StageParams.Reward classifierReward, List<ConsistencyAblations.CmaesPoint> cmaesCurve,
                   Integer selectEvery, List<ConsistencyTrainer.SelectionPoint> selectionCurve,
                   List<ConsistencyGrid> grids, List<Refinement> refinements, List<Result> refined,
                   List<ConsistencyRounds.Round> rounds, List<ConsistencyRounds.Choice> choices,
                   List<Result> rounded) {
        Summary(String trainer, String policyId, Map<String, Object> settings, ConsistencyTraining training,
                long[] trainSeeds, int[] trainRows, int[] selectRows, int iterations,
                List<ConsistencyTrainer.CurvePoint> curve, List<Result> results, List<String> failures,
                StageParams.Reward classifierReward, List<ConsistencyAblations.CmaesPoint> cmaesCurve,
                Integer selectEvery, List<ConsistencyTrainer.SelectionPoint> selectionCurve,
                List<ConsistencyGrid> grids, List<Refinement> refinements, List<Result> refined) {
            this(trainer, policyId, settings, training, trainSeeds, trainRows, selectRows, iterations, curve, results,
                    failures, classifierReward, cmaesCurve, selectEvery, selectionCurve, grids, refinements, refined,
                    null, null, null);
        }

        /** This summary with the alternating rounds ({@code refineRounds}), the choice per NFE and its tables. */
        Summary withRounds(List<ConsistencyRounds.Round> rounds, List<ConsistencyRounds.Choice> choices,
                           List<Result> rounded) {
            return new Summary(trainer, policyId, settings, training, trainSeeds, trainRows, selectRows, iterations,
                    curve, results, failures, classifierReward, cmaesCurve, selectEvery, selectionCurve, grids,
                    refinements, refined, rounds, choices, rounded);
        }

        Summary(String trainer, String policyId, Map<String, Object> settings, ConsistencyTraining training,
                long[] trainSeeds, int[] trainRows, int[] selectRows, int iterations,
                List<ConsistencyTrainer.CurvePoint> curve, List<Result> results, List<String> failures,
                StageParams.Reward classifierReward, List<ConsistencyAblations.CmaesPoint> cmaesCurve,
                Integer selectEvery, List<ConsistencyTrainer.SelectionPoint> selectionCurve,
                List<ConsistencyGrid> grids) {
            this(trainer, policyId, settings, training, trainSeeds, trainRows, selectRows, iterations, curve, results,
                    failures, classifierReward, cmaesCurve, selectEvery, selectionCurve, grids, null, null);
        }
    }

    /**
     * One NFE's grid refinement ({@code consistency.refineGrid}): the table's grid optimised for its fixed
     * coefficients on the fit rows ({@code optimisation}: start grid, optimised grid, evaluations, objective trace;
     * {@code published}: whether the refined table was kept), the table's selection-row MSE on its own and on the
     * optimised grid (absent when CMA-ES did not beat the start on the fit rows), and the refined table's file when it
     * beat the table on the selection rows (else absent: the table is left as it is), with the standard error of the
     * paired held-out difference refined - table ({@code pairedDiffStdErr}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Refinement(int nfe, io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid optimisation,
                      Double startSelectionMse, Double selectionMse, boolean chosen, String file,
                      Double pairedDiffStdErr) {
    }

    /** The trainer's name in provenance and the summary. */
    static String trainerName(ConsistencyAblations.Trainer trainer) {
        return switch (trainer) {
            case RL -> TRAINER;
            case DIRECT -> "direct-gradient";
            case CMAES -> "cma-es";
        };
    }

    @Override
    protected Output<StageOutputs.Consistency> run(StageContext ctx, StageParams.Consistency p, Path dir)
            throws Exception {
        if (p.training().refineRounds() > 1) {
            return ConsistencyRounds.run(this, ctx, p, dir);
        }
        return oneRound(ctx, p, dir);
    }

    /**
     * One round: the network trained (on the training's spacing, or on {@code p}'s grids), its tables materialised
     * and validated, and with {@code refineGrid} refined; writes the tables and {@value #FILE} into {@code dir}.
     */
    Output<StageOutputs.Consistency> oneRound(StageContext ctx, StageParams.Consistency p, Path dir)
            throws Exception {
        StageParams.Eval e = p.eval();
        ConsistencyTraining tr = p.training();
        TrainerSettings st = tr.settings(p.rho() == null ? ConsistencyTraining.DEFAULT_RHO : p.rho());
        ConsistencyAblations.Trainer kind = p.trainerOrRl();
        if (p.reward() != null && kind != ConsistencyAblations.Trainer.RL) {
            throw new IllegalArgumentException(REWARD_ONLY_RL);
        }
        if (kind == ConsistencyAblations.Trainer.DIRECT && ctx.model().spec() != null
                && ctx.model().spec().model() instanceof io.solvertune.numerics.spec.DenoiserSpec.TorchScript) {
            throw new IllegalArgumentException("trainer: " + ConsistencyTraining.DIRECT_NEEDS_DJL);
        }
        if (p.onGrids() && kind == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("grids: the CMAES ablation runs on the training's spacing only (use "
                    + "the RL or DIRECT trainer on learned grids)");
        }
        String method = p.onGrids() ? TuningJobSpec.CONSISTENCY_SOLVER + StageOutputs.TIMESTEPS_SUFFIX
                : TuningJobSpec.CONSISTENCY_SOLVER;
        int from = p.firstTrainRow();
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        Evaluation.Targets fitT = Scores.targets(train, from, from + tr.trainRows());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, e);
        List<Scores.BaselinePick> picks = new ArrayList<>();
        for (String stage : p.baselineStages()) {
            picks.addAll(Scores.readBaselines(file(ctx, input(ctx, stage, StageOutputs.Baselines.class).file()))
                    .picks());
        }
        List<Result> results = new ArrayList<>();
        List<StageOutputs.FitRow> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<String> files = new ArrayList<>();
        ConsistencyTrainer t = null;
        ConsistencyAblations.Trained cmaes = null;
        List<ConsistencyGrid> grids = null;
        Map<Integer, ConsistencyGrid> gridOf = new java.util.TreeMap<>();
        List<Refinement> refinements = tr.refineGrid() ? new ArrayList<>() : null;
        List<Result> refined = tr.refineGrid() ? new ArrayList<>() : null;
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            if (p.onGrids()) {
                grids = p.grids() != null ? p.grids() : learnedGrids(ctx, p, d, g, sel);
                for (ConsistencyGrid cg : grids) {
                    gridOf.put(cg.nfe(), cg);
                }
            }
            Path checkpoint = checkpoint(ctx, dir, train, grids == null ? "" : Json.canonical(grids.stream()
                    .map(ConsistencyGrid::times).toList()));
            CoefficientSet.Provenance prov = new CoefficientSet.Provenance(ctx.model().contentHash(),
                    d.schedule().spec(), g, train.meta().teacher(), null, CodeVersion.get(), null, null);
            FitContext fc = new FitContext(d, g, fitT.seeds(), fitT.initial(), fitT.sampleShape(), fitT.tStart(),
                    fitT.tEnd(), StageRuntime.dtype(ctx), e.batch(), progress(ctx, st.iterations()), prov);
            Map<String, Object> extra = new LinkedHashMap<>();
            if (kind == ConsistencyAblations.Trainer.CMAES && tr.prior() != CoefficientPrior.Kind.NONE) {
                throw new IllegalArgumentException(PRIOR_NOT_CMAES);
            }
            if (kind == ConsistencyAblations.Trainer.CMAES) {
                // the ablation fits every NFE's table on its own (no network, no finer checkpoint)
                int[] tables = Arrays.stream(e.nfeArray()).filter(n -> n >= 2).toArray();
                cmaes = ConsistencyAblations.train(kind, fc, fitT.fin(), st, tables, p.cmaesEvaluations(), null);
                extra = null;
            } else {
                t = new ConsistencyTrainer(fc, fitT.fin(), st, kind == ConsistencyAblations.Trainer.RL
                        ? ConsistencyTrainer.Mode.RL : ConsistencyTrainer.Mode.DIRECT);
                if (tr.prior() != CoefficientPrior.Kind.NONE) {
                    t.withPrior(tr.coefficientPrior());
                }
                if (grids != null) {
                    if (grids.isEmpty()) {
                        throw new IllegalStateException(p.timesteps() + ": no learned grid ConsistencySolver can run "
                                + "(one step per model call) at any of the NFEs " + e.nfe());
                    }
                    Map<Integer, double[]> byNfe = new java.util.TreeMap<>();
                    gridOf.forEach((n, cg) -> byNfe.put(n, cg.times()));
                    t.withGrids(byNfe);
                }
                int[] selNfe = Arrays.stream(e.nfeArray()).filter(n -> n >= 2 && (gridOf.isEmpty()
                        || gridOf.containsKey(n))).distinct().sorted().toArray();
                if (tr.selectEvery() > 0 && selNfe.length > 0) {
                    t.withSelection(new ConsistencyTrainer.Selection(tr.selectEvery(), selNfe,
                            tr.inference().modes(st.policy()), e.selectFrom() + ":" + e.selectTo(),
                            (set, nfe) -> Evaluation.evaluate(d, g, sel, candidate(set), nfe, e.batch(),
                                    StageRuntime.dtype(ctx), 0).result().meanMse()));
                }
                try (TorchScriptClassifier cls = classifier(p.reward())) {
                    if (cls != null) {
                        t.withClassifierReward(new ClassifierReward(cls, p.reward().weight(),
                                "sha256:" + p.reward().sha256()));
                    }
                    if (t.resume(checkpoint)) {
                        ctx.log("INFO", String.format(Locale.ROOT, "%s: resumed training at iteration %d of %d",
                                ctx.stage().name(), t.iteration(), st.iterations()));
                    }
                    t.train(checkpoint, Integer.MAX_VALUE);
                }
                List<ConsistencyTrainer.CurvePoint> curve = t.curve();
                ctx.log("INFO", String.format(Locale.ROOT, "%s: trained %d iterations (%s, %s); last tenth's mean MSE "
                        + "ratio to DDIM %.4g", ctx.stage().name(), t.iteration(), trainerName(kind),
                        st.policy().name().toLowerCase(Locale.ROOT), lastTenthRatio(curve)));
                extra.put("rewardCurveEvery", curveEvery(curve.size()));
                extra.put("rewardCurve", thin(curve));
            }
            ConsistencyTrainer trained = t;
            ConsistencyAblations.Trained ablation = cmaes;
            Map<String, Object> setExtra = extra;
            java.util.function.BiFunction<Integer, Policy.Inference, CoefficientSet> table = (n, mode) ->
                    trained != null ? trained.coefficientSet(n, mode, withGrid(setExtra, gridOf.get(n)))
                            : ablation.set(n, mode);
            for (int nfe : e.nfeArray()) {
                StageRuntime.checkCancelled(ctx);
                if (nfe < 2) {
                    String why = "NFE " + nfe + ": ConsistencySolver's first step is plain DDIM, nothing to learn";
                    failures.add(why);
                    rows.add(new StageOutputs.FitRow(nfe, List.of(why), null, null, null, null, null, null));
                    continue;
                }
                if (grids != null && !gridOf.containsKey(nfe)) {
                    String why = "NFE " + nfe + ": no learned grid of " + nfe + " steps (one per model call) from "
                            + (p.timesteps() != null ? p.timesteps() : "the given grids");
                    failures.add(why);
                    rows.add(new StageOutputs.FitRow(nfe, List.of(why), null, null, null, null, null, null));
                    continue;
                }
                Scores.BaselinePick bl = picks.stream().filter(b -> b.nfe() == nfe).findFirst()
                        .orElseThrow(() -> new IllegalStateException(p.baseline() + ": no baseline at NFE " + nfe));
                // inference mode: scored on the selection rows where the policy offers a choice; with checkpoint
                // selection the snapshot and mode of the lowest selection-row score
                Map<String, Double> selection = new LinkedHashMap<>();
                Policy.Inference inf = null;
                double bestSel = Double.POSITIVE_INFINITY;
                List<Policy.Inference> modes = tr.inference().modes(st.policy());
                ConsistencyTrainer.Snapshot snap = t == null ? null : t.selected(nfe);
                if (snap != null) {
                    inf = ConsistencyTrainer.inferenceOf(snap.inference());
                    bestSel = snap.mse();
                    for (ConsistencyTrainer.SelectionPoint sp : t.selectionCurve()) {
                        if (sp.nfe() == nfe && sp.iteration() == snap.iteration()) {
                            selection.put(sp.inference(), sp.mse());
                        }
                    }
                    modes = List.of();
                }
                for (Policy.Inference mode : modes) {
                    if (modes.size() == 1) {
                        inf = mode;
                        break;
                    }
                    double mse = Evaluation.evaluate(d, g, sel, candidate(table.apply(nfe, mode)), nfe,
                            e.batch(), StageRuntime.dtype(ctx), 0).result().meanMse();
                    selection.put(mode.name().toLowerCase(Locale.ROOT), mse);
                    if (inf == null || mse < bestSel) {
                        bestSel = mse;
                        inf = mode;
                    }
                }
                CoefficientSet cs = CoefficientFitStage.reproducible(snap != null
                        ? t.selectedSet(nfe, inf, withGrid(extra, gridOf.get(nfe))) : table.apply(nfe, inf));
                Evaluation.Result r = Evaluation.evaluate(d, g, ho, candidate(cs), nfe, e.batch(),
                        StageRuntime.dtype(ctx), 0).result();
                Evaluation.Result b = Evaluation.evaluate(d, g, ho, TunedMethods.baseCandidate(cs), nfe, e.batch(),
                        StageRuntime.dtype(ctx), 0).result();
                Evaluation.Result blr = bl.heldOut().result();
                PriorCheck priorCheck = null;
                if (t != null && !t.prior().isNone()) {
                    SolverSpec ps = MultistepPrior.solver(st.form(), t.prior().order());
                    Evaluation.Result pr = Evaluation.evaluate(d, g, ho, new Candidate(ps.label() + " "
                            + cs.spacing().id(), ps, cs.spacing(), CoefficientPrior.LOWER_ORDER_FINAL, false, null,
                            null), nfe, e.batch(), StageRuntime.dtype(ctx), 0).result();
                    double[] qp = quantiles(pr.perSeed());
                    priorCheck = new PriorCheck(ps.label(), Scores.Score.of(pr), qp[0], qp[1], r.diffStdErr(pr),
                            CoefficientSet.Verdict.of(r, pr));
                    ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: the prior %s: held-out MSE %.5g ± %.2g "
                            + "(median %.3g, p99 %.3g); the table %s it", ctx.stage().name(), nfe, ps.label(),
                            pr.meanMse(), pr.stdErr(), qp[0], qp[1], CoefficientSet.Verdict.of(r, pr)));
                }
                CoefficientSet.Validation v = new CoefficientSet.Validation(r.seeds(), r.meanMse(), r.stdErr(),
                        b.meanMse(), b.stdErr(), CoefficientSet.Verdict.of(r, b), bl.candidate().name(),
                        blr.meanMse(), CoefficientSet.Verdict.of(r, blr));
                cs = cs.withValidation(v);
                Path f = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", method, nfe));
                StageCheckpoint.writeAtomically(f, cs.toJson().getBytes(StandardCharsets.UTF_8));
                String rel = StageRuntime.relative(ctx, f);
                files.add(rel);
                double[] q = quantiles(r.perSeed());
                double[] qb = quantiles(b.perSeed());
                double[] ql = quantiles(blr.perSeed());
                String mode = inf.name().toLowerCase(Locale.ROOT);
                results.add(new Result(nfe, rel, mode, selection, Scores.Score.of(r), q[0], q[1], Scores.Score.of(b),
                        qb[0], qb[1], v.vsBase(), bl.candidate().name(), bl.heldOut(), ql[0], ql[1],
                        r.diffStdErr(blr), v.vsBaseline(), snap == null ? null : snap.iteration(), priorCheck));
                rows.add(new StageOutputs.FitRow(nfe, List.of(), rel, mode, selection.isEmpty() ? null : bestSel,
                        v.mse(), v.baseMse(), v.publishable()));
                if (snap != null) {
                    ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: snapshot of iteration %d of %d selected "
                            + "(selection-row MSE %.5g, the last iteration's %.5g)", ctx.stage().name(), nfe,
                            snap.iteration(), t.iteration(), snap.mse(), lastSelection(t.selectionCurve(), nfe,
                            t.iteration(), snap.inference())));
                }
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d (%s): held-out MSE %.5g ± %.2g (median %.3g, p99 "
                                + "%.3g) vs base %.5g (%s), best baseline %s %.5g ± %.2g (%s)", ctx.stage().name(), nfe,
                        mode, r.meanMse(), r.stdErr(), q[0], q[1], b.meanMse(), v.vsBase(), bl.candidate().name(),
                        blr.meanMse(), blr.stdErr(), v.vsBaseline()));
                if (refinements != null) {
                    Result unrefined = results.get(results.size() - 1);
                    Refined rf = refine(ctx, dir, checkpoint, d, g, fitT, sel, ho, cs, r, unrefined, bl, method,
                            tr.refinement(), p.firstTrainRow(), e.batch());
                    refinements.add(rf.refinement());
                    if (rf.result() != null) {
                        files.add(rf.result().file());
                        refined.add(rf.result());
                    }
                }
            }
        }
        long[] ts = fitT.seeds();
        @SuppressWarnings("unchecked")
        List<ConsistencyAblations.CmaesPoint> cmaesCurve = cmaes == null ? null
                : (List<ConsistencyAblations.CmaesPoint>) cmaes.curve();
        int iterations = t == null ? 0 : t.iteration();
        boolean selecting = t != null && !t.selectionCurve().isEmpty();
        Map<String, Object> settings = new LinkedHashMap<>(st.asMap());
        if (tr.prior() != CoefficientPrior.Kind.NONE) {
            settings.put("prior", tr.coefficientPrior().asMap());
        }
        Summary summary = new Summary(trainerName(kind), policyId(st), settings, tr, new long[] {ts[0], ts.length},
                new int[] {from, from + tr.trainRows()}, new int[] {e.selectFrom(), e.selectTo()}, iterations,
                t == null ? List.of() : t.curve(), results, failures, p.reward(), cmaesCurve,
                selecting ? tr.selectEvery() : null, selecting ? t.selectionCurve() : null, grids, refinements,
                refined);
        Path file = dir.resolve(FILE);
        Scores.write(file, summary);
        files.add(0, StageRuntime.relative(ctx, file));
        return new Output<>(new StageOutputs.Consistency(method, StageRuntime.relative(ctx, file), iterations, rows),
                files);
    }

    /** A refinement and, when its table was kept, the refined table's validated result. */
    private record Refined(Refinement refinement, Result result) {
    }

    /**
     * The grid refinement of one NFE's table {@code cs} (validated: {@code r} its held-out result, {@code unrefined}
     * its row): CMA-ES on the fit rows from the table's grid, journaled per evaluation in {@code refine-<key>.txt}
     * (key: the trainer checkpoint's name, the table, the settings and rows) so a killed stage continues with the same
     * bytes; a grid that beats the table on the selection rows is published as {@code <method>+grid-nfe<n>.json},
     * validated on the held-out seeds against the table on its own grid (its base in the validation) and the best
     * untuned baseline.
     */
    private static Refined refine(StageContext ctx, Path dir, Path checkpoint, Denoiser d, Guidance g,
                                  Evaluation.Targets fitT, Evaluation.Targets sel, Evaluation.Targets ho,
                                  CoefficientSet cs, Evaluation.Result r, Result unrefined, Scores.BaselinePick bl,
                                  String method, io.solvertune.tuning.fit.consistency.GridRefinement.Settings rs,
                                  int fitFrom, int batch) throws IOException {
        int nfe = cs.nfe();
        String key = Hashing.sha256(checkpoint.getFileName() + "\n" + cs.toJson() + "\n" + Json.canonical(rs.asMap())
                + "\n" + fitT.from() + ":" + fitT.to() + "\n" + sel.from() + ":" + sel.to()).substring(0, 16);
        io.solvertune.tuning.fit.timesteps.FileJournal file = io.solvertune.tuning.fit.timesteps.FileJournal.open(
                dir.resolve(String.format(Locale.ROOT, "refine-nfe%d-%s.txt", nfe, key)));
        io.solvertune.tuning.fit.timesteps.TimestepOptimizer.Journal journal =
                new io.solvertune.tuning.fit.timesteps.TimestepOptimizer.Journal() {
                    @Override
                    public Double recorded(int index, double[] grid) {
                        Double l = file.recorded(index, grid);
                        if (l == null) {
                            StageRuntime.checkCancelled(ctx);   // before every evaluation computed
                            ctx.progress(index, rs.evaluations(), String.format(Locale.ROOT,
                                    "refine-grid: NFE %d evaluation %d/%d", nfe, index + 1, rs.evaluations()));
                        }
                        return l;
                    }

                    @Override
                    public void record(int index, double[] grid, double loss) {
                        file.record(index, grid, loss);
                    }
                };
        var o = io.solvertune.tuning.fit.consistency.GridRefinement.refine(d, g, fitT, sel, cs, batch,
                StageRuntime.dtype(ctx), rs, journal);
        var opt = o.optimisation();
        var param = new io.solvertune.tuning.fit.timesteps.GridParameterisation(d.schedule(), fitT.tStart(),
                fitT.tEnd(), nfe);
        List<double[]> trace = opt.trace().stream().map(t -> new double[] {t.evaluation(), t.start(), t.loss()})
                .toList();
        List<double[]> gens = opt.generations().stream().map(x -> new double[] {x.evaluation(), x.start(), x.loss(),
            x.best()}).toList();
        var lg = new io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid(cs.base().label() + " table "
                + cs.spacing().id() + " (coefficients fixed)", nfe, fitT.to() - fitT.from(), TimestepsStage.OBJECTIVE,
                param.coordinate().name().toLowerCase(Locale.ROOT), "cma-es", rs.evaluations(), opt.evaluations(),
                rs.sigma(), 0, rs.seed(), "table", o.startGrid(), null, null, opt.startLosses()[0], null, opt.loss(),
                opt.improved(), opt.grid(), trace, gens, o.chosen(), fitFrom == 0 ? null : fitFrom);
        Double s0 = Double.isNaN(o.startSelectionMse()) ? null : o.startSelectionMse();
        Double s1 = Double.isNaN(o.refinedSelectionMse()) ? null : o.refinedSelectionMse();
        if (!o.chosen()) {
            ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: grid refinement kept the table's own grid (%s)",
                    ctx.stage().name(), nfe, !opt.improved() ? "no grid beat it on the fit rows in "
                            + opt.evaluations() + " evaluations" : String.format(Locale.ROOT,
                            "selection MSE %.5g on the optimised grid vs %.5g on its own", s1, s0)));
            return new Refined(new Refinement(nfe, lg, s0, s1, false, null, null), null);
        }
        var rset = io.solvertune.tuning.fit.consistency.GridRefinement.refinedSet(cs, o, rs);
        Evaluation.Result rr = Evaluation.evaluate(d, g, ho, candidate(rset), nfe, batch,
                StageRuntime.dtype(ctx), 0).result();
        Evaluation.Result blr = bl.heldOut().result();
        CoefficientSet.Validation v = new CoefficientSet.Validation(rr.seeds(), rr.meanMse(), rr.stdErr(),
                r.meanMse(), r.stdErr(), CoefficientSet.Verdict.of(rr, r), bl.candidate().name(), blr.meanMse(),
                CoefficientSet.Verdict.of(rr, blr)).withQuantiles(rr, r, blr);
        rset = rset.withValidation(v);
        String refinedMethod = method + io.solvertune.tuning.fit.consistency.GridRefinement.METHOD_SUFFIX;
        Path f = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", refinedMethod, nfe));
        StageCheckpoint.writeAtomically(f, rset.toJson().getBytes(StandardCharsets.UTF_8));
        String rel = StageRuntime.relative(ctx, f);
        double[] q = quantiles(rr.perSeed());
        double[] ql = quantiles(blr.perSeed());
        Result res = new Result(nfe, rel, unrefined.inference(), Map.of(unrefined.inference(), s1),
                Scores.Score.of(rr), q[0], q[1], unrefined.heldOut(), unrefined.median(), unrefined.p99(), v.vsBase(),
                bl.candidate().name(), bl.heldOut(), ql[0], ql[1], rr.diffStdErr(blr), v.vsBaseline(),
                unrefined.selectedIteration(), null);
        ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: refined grid (selection MSE %.5g vs %.5g on its own): "
                        + "held-out MSE %.5g ± %.2g (median %.3g, p99 %.3g) vs the table %.5g (%s, paired s.e. %.2g), "
                        + "best baseline %s %.5g (%s)", ctx.stage().name(), nfe, s1, s0, rr.meanMse(), rr.stdErr(),
                q[0], q[1], r.meanMse(), v.vsBase(), rr.diffStdErr(r), bl.candidate().name(), blr.meanMse(),
                v.vsBaseline()));
        return new Refined(new Refinement(nfe, lg, s0, s1, true, rel, rr.diffStdErr(r)), res);
    }

    /** {@code extra} and, on a learned grid, where the grid came from ({@code grid}: variant, selection MSE, source). */
    private static Map<String, Object> withGrid(Map<String, Object> extra, ConsistencyGrid cg) {
        if (cg == null) {
            return extra;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        if (extra != null) {
            m.putAll(extra);
        }
        Map<String, Object> grid = new LinkedHashMap<>();
        grid.put("variant", cg.variant());
        if (cg.selectionMse() != null) {
            grid.put("selectionMse", cg.selectionMse());
        }
        grid.put("source", cg.source());
        m.put("grid", grid);
        return m;
    }

    /**
     * The grid of every job NFE from the {@code timesteps} stage: among its learned grids at that NFE that take one
     * step per model call (ConsistencySolver's first-order steps; a singlestep solver's grid has fewer), the one with
     * the lowest error of its own solver on the selection rows, the criterion the {@code timesteps} stage chose by
     * (its published set when that is such a grid, else the learned grids are scored again, deterministically). An
     * NFE without such a grid is left out (no table there).
     */
    static List<ConsistencyGrid> learnedGrids(StageContext ctx, StageParams.Consistency p, Denoiser d, Guidance g,
                                              Evaluation.Targets sel) throws IOException {
        StageParams.Eval e = p.eval();
        StageOutputs.Fit ts = input(ctx, p.timesteps(), StageOutputs.Fit.class);
        List<io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid> all = ts.grids() == null ? List.of()
                : TimestepsStage.readGrids(file(ctx, ts.grids()));
        Map<String, io.solvertune.tuning.fit.timesteps.LearnedTimesteps.Variant> variants = new LinkedHashMap<>();
        for (Candidate c : BaselineStage.untuned(e.spacings())) {
            var v = io.solvertune.tuning.fit.timesteps.LearnedTimesteps.Variant.of(c);
            variants.put(v.label(), v);
        }
        List<ConsistencyGrid> out = new ArrayList<>();
        for (int nfe : Arrays.stream(e.nfeArray()).filter(n -> n >= 2).distinct().sorted().toArray()) {
            StageRuntime.checkCancelled(ctx);
            List<io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid> fit = all.stream()
                    .filter(lg -> lg.nfe() == nfe && lg.grid().length == nfe + 1 && variants.containsKey(lg.variant()))
                    .toList();
            StageOutputs.FitRow row = ts.results().stream().filter(r -> r.nfe() == nfe && r.file() != null)
                    .findFirst().orElse(null);
            CoefficientSet chosen = row == null ? null
                    : CoefficientSet.fromJson(Files.readString(file(ctx, row.file())));
            ConsistencyGrid best = choose(nfe, fit, chosen, row == null ? null : row.selectMse(), p.timesteps(),
                    lg -> {
                        var v = variants.get(lg.variant());
                        Candidate c = new Candidate(io.solvertune.tuning.fit.timesteps.LearnedTimesteps.METHOD + " "
                                + lg.variant(), v.solver(), new io.solvertune.numerics.schedule.TimestepSpacing
                                .Explicit(lg.grid()), true, false, null, null);
                        return Evaluation.evaluate(d, g, sel, c, nfe, e.batch(), StageRuntime.dtype(ctx), 0).result()
                                .meanMse();
                    });
            if (best != null) {
                out.add(best);
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: on the grid learned for %s (selection MSE "
                        + "%.5g)", ctx.stage().name(), nfe, best.variant(), best.selectionMse()));
            }
        }
        return out;
    }

    /**
     * One NFE's grid among {@code eligible} (the learned grids of that NFE with {@code nfe + 1} times, of known
     * variants): the {@code timesteps} stage's published set {@code chosen} when it runs one of them (its selection
     * error {@code chosenSelect}, nothing scored), else the eligible grid with the lowest {@code score} (the
     * selection-row error of its own solver; the first of equals); null when none is eligible.
     */
    static ConsistencyGrid choose(int nfe, List<io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid> eligible,
                                  CoefficientSet chosen, Double chosenSelect, String source,
                                  java.util.function.ToDoubleFunction<io.solvertune.tuning.publish.ConfigProvenance
                                          .LearnedGrid> score) {
        if (chosen != null && chosen.baseSpacing() != null) {
            for (var lg : eligible) {
                if (Arrays.equals(lg.grid(), chosen.times())) {
                    return new ConsistencyGrid(nfe, lg.grid(), lg.variant(), chosenSelect, source, lg);
                }
            }
        }
        ConsistencyGrid best = null;
        for (var lg : eligible) {
            double mse = score.applyAsDouble(lg);
            if (best == null || mse < best.selectionMse()) {
                best = new ConsistencyGrid(nfe, lg.grid(), lg.variant(), mse, source, lg);
            }
        }
        return best;
    }

    /** How the stage refuses a prior for the CMA-ES ablation. */
    static final String PRIOR_NOT_CMAES = "prior: the CMA-ES ablation searches each table from the neutral "
            + "coefficients; the multistep prior is for the RL and direct-gradient trainers";

    /** How the stage refuses a classifier reward for an ablation. */
    static final String REWARD_ONLY_RL = "classifierReward: only the RL trainer takes a classifier reward (the "
            + "ablations minimise the final-state MSE)";

    /** The reward's classifier, checked against its recorded sha256; null without a reward. */
    private static TorchScriptClassifier classifier(StageParams.Reward reward) throws IOException {
        if (reward == null) {
            return null;
        }
        Path f = Path.of(reward.file());
        if (!Files.isRegularFile(f) || !Hashing.sha256(f).equals(reward.sha256())) {
            throw new IllegalStateException("classifierReward: " + f + " is missing or changed since the stage was "
                    + "planned (sha256 " + reward.sha256() + ")");
        }
        return new TorchScriptClassifier(f);
    }

    static Summary read(Path file) throws IOException {
        return Json.MAPPER.readValue(file.toFile(), Summary.class);
    }

    /** The set as an evaluation candidate (its exact grid is in its solver). */
    static Candidate candidate(CoefficientSet cs) {
        return new Candidate(TuningJobSpec.CONSISTENCY_SOLVER + " " + cs.spacing().id(), MethodCatalog.spec(cs),
                cs.spacing(), true, false, null, null);
    }

    /**
     * The trainer's checkpoint file of these parameters, model and training teacher; checkpoints of anything else in
     * the directory are deleted (they would be refused, or resume training on other data).
     */
    private static Path checkpoint(StageContext ctx, Path dir, TrajectorySet train, String grids) throws IOException {
        String key = Hashing.sha256(Json.canonical(ctx.stage().params()) + "\n" + ctx.model().contentHash() + "\n"
                + train.meta().sha256() + (grids.isEmpty() ? "" : "\n" + grids)).substring(0, 16);
        Path mine = dir.resolve("trainer-" + key + ".json");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path other : s.filter(f -> f.getFileName().toString().startsWith("trainer-")
                    && !f.equals(mine)).toList()) {
                ctx.log("WARN", ctx.stage().name() + ": deleting the training checkpoint " + other.getFileName()
                        + " of other parameters or data");
                Files.delete(other);
            }
        }
        return mine;
    }

    /**
     * Progress to the job (the trainer's line: NFE, reward, MSE ratio to DDIM, running ratio); about ten of the lines
     * also go to the job's log.
     */
    private static Progress progress(StageContext ctx, int iterations) {
        Progress p = StageRuntime.progress(ctx);
        int every = Math.max(1, iterations / 10);
        return (stage, done, total, message) -> {
            p.report(stage, done, total, message);
            if (stage.equals("consistency-train") && (done % every == 0 || done == total)) {
                ctx.log("INFO", ctx.stage().name() + ": iteration " + done + "/" + total + ": " + message);
            }
        };
    }

    static String policyId(TrainerSettings st) {
        return st.policy() == TrainerSettings.PolicyKind.CATEGORICAL ? "categorical-" + st.bins()
                : "gaussian";
    }

    /** Stride of the thinned curve. */
    static int curveEvery(int n) {
        return Math.max(1, (n + CURVE_POINTS - 1) / CURVE_POINTS);
    }

    /** Every {@link #curveEvery}-th point of the curve, and its last. */
    static List<ConsistencyTrainer.CurvePoint> thin(List<ConsistencyTrainer.CurvePoint> curve) {
        int every = curveEvery(curve.size());
        List<ConsistencyTrainer.CurvePoint> out = new ArrayList<>();
        for (int i = 0; i < curve.size(); i++) {
            if (i % every == 0 || i == curve.size() - 1) {
                out.add(curve.get(i));
            }
        }
        return out;
    }

    /** The selection-row MSE of the last scored snapshot at {@code nfe} in {@code mode} (NaN if none). */
    static double lastSelection(List<ConsistencyTrainer.SelectionPoint> curve, int nfe, int iteration, String mode) {
        for (int i = curve.size() - 1; i >= 0; i--) {
            ConsistencyTrainer.SelectionPoint sp = curve.get(i);
            if (sp.nfe() == nfe && sp.inference().equals(mode)) {
                return sp.iteration() == iteration ? sp.mse() : Double.NaN;
            }
        }
        return Double.NaN;
    }

    /** Mean MSE ratio to DDIM over the last tenth of the curve. */
    static double lastTenthRatio(List<ConsistencyTrainer.CurvePoint> curve) {
        int n = curve.size();
        if (n == 0) {
            return Double.NaN;
        }
        return curve.subList(n - Math.max(1, n / 10), n).stream()
                .mapToDouble(ConsistencyTrainer.CurvePoint::ratioToNeutral).average().orElse(Double.NaN);
    }

    /** Median and 99th percentile (nearest rank) of per-seed errors. */
    static double[] quantiles(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return new double[] {n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]),
            s[Math.min(n - 1, (int) Math.ceil(0.99 * n) - 1)]};
    }
}
