package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.Platform;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.CandidateFile;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigValues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the job's results into typed {@link ConfigCandidate}s (the publish contract), per guidance scale and NFE:
 * the best untuned baseline ({@code validated}), every chosen coefficient set ({@code validated} =
 * {@link CoefficientSet.Validation#publishable()}), DPM-Solver-v3 with its statistics ({@code validated} = beats
 * DPM-Solver++ of the same order on the same grid) and ConsistencySolver's per-NFE tables ({@code validated} = beats
 * its own base, the form's first-order solver on the same grid; provenance with its training) and DPM-Solver-v3 on
 * learned grids ({@code dpmsolver-v3+timesteps}: interpolated positions, {@code validated} = beats the snapped v3,
 * the grid's optimisation in provenance). Writes them to {@value #FILE} (a JSON array of
 * {@link ConfigCandidate#toJson}); the output is a summary row per candidate naming the file and its sha256
 * ({@link CandidateFile}), so the statistics stay out of the job tables. Holds no wall times or paths outside the work directory, so an interrupted
 * and resumed job gives the same bytes as an uninterrupted one.
 */
final class PublishStage extends TypedStage<StageParams.Publish, List<CandidateFile.Row>> {
    static final String FILE = CandidateFile.NAME;

    PublishStage() {
        super(StageParams.Publish.class);
    }

    @Override
    protected Output<List<CandidateFile.Row>> run(StageContext ctx, StageParams.Publish p, Path dir)
            throws Exception {
        List<ConfigCandidate> out = new ArrayList<>();
        for (StageParams.Group g : p.groups()) {
            StageRuntime.checkCancelled(ctx);
            Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, g.baseline(),
                    StageOutputs.Baselines.class).file()));
            Map<Integer, List<ConfigCandidate>> byNfe = new LinkedHashMap<>();
            for (Scores.BaselinePick b : base.picks()) {
                byNfe.computeIfAbsent(b.nfe(), n -> new ArrayList<>()).add(baseline(ctx, p, g, base, b));
            }
            for (String fit : g.fits()) {
                StageOutputs.Fit fo = input(ctx, fit, StageOutputs.Fit.class);
                List<ConfigProvenance.LearnedGrid> grids = fo.grids() == null ? List.of()
                        : TimestepsStage.readGrids(file(ctx, fo.grids()));
                for (StageOutputs.FitRow row : fo.results()) {
                    if (row.file() == null) {
                        continue;
                    }
                    CoefficientSet set = CoefficientSet.fromJson(Files.readString(file(ctx, row.file())));
                    ConfigCandidate c = fitted(ctx, p, g, base, fo.method(), fit, set);
                    ConfigProvenance.LearnedGrid lg = learnedGrid(grids, set);
                    if (lg != null) {
                        c = new ConfigCandidate(c.modelId(), c.method(), c.solver(), c.solverOptions(), c.nfe(),
                                c.guidance(), c.spacing(), c.tStart(), c.tEnd(), c.values(), c.metrics(),
                                c.provenance().withLearnedGrid(lg), c.validated(), c.heldOutMse());
                    }
                    byNfe.computeIfAbsent(set.nfe(), n -> new ArrayList<>()).add(c);
                }
            }
            for (String stage : java.util.Arrays.asList(g.consistency(), g.consistencyTimesteps())) {
                if (stage == null) {
                    continue;
                }
                StageOutputs.Consistency co = input(ctx, stage, StageOutputs.Consistency.class);
                ConsistencyStage.Summary summary = ConsistencyStage.read(file(ctx, co.file()));
                for (ConsistencyStage.Result r : summary.results()) {
                    CoefficientSet set = CoefficientSet.fromJson(Files.readString(file(ctx, r.file())));
                    byNfe.computeIfAbsent(set.nfe(), n -> new ArrayList<>()).add(
                            consistency(ctx, p, g, base, summary, r, set, co.method(), stage));
                }
                // the tables on their refined grids (consistency.refineGrid), each its own candidate: validated only
                // where it beats its table on the table's grid and that table beats its base
                for (ConsistencyStage.Result r : summary.refined() == null ? List.<ConsistencyStage.Result>of()
                        : summary.refined()) {
                    CoefficientSet set = CoefficientSet.fromJson(Files.readString(file(ctx, r.file())));
                    ConsistencyStage.Refinement rf = summary.refinements().stream().filter(x -> x.nfe() == r.nfe())
                            .findFirst().orElseThrow(() -> new IllegalStateException(stage + ": no refinement of NFE "
                                    + r.nfe() + " in its summary"));
                    boolean tableValidated = summary.results().stream().anyMatch(x -> x.nfe() == r.nfe()
                            && x.vsBase() == CoefficientSet.Verdict.BEATS);
                    ConfigCandidate c = consistency(ctx, p, g, base, summary, r, set, co.method()
                            + io.solvertune.tuning.fit.consistency.GridRefinement.METHOD_SUFFIX, stage);
                    c = new ConfigCandidate(c.modelId(), c.method(), c.solver(), c.solverOptions(), c.nfe(),
                            c.guidance(), c.spacing(), c.tStart(), c.tEnd(), c.values(), c.metrics(),
                            c.provenance().withLearnedGrid(rf.optimisation()), c.validated() && tableValidated,
                            c.heldOutMse());
                    byNfe.computeIfAbsent(set.nfe(), n -> new ArrayList<>()).add(c);
                }
                // alternating rounds (consistency.refineRounds): a choice from a round of at least 2, its own
                // candidate with that round's training; a refined one validated only where its table beats its base
                for (ConsistencyStage.Result r : summary.rounded() == null ? List.<ConsistencyStage.Result>of()
                        : summary.rounded()) {
                    byNfe.computeIfAbsent(r.nfe(), n -> new ArrayList<>()).add(rounded(ctx, p, g, base, summary, r,
                            co.method(), stage));
                }
            }
            if (g.v3() != null) {
                StageOutputs.V3 vo = input(ctx, g.v3(), StageOutputs.V3.class);
                DpmSolverV3Stage.Picks picks = DpmSolverV3Stage.read(file(ctx, vo.file()));
                EmpiricalModelStatistics ems = statistics(ctx, vo.emsOutput());
                for (DpmSolverV3Stage.Pick pk : picks.picks()) {
                    byNfe.computeIfAbsent(pk.nfe(), n -> new ArrayList<>()).add(v3(ctx, p, g, base, pk, ems,
                            io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.SNAPPED, MethodId.DPMSOLVER_V3.id(),
                            g.v3()));
                }
            }
            if (g.v3Timesteps() != null) {
                StageOutputs.V3Timesteps vt = input(ctx, g.v3Timesteps(), StageOutputs.V3Timesteps.class);
                DpmSolverV3Stage.Picks picks = DpmSolverV3Stage.read(file(ctx, vt.file()));
                List<ConfigProvenance.LearnedGrid> grids = TimestepsStage.readGrids(file(ctx, vt.grids()));
                EmpiricalModelStatistics ems = statistics(ctx, vt.emsOutput());
                for (DpmSolverV3Stage.Pick pk : picks.picks()) {
                    ConfigCandidate c = v3(ctx, p, g, base, pk, ems,
                            io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.INTERPOLATED,
                            MethodId.DPMSOLVER_V3.id() + StageOutputs.TIMESTEPS_SUFFIX, g.v3Timesteps());
                    ConfigProvenance.LearnedGrid lg = grids.stream().filter(x -> x.nfe() == pk.nfe()
                            && java.util.Arrays.equals(x.grid(), pk.times())).findFirst().orElseThrow(
                            () -> new IllegalStateException(g.v3Timesteps() + ": no learned grid of NFE " + pk.nfe()));
                    c = new ConfigCandidate(c.modelId(), c.method(), c.solver(), c.solverOptions(), c.nfe(),
                            c.guidance(), c.spacing(), c.tStart(), c.tEnd(), c.values(), c.metrics(),
                            c.provenance().withLearnedGrid(lg.withPublished(true)), c.validated(), c.heldOutMse());
                    byNfe.computeIfAbsent(pk.nfe(), n -> new ArrayList<>()).add(c);
                }
            }
            byNfe.values().forEach(out::addAll);
        }
        Path file = dir.resolve(FILE);
        StageCheckpoint.writeAtomically(file, CandidateFile.bytes(out));
        long validated = out.stream().filter(ConfigCandidate::validated).count();
        ctx.log("INFO", "publish: " + out.size() + " candidates, " + validated + " validated");
        ctx.progress(1, 1, out.size() + " candidates, " + validated + " validated");
        return new Output<>(CandidateFile.rows(StageRuntime.relative(ctx, file), Hashing.sha256(file), out),
                List.of(StageRuntime.relative(ctx, file)));
    }

    /**
     * The choice over alternating rounds of one NFE ({@code <method>+rounds}): the chosen round's table (or refined
     * table) with that round's training in its provenance (and the refinement's optimisation when refined).
     */
    private static ConfigCandidate rounded(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                           Scores.Baselines base, ConsistencyStage.Summary summary,
                                           ConsistencyStage.Result r, String method, String stage)
            throws java.io.IOException {
        ConsistencyRounds.Choice ch = summary.choices().stream().filter(x -> x.nfe() == r.nfe()).findFirst()
                .orElseThrow(() -> new IllegalStateException(stage + ": no round choice of NFE " + r.nfe()));
        ConsistencyRounds.Round rd = summary.rounds().get(ch.round() - 1);
        ConsistencyStage.Summary rs = ConsistencyStage.read(file(ctx, rd.summary()));
        CoefficientSet set = CoefficientSet.fromJson(Files.readString(file(ctx, r.file())));
        boolean refined = ch.chosen() == ConsistencyRounds.Kind.REFINED;
        ConfigCandidate c = consistency(ctx, p, g, base, rs, r, set, method + ConsistencyRounds.METHOD_SUFFIX, stage);
        if (!refined) {
            return c;
        }
        ConsistencyStage.Refinement rf = ConsistencyRounds.refinementOf(rs, r.nfe());
        boolean tableValidated = rs.results().stream().anyMatch(x -> x.nfe() == r.nfe()
                && x.vsBase() == CoefficientSet.Verdict.BEATS);
        return new ConfigCandidate(c.modelId(), c.method(), c.solver(), c.solverOptions(), c.nfe(), c.guidance(),
                c.spacing(), c.tStart(), c.tEnd(), c.values(), c.metrics(),
                c.provenance().withLearnedGrid(rf.optimisation()), c.validated() && tableValidated, c.heldOutMse());
    }

    private static ConfigCandidate baseline(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                            Scores.Baselines base, Scores.BaselinePick b) {
        Candidate c = b.candidate();
        double[] times = b.times();
        // the values run exactly the scored grid: its time range is the grid's
        Candidate run = new Candidate(c.name(), c.solver(), c.spacing(), c.lowerOrderFinal(), c.denoiseToZero(),
                times[0], times[times.length - 1]);
        ConfigMetrics metrics = ConfigMetrics.baseline(c.name(), b.heldOut().meanMse(), b.heldOut().stdErr(),
                b.heldOut().seeds(), b.select().meanMse(), b.candidatesTried(), b.heldOut().median(),
                b.heldOut().p99());
        SolverSpec s = c.solver();
        return new ConfigCandidate(ctx.model().id(), MethodId.BASELINE.id(), SolverCatalog.nameOf(s),
                options(s), b.nfe(), g.guidance(), c.spacing().id(), b.tStart(), b.tEnd(),
                ConfigValues.ofBaseline(run, c.stepsFor(b.nfe()), times), metrics,
                provenance(ctx, p, base, b.nfe(), times, metrics, g.baseline()), true, b.heldOut().meanMse());
    }

    private static ConfigCandidate fitted(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                          Scores.Baselines base, String method, String stage, CoefficientSet set) {
        CoefficientSet.Validation v = set.validation();
        ConfigMetrics metrics = ConfigMetrics.of(v);
        SolverSpec b = set.base();
        double[] times = set.times();
        return new ConfigCandidate(ctx.model().id(), method, catalogName(b), options(b), set.nfe(), g.guidance(),
                set.spacing().id(), times[0], times[times.length - 1], ConfigValues.of(set), metrics,
                provenance(ctx, p, base, set.nfe(), times, metrics, stage), v.publishable(), v.mse());
    }

    /**
     * A ConsistencySolver table: validated like every coefficient set (beats its own base by two paired standard
     * errors), metrics with the median and p99 of its per-seed held-out errors, provenance with its training; on a
     * learned grid ({@code consistency-solver+timesteps}) also with the grid's optimisation.
     */
    private static ConfigCandidate consistency(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                               Scores.Baselines base, ConsistencyStage.Summary s,
                                               ConsistencyStage.Result r, CoefficientSet set, String method,
                                               String stage) {
        CoefficientSet.Validation v = set.validation();
        ConfigMetrics m = ConfigMetrics.of(v);
        ConfigMetrics metrics = new ConfigMetrics(m.config(), m.heldOutMse(), m.heldOutStdErr(), m.heldOutSeeds(),
                r.selection().isEmpty() ? null : r.selection().get(r.inference()), m.candidatesTried(), m.baseMse(),
                m.baseStdErr(), m.ratioToBase(), m.vsBase(), m.baseline(), m.baselineMse(), m.ratioToBaseline(),
                m.vsBaseline(), r.median(), r.p99());
        SolverSpec b = set.base();
        double[] times = set.times();
        List<ConfigProvenance.RewardPoint> curve = ConsistencyStage.thin(s.curve()).stream()
                .map(c -> new ConfigProvenance.RewardPoint(c.iteration(), c.nfe(), c.reward(), c.ratioToNeutral()))
                .toList();
        List<ConfigProvenance.SelectionPoint> selCurve = r.selectedIteration() == null || s.selectionCurve() == null
                ? null : s.selectionCurve().stream().filter(c -> c.nfe() == r.nfe())
                .map(c -> new ConfigProvenance.SelectionPoint(c.iteration(), c.inference(), c.mse())).toList();
        ConfigProvenance.Training training = new ConfigProvenance.Training(s.trainer(), s.policyId(), r.inference(),
                s.settings(), s.iterations(), new ConfigProvenance.SeedRange(s.trainSeeds()[0], s.trainSeeds()[1]),
                ConsistencyStage.curveEvery(s.curve().size()), curve, selCurve == null ? null : s.selectEvery(),
                r.selectedIteration(), selCurve);
        ConfigProvenance prov = provenance(ctx, p, base, set.nfe(), times, metrics, stage);
        prov = prov.withTraining(training);
        if (s.grids() != null && !method.endsWith(io.solvertune.tuning.fit.consistency.GridRefinement.METHOD_SUFFIX)
                && !method.endsWith(ConsistencyRounds.METHOD_SUFFIX)) {
            ConsistencyGrid cg = s.grids().stream().filter(x -> x.nfe() == set.nfe()
                    && java.util.Arrays.equals(x.times(), times)).findFirst().orElseThrow(
                    () -> new IllegalStateException(stage + ": no grid of NFE " + set.nfe() + " in its summary"));
            if (cg.learned() != null) {
                prov = prov.withLearnedGrid(cg.learned().withPublished(true));
            }
        }
        // the flow form's base is its own neutral Euler-on-velocity step, which has no catalog entry
        String solver = b instanceof io.solvertune.numerics.solver.consistency.Consistency c
                ? "consistency-" + c.form().id() : catalogName(b);
        return new ConfigCandidate(ctx.model().id(), method, solver, options(b),
                set.nfe(), g.guidance(), set.spacing().id(), times[0], times[times.length - 1], ConfigValues.of(set),
                metrics, prov, v.publishable(), v.mse());
    }

    /**
     * The optimisation of the grid a set on learned timesteps was chosen from: that of its base solver and the
     * spacing it started from at its NFE; {@code published} says whether the set runs the learned grid (or the
     * untuned grid won the choice). Null for a set of a stage without learned grids.
     */
    static ConfigProvenance.LearnedGrid learnedGrid(List<ConfigProvenance.LearnedGrid> grids, CoefficientSet set) {
        io.solvertune.numerics.schedule.TimestepSpacing from = set.baseSpacing() != null ? set.baseSpacing()
                : set.spacing();
        String variant = new io.solvertune.tuning.fit.timesteps.LearnedTimesteps.Variant(set.base(), from).label();
        for (ConfigProvenance.LearnedGrid g : grids) {
            if (g.nfe() == set.nfe() && g.variant().equals(variant)) {
                return g.withPublished(set.baseSpacing() != null);
            }
        }
        return null;
    }

    /**
     * DPM-Solver-v3 with its statistics: the snapped sampler ({@code validate-dpmsolver-v3}) or, with interpolated
     * {@code positions}, on a learned grid ({@code timesteps-dpmsolver-v3}, method {@code dpmsolver-v3+timesteps};
     * its base the snapped v3).
     */
    private static ConfigCandidate v3(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                      Scores.Baselines base, DpmSolverV3Stage.Pick pk, EmpiricalModelStatistics ems,
                                      io.solvertune.numerics.solver.v3.DpmSolverV3.Positions positions, String method,
                                      String stage) {
        JsonNode opts = Json.MAPPER.valueToTree(new V3Options(pk.order(), pk.pPseudo(), pk.useCorrector(),
                pk.cPseudo()));
        var spec = new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, pk.order(), pk.pPseudo(), pk.useCorrector(),
                pk.cPseudo(), false, false, null).withPositions(positions);
        Scores.Score bl = base.picks().stream().filter(b -> b.nfe() == pk.nfe()).map(Scores.BaselinePick::heldOut)
                .findFirst().orElse(null);
        ConfigMetrics metrics = new ConfigMetrics(pk.name(), pk.heldOut().meanMse(), pk.heldOut().stdErr(),
                pk.heldOut().seeds(), pk.select().meanMse(), null, pk.base().meanMse(), pk.base().stdErr(),
                pk.heldOut().meanMse() / pk.base().meanMse(), pk.vsBase(), pk.baseline(), pk.baselineMse(),
                pk.heldOut().meanMse() / pk.baselineMse(), pk.vsBaseline(), pk.heldOut().median(),
                pk.heldOut().p99(), pk.base().median(), pk.base().p99(), bl == null ? null : bl.median(),
                bl == null ? null : bl.p99());
        return new ConfigCandidate(ctx.model().id(), method, MethodId.DPMSOLVER_V3.id(), opts,
                pk.nfe(), g.guidance(), pk.spacing().id(), pk.tStart(), pk.tEnd(),
                ConfigValues.ofDpmSolverV3(spec, pk.spacing(), pk.times().length - 1, true, false, pk.times()),
                metrics, provenance(ctx, p, base, pk.nfe(), pk.times(), metrics, stage), pk.publishable(),
                pk.heldOut().meanMse());
    }

    /** DPM-Solver-v3's options in a config's key, named as the official code's arguments. */
    record V3Options(int order, @JsonProperty("p_pseudo") boolean pPseudo,
                     @JsonProperty("use_corrector") boolean useCorrector, @JsonProperty("c_pseudo") boolean cPseudo) {
    }

    /** The statistics a fit-ems stage wrote (l.npz, sb.npz), checked against the sha256 it recorded. */
    static EmpiricalModelStatistics statistics(StageContext ctx, StageOutputs.Ems emsOutput)
            throws IOException {
        Path dir = file(ctx, emsOutput.dir());
        for (String f : List.of(EmsNpz.L_FILE, EmsNpz.SB_FILE)) {
            String want = emsOutput.sha256().getOrDefault(f, "");
            String got = Hashing.sha256(dir.resolve(f));
            if (!got.equals(want)) {
                throw new IOException(dir.resolve(f) + ": sha256 " + got + " differs from the recorded " + want);
            }
        }
        return EmsNpz.read(dir);
    }

    /** Model, schedule, guidance, NFE, grid, teacher, seeds, code version and platform, metrics and stage. */
    private static ConfigProvenance provenance(StageContext ctx, StageParams.Publish p, Scores.Baselines base,
                                               int nfe, double[] times, ConfigMetrics metrics, String stage) {
        ConfigProvenance.Seeds seeds = new ConfigProvenance.Seeds(
                new ConfigProvenance.SeedRange(base.trainSeeds()[0], base.trainSeeds()[1]),
                new ConfigProvenance.SeedRange(base.heldOutSeeds()[0], base.heldOutSeeds()[1]),
                new int[] {0, p.seeds().fitRows()}, p.seeds().coefficientFitRows(), base.selectRows(),
                base.heldOutSeeds()[1] >= TuningJobSpec.PUBLISHABLE_HELD_OUT);
        return new ConfigProvenance(ctx.jobId(), ctx.model().id(), ctx.model().name(), ctx.model().contentHash(),
                ctx.model().spec().schedule(), base.guidance(), nfe, times,
                new ConfigProvenance.Teachers(base.trainTeacher(), base.heldOutTeacher()), seeds, CodeVersion.get(),
                Platform.current(), metrics, stage);
    }

    private static String catalogName(SolverSpec s) {
        try {
            return SolverCatalog.nameOf(s);
        } catch (IllegalArgumentException e) {
            return s.label();
        }
    }

    private static JsonNode options(SolverSpec s) {
        return Json.MAPPER.valueToTree(SolverCatalog.options(s));
    }
}
