package io.solvertune.tuning.job;

import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.timesteps.DpmSolverV3Timesteps;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DPM-Solver-v3 on learned grids (a job with {@code dpmsolver-v3} and {@code "timesteps": "learned"}): per NFE the
 * snapped setting the {@code validate-dpmsolver-v3} stage chose on the selection rows is the start of a
 * {@link DpmSolverV3Timesteps} variant whose times CMA-ES learns on training rows {@code [fitFrom, fitFrom + fitRows)} off the
 * {@code fit-dpmsolver-v3} statistics grid (interpolated statistics, the same settings and objective as the
 * {@code timesteps} stage); the learned grid is scored on the selection rows and validated on the held-out seeds
 * against the snapped v3 (its own base: publishable only if it beats it) and the best untuned baseline. Writes
 * {@value DpmSolverV3Stage#FILE} (the picks, their times the learned grids) and {@value TimestepsStage#GRIDS} (the
 * optimisations, {@link ConfigProvenance.LearnedGrid}).
 *
 * <p>Resumable as the {@code timesteps} stage: every loss evaluation is journaled under {@code progress/}; a killed
 * stage replays the recorded losses and writes the same bytes as an uninterrupted run.
 */
final class DpmSolverV3TimestepsStage extends TypedStage<StageParams.V3Timesteps, StageOutputs.V3Timesteps> {

    DpmSolverV3TimestepsStage() {
        super(StageParams.V3Timesteps.class);
    }

    @Override
    protected Output<StageOutputs.V3Timesteps> run(StageContext ctx, StageParams.V3Timesteps p, Path dir)
            throws Exception {
        StageParams.Eval e = p.eval();
        StageOutputs.Ems emsOutput = input(ctx, p.ems(), StageOutputs.Ems.class);
        EmpiricalModelStatistics ems = PublishStage.statistics(ctx, emsOutput);
        DpmSolverV3Stage.Picks snapped = DpmSolverV3Stage.read(file(ctx, input(ctx, p.v3(), StageOutputs.V3.class)
                .file()));
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, e.heldOut());
        Evaluation.Targets fitT = Scores.targets(train, p.firstFitRow(), p.firstFitRow() + p.fitRows());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, e);
        Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, p.baseline(), StageOutputs.Baselines.class)
                .file()));
        LearnedTimesteps.Settings s = TimestepsStage.settings(p.settings());
        List<DpmSolverV3Stage.Pick> picks = new ArrayList<>();
        List<StageOutputs.V3Row> rows = new ArrayList<>();
        List<StageOutputs.FitRow> failures = new ArrayList<>();
        List<ConfigProvenance.LearnedGrid> grids = new ArrayList<>();
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            FitContext fc = TimestepsStage.fitContext(ctx, d, g, train, fitT, e);
            LearnedTimesteps.Checkpoints cp = TimestepsStage.checkpoints(ctx, dir, g, train, p.fitFrom(), p.fitRows(),
                    p.settings(), e.batch());
            for (DpmSolverV3Stage.Pick pk : snapped.picks()) {
                StageRuntime.checkCancelled(ctx);
                DpmSolverV3 spec = new DpmSolverV3(ems, pk.order(), pk.pPseudo(), pk.useCorrector(), pk.cPseudo(),
                        false, false, null);
                Candidate start = new Candidate(pk.name(), spec, pk.spacing(), true, false, pk.tStart(), pk.tEnd());
                Scores.BaselinePick bl = base.picks().stream().filter(b -> b.nfe() == pk.nfe()).findFirst()
                        .orElseThrow(() -> new IllegalStateException(ctx.stage().name() + ": no baseline at NFE "
                                + pk.nfe()));
                // the snapped v3 again on the held-out seeds: the paired base (the same seeds, per seed)
                Evaluation.Result snappedHeld = Evaluation.evaluate(d, g, ho, start, pk.nfe(), e.batch(),
                        StageRuntime.dtype(ctx), 0).result();
                DpmSolverV3Timesteps.Outcome o;
                try {
                    LearnedTimesteps.Learned l = DpmSolverV3Timesteps.learn(fc, fitT, start, pk.nfe(), s, cp);
                    grids.add(TimestepsStage.learnedGrid(l, p.settings(), p.fitFrom(), p.fitRows()));
                    o = DpmSolverV3Timesteps.validate(fc, l, sel, ho, snappedHeld, bl.candidate().name(),
                            bl.heldOut().result());
                } catch (java.util.concurrent.CancellationException ex) {
                    throw ex;
                } catch (IllegalArgumentException | IllegalStateException | ArithmeticException ex) {
                    String why = pk.name() + ": " + ex.getMessage();
                    failures.add(new StageOutputs.FitRow(pk.nfe(), List.of(why), null, null, null, null, null, null));
                    ctx.log("WARN", String.format(Locale.ROOT, "%s NFE %d: no grid learned (%s)", ctx.stage().name(),
                            pk.nfe(), why));
                    continue;
                }
                CoefficientSet set = o.set();
                CoefficientSet.Validation v = set.validation();
                // named after its start, the snapped setting (its variant's spacing is the start's explicit grid)
                String name = LearnedTimesteps.METHOD + " " + pk.name() + " learned (interpolated)";
                DpmSolverV3Stage.Pick lp = new DpmSolverV3Stage.Pick(pk.nfe(), name, pk.order(), pk.pPseudo(),
                        pk.useCorrector(), pk.cPseudo(), set.spacing(), pk.tStart(), pk.tEnd(), set.times(),
                        Scores.Score.of(o.select()), Scores.Score.of(o.heldOut()), Scores.Score.of(o.base()),
                        v.vsBase(), v.baseline(), v.baselineMse(), bl.heldOut().stdErr(), v.vsBaseline());
                picks.add(lp);
                rows.add(new StageOutputs.V3Row(pk.nfe(), name, v.mse(), v.baseMse(), lp.publishable(),
                        o.heldOut().median(), o.heldOut().p99()));
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g vs snapped %s %.5g (%s),"
                        + " vs best untuned %s %.5g (%s)", ctx.stage().name(), pk.nfe(), name, v.mse(), pk.name(),
                        v.baseMse(), v.vsBase(), v.baseline(), v.baselineMse(), v.vsBaseline()));
            }
        }
        Path file = dir.resolve(DpmSolverV3Stage.FILE);
        Scores.write(file, new DpmSolverV3Stage.Picks(picks, snapped.gridSteps()));
        Path gf = dir.resolve(TimestepsStage.GRIDS);
        Scores.write(gf, grids);
        return new Output<>(new StageOutputs.V3Timesteps(StageRuntime.relative(ctx, file),
                StageRuntime.relative(ctx, gf), p.ems(), emsOutput, rows, failures.isEmpty() ? null : failures),
                List.of(StageRuntime.relative(ctx, file), StageRuntime.relative(ctx, gf)));
    }
}
