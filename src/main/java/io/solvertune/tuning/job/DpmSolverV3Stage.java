package io.solvertune.tuning.job;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DPM-Solver-v3 with the fitted statistics: the variant (order, corrector, pseudo orders x spacing; the official
 * code's combinations, as {@code sweep --v3}) chosen per NFE on the selection rows ({@link BaselineSweep#run} over
 * the variants), then validated on the held-out seeds against its base solver (untuned DPM-Solver++ multistep of the
 * same order on the same grid, what v3 reduces to without statistics) and the best untuned baseline. Writes
 * {@code v3.json}.
 */
final class DpmSolverV3Stage extends TypedStage<StageParams.V3, StageOutputs.V3> {
    static final String FILE = "v3.json";

    /**
     * The chosen variant at one NFE.
     *
     * @param select  its error on the selection rows
     * @param base    the base solver's held-out error
     */
    record Pick(int nfe, String name, int order, boolean pPseudo, boolean useCorrector, boolean cPseudo,
                TimestepSpacing spacing, double tStart, double tEnd, double[] times, Scores.Score select,
                Scores.Score heldOut, Scores.Score base, CoefficientSet.Verdict vsBase, String baseline,
                double baselineMse, double baselineStdErr, CoefficientSet.Verdict vsBaseline) {
        boolean publishable() {
            return vsBase == CoefficientSet.Verdict.BEATS;
        }
    }

    /** The stage's file. */
    record Picks(List<Pick> picks, int gridSteps) {
    }

    DpmSolverV3Stage() {
        super(StageParams.V3.class);
    }

    @Override
    protected Output<StageOutputs.V3> run(StageContext ctx, StageParams.V3 p, Path dir) throws Exception {
        StageParams.Eval e = p.eval();
        StageOutputs.Ems emsOutput = input(ctx, p.ems(), StageOutputs.Ems.class);
        EmpiricalModelStatistics ems = EmsNpz.read(file(ctx, emsOutput.dir()));
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, e);
        List<BaselineSweep.Choice> baselines = Scores.readBaselines(
                file(ctx, input(ctx, p.baseline(), StageOutputs.Baselines.class).file())).choices();
        List<Candidate> cands = new ArrayList<>();
        for (DpmSolverV3 v : variants(ems)) {
            for (TimestepSpacing sp : spacings(e.spacings())) {
                cands.add(new Candidate(v.label() + " " + sp.id(), v, sp, true, false, ems.tStart(), ems.tEnd()));
            }
        }
        List<Pick> picks = new ArrayList<>();
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            List<BaselineSweep.Choice> chosen = BaselineSweep.run(d, g, sel, ho, cands, e.nfeArray(), e.batch(),
                    StageRuntime.dtype(ctx), StageRuntime.progress(ctx));
            for (int i = 0; i < chosen.size(); i++) {
                StageRuntime.checkCancelled(ctx);
                BaselineSweep.Choice c = chosen.get(i);
                DpmSolverV3 v = (DpmSolverV3) c.best().solver();
                SolverSpec base0 = DpmSolver.plusPlusMultistep(v.order());
                Candidate baseCand = new Candidate(base0.label() + " " + c.best().spacing().id(), base0,
                        c.best().spacing(), true, false, ems.tStart(), ems.tEnd());
                Evaluation.Result base = Evaluation.evaluate(d, g, ho, baseCand, c.nfe(), e.batch(),
                        StageRuntime.dtype(ctx), 0).result();
                BaselineSweep.Choice bl = baselines.get(i);
                picks.add(new Pick(c.nfe(), c.best().name(), v.order(), v.pPseudo(), v.useCorrector(), v.cPseudo(),
                        c.best().spacing(), ems.tStart(), ems.tEnd(),
                        Scores.times(d, c.best(), c.nfe(), ems.tStart(), ems.tEnd()), Scores.Score.of(c.train()),
                        Scores.Score.of(c.heldOut()), Scores.Score.of(base), CoefficientSet.Verdict.of(c.heldOut(), base),
                        bl.best().name(), bl.heldOut().meanMse(), bl.heldOut().stdErr(),
                        CoefficientSet.Verdict.of(c.heldOut(), bl.heldOut())));
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g vs base %.5g,"
                                + " best baseline %.5g", ctx.stage().name(), c.nfe(), c.best().name(),
                        c.heldOut().meanMse(), base.meanMse(), bl.heldOut().meanMse()));
            }
        }
        Path file = dir.resolve(FILE);
        Scores.write(file, new Picks(picks, ems.gridSteps()));
        List<StageOutputs.V3Row> rows = picks.stream().map(pk -> new StageOutputs.V3Row(pk.nfe(), pk.name(),
                pk.heldOut().meanMse(), pk.base().meanMse(), pk.publishable(), pk.heldOut().median(),
                pk.heldOut().p99())).toList();
        return new Output<>(new StageOutputs.V3(StageRuntime.relative(ctx, file), p.ems(), emsOutput, rows),
                List.of(StageRuntime.relative(ctx, file)));
    }

    static Picks read(Path file) throws java.io.IOException {
        return Json.MAPPER.readValue(file.toFile(), Picks.class);
    }

    /** The official code's combinations (order 2/3, corrector, pseudo orders), as {@code sweep --v3}. */
    static List<DpmSolverV3> variants(EmpiricalModelStatistics ems) {
        return List.of(
                new DpmSolverV3(ems, 2, false, true, true, false, false, null),
                new DpmSolverV3(ems, 2, false, false, false, false, false, null),
                new DpmSolverV3(ems, 3, false, true, false, false, false, null),
                new DpmSolverV3(ems, 3, true, true, false, false, false, null),
                new DpmSolverV3(ems, 3, false, false, false, false, false, null));
    }

    /** time_uniform and logSNR (the spacings v3 is swept on) among the job's, else the job's. */
    static List<TimestepSpacing> spacings(List<SpacingName> job) {
        List<SpacingName> v3 = job.stream().filter(s -> s == SpacingName.TIME_UNIFORM || s == SpacingName.LOG_SNR)
                .toList();
        return (v3.isEmpty() ? job : v3).stream().map(SpacingName::spacing).toList();
    }
}
