package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.fit.TunedMethods;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.publish.ConfigProvenance;

/**
 * One coefficient method ({@link MethodCatalog}, DC-Solver with the params' {@code dcBounds}) through
 * {@link TunedMethods}: fitted on training rows {@code [fitFrom, fitFrom + fitRows)} (fitFrom default 0), starting from the best untuned baseline's solver and spacing (where the method can use that
 * solver as its base; then the method's own variants), the variant (base solver x spacing) chosen per NFE by its
 * absolute error on the selection rows ({@link TunedMethods.Selection#ABSOLUTE_ERROR}, a base that wins published as
 * its neutral set), validated on the held-out seeds against its base solver (publishable only if it beats it) and the
 * best untuned baseline (the gain test: the params' {@code gainTest}, default paired mean). With learned timesteps ({@code <method>+timesteps}) every base's grid is learned first
 * (reusing the {@code timesteps} stage's grids, journaled like it) and the coefficients are fitted on it. Writes one {@code <method>-nfe<n>.json}
 * coefficient set per NFE (with its validation; wall times and creation time left out so that a rerun writes the
 * same bytes).
 */
final class CoefficientFitStage extends TypedStage<StageParams.Fit, StageOutputs.Fit> {

    CoefficientFitStage() {
        super(StageParams.Fit.class);
    }

