package io.solvertune.tuning.job;

import com.fasterxml.jackson.core.type.TypeReference;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.timesteps.DirectoryCheckpoints;
import io.solvertune.tuning.fit.timesteps.GitsInitialiser;
import io.solvertune.tuning.fit.timesteps.GridParameterisation;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.fit.timesteps.TimestepOptimizer;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Learned timesteps of the untuned solvers ({@link LearnedTimesteps#run}): per NFE the grid of the best untuned
 * baseline's solver (and of the next best distinct untuned solvers of the baseline sweep, {@code variants}) is learned
 * on training rows {@code [fitFrom, fitFrom + fitRows)} by CMA-ES from its own spacing and the GITS grid; the published grid is the
 * one with the lowest absolute error on the selection rows among the learned and the untuned grids, validated on the
 * held-out seeds against its own base and the best untuned baseline. Writes {@code timesteps-nfe<n>.json} per NFE
 * (a {@code TIMESTEPS} coefficient set, wall times left out) and {@value #GRIDS}, every learned grid's optimisation
 * ({@link ConfigProvenance.LearnedGrid}) and {@value Scores#SCORES}: per NFE the chosen set's per-seed scores
 * (selection, held-out, its base, the best untuned baseline) and every candidate's selection error.
 *
 * <p>Resumable within the stage: every loss evaluation of CMA-ES is journaled and the GITS grids are stored
 * ({@link DirectoryCheckpoints} under {@code progress/}); a killed stage replays the recorded losses, continues with
 * the next evaluation and writes the same bytes as an uninterrupted run.
 */
final class TimestepsStage extends TypedStage<StageParams.Timesteps, StageOutputs.Fit> {
    /** The learned grids' optimisations. */
    static final String GRIDS = "grids.json";
    /** What the final-state objective is called in provenance. */
    static final String OBJECTIVE = "final-state-mse";

    TimestepsStage() {
        super(StageParams.Timesteps.class);
    }

    @Override
    protected Output<StageOutputs.Fit> run(StageContext ctx, StageParams.Timesteps p, Path dir) throws Exception {
        StageParams.Eval e = p.eval();
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        int fitFrom = p.firstFitRow();
        Evaluation.Targets fitT = Scores.targets(train, fitFrom, fitFrom + p.fitRows());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, e);
        Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, p.baseline(), StageOutputs.Baselines.class)
                .file()));
        LearnedTimesteps.Settings s = settings(p.settings());
        List<StageOutputs.FitRow> rows = new ArrayList<>();
        List<String> files = new ArrayList<>();
        List<ConfigProvenance.LearnedGrid> grids = new ArrayList<>();
        List<Scores.SetScores> scores = new ArrayList<>();
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            FitContext fc = fitContext(ctx, d, g, train, fitT, e);
            LearnedTimesteps.Checkpoints cp = checkpoints(ctx, dir, g, train, p.fitFrom(), p.fitRows(), p.settings(),
                    e.batch());
            for (Scores.BaselinePick pick : base.picks()) {
                StageRuntime.checkCancelled(ctx);
                List<LearnedTimesteps.Variant> variants = variants(pick, p.settings().variants(), e.spacings());
                LearnedTimesteps.Outcome o = LearnedTimesteps.run(fc, fitT, sel, ho, pick.nfe(), variants,
                        pick.choice(), s, cp);
                for (LearnedTimesteps.Learned l : o.learned()) {
                    grids.add(learnedGrid(l, p.settings(), p.fitFrom(), p.fitRows()));
                }
                if (o.chosen() == null) {
                    rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), null, null, null, null, null, null));
                    ctx.log("WARN", String.format(Locale.ROOT, "%s NFE %d: no grid learned (%s)", ctx.stage().name(),
                            o.nfe(), String.join("; ", o.failures())));
                    continue;
                }
                CoefficientSet set = CoefficientFitStage.reproducible(o.chosen());
                CoefficientSet.Validation v = set.validation();
                Path f = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", LearnedTimesteps.METHOD, o.nfe()));
                StageCheckpoint.writeAtomically(f, set.toJson().getBytes(StandardCharsets.UTF_8));
                files.add(StageRuntime.relative(ctx, f));
                scores.add(new Scores.SetScores(o.nfe(), LearnedTimesteps.name(set), Scores.Score.of(o.select()),
                        Scores.Score.of(o.heldOut()), Scores.Score.of(o.base()), pick.heldOut(),
                        o.selects().stream().map(Scores.Score::of).toList()));
                rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), StageRuntime.relative(ctx, f),
                        LearnedTimesteps.name(set), o.select().meanMse(), v.mse(), v.baseMse(), v.publishable(),
                        v.median(), v.p99()));
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g vs base %.5g (%s), vs "
                        + "best untuned %s %.5g (%s)", ctx.stage().name(), o.nfe(), LearnedTimesteps.name(set),
                        v.mse(), v.baseMse(), v.vsBase(), v.baseline(), v.baselineMse(), v.vsBaseline()));
            }
        }
        Path gf = dir.resolve(GRIDS);
        Scores.write(gf, grids);
        files.add(StageRuntime.relative(ctx, gf));
        Path sf = dir.resolve(Scores.SCORES);
        Scores.write(sf, scores);
        files.add(StageRuntime.relative(ctx, sf));
        return new Output<>(new StageOutputs.Fit(LearnedTimesteps.METHOD, rows, StageRuntime.relative(ctx, gf),
                StageRuntime.relative(ctx, sf)), files);
    }

    /** The library settings of the spec's. */
    static LearnedTimesteps.Settings settings(TuningJobSpec.Timesteps t) {
        return new LearnedTimesteps.Settings(new TimestepOptimizer.Settings(t.evaluations(), t.sigma(),
                t.population(), t.seed()), t.gitsPoints() == 0 ? null : new GitsInitialiser.Settings(t.gitsPoints(),
                new TimestepSpacing.LogSnr(), t.teacherSteps()), t.gitsRows());
    }

    /** The fit context on the fit rows (as the coefficient fits build it). */
    static FitContext fitContext(StageContext ctx, Denoiser d, Guidance g, TrajectorySet train,
                                 Evaluation.Targets fitT, StageParams.Eval e) {
        CoefficientSet.Provenance prov = new CoefficientSet.Provenance(ctx.model().contentHash(),
                d.schedule().spec(), g, train.meta().teacher(), null, CodeVersion.get(), null, null);
        return new FitContext(d, g, fitT.seeds(), fitT.initial(), fitT.sampleShape(), fitT.tStart(), fitT.tEnd(),
                StageRuntime.dtype(ctx), e.batch(), StageRuntime.progress(ctx), prov);
    }

    /**
     * The learning's progress files under {@code dir/progress}, keyed by everything a learned grid depends on besides
     * its variant and NFE: model, conditioning, teacher set, rows ({@code fitFrom} null or 0: the first
     * {@code fitRows}, the key a job's stages have always had), settings, batch and arithmetic.
     */
    static LearnedTimesteps.Checkpoints checkpoints(StageContext ctx, Path dir, Guidance g, TrajectorySet train,
                                                    Integer fitFrom, int fitRows, TuningJobSpec.Timesteps t,
                                                    int batch) {
        String rows = fitFrom == null || fitFrom == 0 ? Integer.toString(fitRows) : fitFrom + ":" + fitRows;
        String key = Hashing.sha256(ctx.model().contentHash() + "\n" + Json.canonical(g) + "\n"
                + train.meta().sha256() + "\n" + rows + "\n" + Json.canonical(t) + "\n" + batch + "\n"
                + StageRuntime.dtype(ctx));
        return new DirectoryCheckpoints(dir.resolve("progress"), key);
    }

    /**
     * The variants at one NFE: the best untuned baseline's solver and spacing, then the next best untuned candidates
     * of other solvers (by selection error), {@code count} in all.
     */
    static List<LearnedTimesteps.Variant> variants(Scores.BaselinePick pick, int count,
                                                  List<SpacingName> spacings) {
        List<LearnedTimesteps.Variant> out = new ArrayList<>();
        out.add(LearnedTimesteps.Variant.of(pick.candidate()));
        if (count <= 1 || pick.ranked() == null) {
            return out;
        }
        Map<String, Candidate> byName = new LinkedHashMap<>();
        for (Candidate c : BaselineStage.untuned(spacings)) {
            byName.put(c.name(), c);
        }
        List<String> solvers = new ArrayList<>(List.of(pick.candidate().solver().label()));
        for (String name : pick.ranked()) {
            Candidate c = byName.get(name);
            if (out.size() >= count) {
                break;
            }
            if (c != null && !solvers.contains(c.solver().label())) {
                solvers.add(c.solver().label());
                out.add(LearnedTimesteps.Variant.of(c));
            }
        }
        return out;
    }

    /** A learned grid's optimisation as provenance records it. */
    static ConfigProvenance.LearnedGrid learnedGrid(LearnedTimesteps.Learned l, TuningJobSpec.Timesteps t,
                                                    Integer fitFrom, int fitRows) {
        TimestepOptimizer.Result r = l.result();
        List<double[]> trace = r.trace().stream().map(tp -> new double[] {tp.evaluation(), tp.start(), tp.loss()})
                .toList();
        List<double[]> gens = r.generations().stream().map(x -> new double[] {x.evaluation(), x.start(), x.loss(),
                x.best()}).toList();
        double[] sl = r.startLosses();
        return new ConfigProvenance.LearnedGrid(l.variant().label(), l.nfe(), fitRows, OBJECTIVE,
                l.coordinate().name().toLowerCase(Locale.ROOT), "cma-es", t.evaluations(), r.evaluations(), t.sigma(),
                t.population(), t.seed(), r.fromStart() == 0 ? "spacing" : "gits", l.startGrid(), l.gitsGrid(),
                l.gitsFailure(), sl[0], sl.length > 1 ? sl[1] : null, r.loss(), r.improved(), r.grid(), trace, gens,
                null, fitFrom == null || fitFrom == 0 ? null : fitFrom);
    }

    /** The learned grid again, for a method fitted on it (its variant resolved among {@code variants}). */
    static LearnedTimesteps.Learned learned(ConfigProvenance.LearnedGrid g, LearnedTimesteps.Variant variant) {
        List<TimestepOptimizer.TracePoint> trace = g.trace().stream().map(x -> new TimestepOptimizer.TracePoint(
                (int) x[0], (int) x[1], x[2])).toList();
        List<TimestepOptimizer.Generation> gens = g.generations().stream().map(x -> new TimestepOptimizer.Generation(
                (int) x[0], (int) x[1], x[2], x[3])).toList();
        double[] sl = g.gitsObjective() == null ? new double[] {g.startObjective()}
                : new double[] {g.startObjective(), g.gitsObjective()};
        TimestepOptimizer.Result r = new TimestepOptimizer.Result(g.grid(), g.endObjective(),
                "gits".equals(g.initialiser()) ? 1 : 0, g.improved(), sl, g.evaluations(), 0, trace, gens, 0);
        return new LearnedTimesteps.Learned(variant, g.nfe(), g.startGrid(), g.gitsGrid(),
                GridParameterisation.Coordinate.valueOf(g.coordinate().toUpperCase(Locale.ROOT)), r, g.gitsFailure());
    }

    /** The learned grids a stage wrote ({@value #GRIDS}). */
    static List<ConfigProvenance.LearnedGrid> readGrids(Path file) throws IOException {
        return Json.MAPPER.readValue(file.toFile(), new TypeReference<List<ConfigProvenance.LearnedGrid>>() { });
    }
}
