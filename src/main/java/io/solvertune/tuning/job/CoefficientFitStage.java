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
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.fit.TunedMethods;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One coefficient method ({@link MethodCatalog}) through {@link TunedMethods}: fitted on training rows
 * {@code [0, fitRows)}, the variant (base solver x spacing) chosen per NFE on the selection rows, validated on the
 * held-out seeds against its base solver and the best untuned baseline. Writes one {@code <method>-nfe<n>.json}
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
        List<TunedMethods.Variant> variants = all.variants().stream()
                .filter(v -> e.spacings().contains(v.spacing().id())).toList();
        List<StageOutputs.FitRow> rows = new ArrayList<>();
        List<String> files = new ArrayList<>();
        if (variants.isEmpty()) {
            ctx.log("WARN", ctx.stage().name() + ": " + p.method() + " is fitted on none of the job's spacings "
                    + e.spacings());
            return new Output<>(new StageOutputs.Fit(p.method(), rows), files);
        }
        TunedMethods.Method method = new TunedMethods.Method(all.name(), all.fitter(), all.spec(), variants);
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        int fitFrom = p.fitFrom() == null ? 0 : p.fitFrom();
        Evaluation.Targets fitT = Scores.targets(train, fitFrom, fitFrom + p.fitRows());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.targets(held, 0, held.size());
        Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, p.baseline(), StageOutputs.Baselines.class)
                .file()));
        List<TunedMethods.Outcome> outcomes;
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            CoefficientSet.Provenance prov = new CoefficientSet.Provenance(ctx.model().contentHash(),
                    d.schedule().spec(), g, train.meta().teacher(), null, CodeVersion.get(), null, null);
            FitContext fc = new FitContext(d, g, fitT.seeds(), fitT.initial(), fitT.sampleShape(), fitT.tStart(),
                    fitT.tEnd(), StageRuntime.dtype(ctx), e.batch(), StageRuntime.progress(ctx), prov);
            outcomes = TunedMethods.run(method, fc, d, g, sel, ho, e.nfeArray(), base.choices(), e.batch(),
                    StageRuntime.dtype(ctx), StageRuntime.progress(ctx),
                    p.gainTest() == null ? TunedMethods.GainTest.PAIRED_MEAN : p.gainTest());
        }
        for (TunedMethods.Outcome o : outcomes) {
            if (o.chosen() == null) {
                rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), null, null, null, null, null, null));
                ctx.log("WARN", String.format(Locale.ROOT, "%s NFE %d: no variant fitted (%s)", ctx.stage().name(),
                        o.nfe(), String.join("; ", o.failures())));
                continue;
            }
            CoefficientSet set = reproducible(o.chosen());
            CoefficientSet.Validation v = set.validation();
            Path file = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", p.method().id(), o.nfe()));
            StageCheckpoint.writeAtomically(file, set.toJson().getBytes(StandardCharsets.UTF_8));
            files.add(StageRuntime.relative(ctx, file));
            rows.add(new StageOutputs.FitRow(o.nfe(), o.failures(), StageRuntime.relative(ctx, file),
                    TunedMethods.name(p.method().id(), set), o.select().meanMse(), v.mse(), v.baseMse(), v.publishable()));
            ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g vs base %.5g (%s)",
                    ctx.stage().name(), o.nfe(), TunedMethods.name(p.method().id(), set), v.mse(), v.baseMse(), v.vsBase()));
        }
        return new Output<>(new StageOutputs.Fit(p.method(), rows), files);
    }

    /** The set without its wall time and creation instant (they differ between otherwise identical runs). */
    static CoefficientSet reproducible(CoefficientSet s) {
        CoefficientSet.FitReport f = s.fit();
        CoefficientSet.FitReport fit = f == null ? null : new CoefficientSet.FitReport(f.samples(), f.residuals(),
                f.baseResiduals(), f.iterations(), 0, f.warnings());
        CoefficientSet.Provenance p = s.provenance();
        CoefficientSet.Provenance prov = p == null ? null : new CoefficientSet.Provenance(p.modelHash(), p.schedule(),
                p.guidance(), p.teacher(), p.trainSeeds(), p.codeVersion(), null, p.settings());
        return new CoefficientSet(s.formatVersion(), s.method(), s.base(), s.spacing(), s.steps(), s.nfe(), s.times(),
                s.columns(), s.values(), fit, s.validation(), prov);
    }
}