    @Override
    protected Output<StageOutputs.Fit> run(StageContext ctx, StageParams.Fit p, Path dir) throws Exception {
        StageParams.Eval e = p.eval();
        TunedMethods.Method all = MethodCatalog.method(p.method(), p.dcBounds());
        boolean joint = p.timesteps() != null;
        String name = joint ? p.method().id() + "+" + LearnedTimesteps.METHOD : p.method().id();
        TunedMethods.GainTest gainTest = p.gainTest() == null ? TunedMethods.GainTest.PAIRED_MEAN : p.gainTest();
        List<StageOutputs.FitRow> rows = new ArrayList<>();
        List<String> files = new ArrayList<>();
        if (all.variants().stream().noneMatch(v -> e.spacings().contains(SpacingName.of(v.spacing()))) && !joint) {
            ctx.log("WARN", ctx.stage().name() + ": " + p.method() + " is fitted on none of the job's spacings "
                    + e.spacings() + "; only on the best untuned baseline's");
        }
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        int fitFrom = p.fitFrom() == null ? 0 : p.fitFrom();
        Evaluation.Targets fitT = Scores.targets(train, fitFrom, fitFrom + p.fitRows());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, e);
        Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, p.baseline(), StageOutputs.Baselines.class)
                .file()));
        List<TunedMethods.Outcome> outcomes = new ArrayList<>();
        List<Scores.Score> baselines = new ArrayList<>();
        Map<String, LearnedTimesteps.Learned> learned = new LinkedHashMap<>();
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            FitContext fc = TimestepsStage.fitContext(ctx, d, g, train, fitT, e);
            LearnedTimesteps.Checkpoints cp = null;
            LearnedTimesteps.Settings s = null;
            if (joint) {
                s = TimestepsStage.settings(p.timesteps());
                cp = TimestepsStage.checkpoints(ctx, dir, g, train, p.fitFrom(), p.fitRows(), p.timesteps(),
                        e.batch());
                if (p.grids() != null) {
                    known(ctx, p, e, learned);
                }
            }
            for (Scores.BaselinePick pick : base.picks()) {
                StageRuntime.checkCancelled(ctx);
                Candidate best = pick.candidate();
                TunedMethods.Method method = joint
                        ? LearnedTimesteps.joint(all, fitT, LearnedTimesteps.Variant.of(best), s, cp, learned,
                                bases(p.method(), all, best))
                        : new TunedMethods.Method(all.name(), all.fitter(), all.spec(), variants(p.method(), all,
                                best, e.spacings()));
                // the variant with the lowest absolute selection error, not the largest gain over its own base
                baselines.add(pick.heldOut());
                outcomes.addAll(TunedMethods.run(method, fc, d, g, sel, ho, new int[] {pick.nfe()},
                        List.of(pick.choice()), e.batch(), StageRuntime.dtype(ctx), StageRuntime.progress(ctx),
                        gainTest, TunedMethods.Selection.ABSOLUTE_ERROR));
            }
        }
        List<Scores.SetScores> scores = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            TunedMethods.Outcome o = outcomes.get(i);
            if (o.chosen() == null) {
                rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), null, null, null, null, null, null));
                ctx.log("WARN", String.format(Locale.ROOT, "%s NFE %d: no variant fitted (%s)", ctx.stage().name(),
                        o.nfe(), String.join("; ", o.failures())));
                continue;
            }
            CoefficientSet set = reproducible(o.chosen());
            CoefficientSet.Validation v = set.validation();
            Path file = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", name, o.nfe()));
            StageCheckpoint.writeAtomically(file, set.toJson().getBytes(StandardCharsets.UTF_8));
            files.add(StageRuntime.relative(ctx, file));
            scores.add(new Scores.SetScores(o.nfe(), TunedMethods.name(name, set), Scores.Score.of(o.select()),
                    Scores.Score.of(o.heldOut()), Scores.Score.of(o.base()), baselines.get(i), null));
            rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), StageRuntime.relative(ctx, file),
                    TunedMethods.name(name, set), o.select().meanMse(), v.mse(), v.baseMse(), v.publishable(),
                    v.median(), v.p99()));
            ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g vs base %.5g (%s)",
                    ctx.stage().name(), o.nfe(), TunedMethods.name(name, set), v.mse(), v.baseMse(), v.vsBase()));
        }
        if (!joint) {
            return new Output<>(new StageOutputs.Fit(name, rows), files);
        }
        List<ConfigProvenance.LearnedGrid> grids = new ArrayList<>();
        for (LearnedTimesteps.Learned l : learned.values()) {
            grids.add(TimestepsStage.learnedGrid(l, p.timesteps(), p.fitFrom(), p.fitRows()));
        }
        Path gf = dir.resolve(TimestepsStage.GRIDS);
        Scores.write(gf, grids);
        files.add(StageRuntime.relative(ctx, gf));
        Path sf = dir.resolve(Scores.SCORES);
        Scores.write(sf, scores);
        files.add(StageRuntime.relative(ctx, sf));
        return new Output<>(new StageOutputs.Fit(name, rows, StageRuntime.relative(ctx, gf),
                StageRuntime.relative(ctx, sf)), files);
    }

    /**
     * The variants of a plain fit at one NFE: the best untuned baseline's solver and spacing first where the method
     * can use that solver as its base, else each of the method's bases on the baseline's spacing; then the method's
     * own variants on the job's spacings.
     */
    static List<TunedMethods.Variant> variants(MethodId name, TunedMethods.Method m, Candidate best,
                                               List<SpacingName> spacings) {
        List<TunedMethods.Variant> out = new ArrayList<>();
        for (SolverSpec b : bases(name, m, best)) {
            if (b.equals(best.solver()) || !MethodCatalog.runsOn(name, best.solver())) {
                out.add(new TunedMethods.Variant(b, best.spacing()));
            }
        }
        for (TunedMethods.Variant v : m.variants()) {
            if (spacings.contains(SpacingName.of(v.spacing())) && !out.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }

    /** The bases tried: the best untuned baseline's solver first where the method can use it, then the method's. */
    static List<SolverSpec> bases(MethodId name, TunedMethods.Method m, Candidate best) {
        List<SolverSpec> out = new ArrayList<>();
        if (MethodCatalog.runsOn(name, best.solver())) {
            out.add(best.solver());
        }
        m.variants().stream().map(TunedMethods.Variant::base).filter(b -> !out.contains(b)).forEach(out::add);
        return out;
    }

    /** The grids the timesteps stage learned on the same rows, by {@link LearnedTimesteps#gridKey}. */
    private static void known(StageContext ctx, StageParams.Fit p, StageParams.Eval e,
                              Map<String, LearnedTimesteps.Learned> learned) throws java.io.IOException {
        StageOutputs.Fit ts = input(ctx, p.grids(), StageOutputs.Fit.class);
        if (ts.grids() == null) {
            return;
        }
        Map<String, LearnedTimesteps.Variant> variants = new LinkedHashMap<>();
        for (Candidate c : BaselineStage.untuned(e.spacings())) {
            LearnedTimesteps.Variant v = LearnedTimesteps.Variant.of(c);
            variants.put(v.label(), v);
        }
        for (ConfigProvenance.LearnedGrid g : TimestepsStage.readGrids(file(ctx, ts.grids()))) {
            LearnedTimesteps.Variant v = variants.get(g.variant());
            int from = g.fitFrom() == null ? 0 : g.fitFrom();
            if (v != null && g.fitRows() == p.fitRows() && from == (p.fitFrom() == null ? 0 : p.fitFrom())) {
                learned.put(LearnedTimesteps.gridKey(v, g.nfe()), TimestepsStage.learned(g, v));
            }
        }
    }

    /**
     * The set without its wall time and creation instant (they differ between otherwise identical runs); a set on a
     * learned grid keeps the spacing it was learned from.
     */
    static CoefficientSet reproducible(CoefficientSet s) {
        CoefficientSet.FitReport f = s.fit();
        CoefficientSet.FitReport fit = f == null ? null : new CoefficientSet.FitReport(f.samples(), f.residuals(),
                f.baseResiduals(), f.iterations(), 0, f.warnings());
        CoefficientSet.Provenance p = s.provenance();
        CoefficientSet.Provenance prov = p == null ? null : new CoefficientSet.Provenance(p.modelHash(), p.schedule(),
                p.guidance(), p.teacher(), p.trainSeeds(), p.codeVersion(), null, p.settings());
        return new CoefficientSet(s.formatVersion(), s.method(), s.base(), s.spacing(), s.steps(), s.nfe(), s.times(),
                s.columns(), s.values(), fit, s.validation(), prov, s.baseSpacing());
    }
}
