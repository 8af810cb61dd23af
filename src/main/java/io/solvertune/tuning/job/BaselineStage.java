package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The best untuned baseline per NFE ({@link BaselineSweep} over the untuned solvers x the spec's spacings), chosen on
 * the selection rows of the training teacher and scored on the held-out seeds. Writes {@code baseline.json} (with
 * per-seed held-out errors, for the paired verdicts of the methods). An NFE with a {@linkplain StageParams.Eval#known
 * known} choice (chosen by an earlier run) re-scores that choice instead of sweeping, and refuses it when its held-out
 * MSE is not the recorded one (another model or held-out set); its ranking is that one candidate.
 */
final class BaselineStage extends TypedStage<StageParams.Eval, StageOutputs.Baselines> {
    static final String FILE = "baseline.json";

    BaselineStage() {
        super(StageParams.Eval.class);
    }

    @Override
    protected Output<StageOutputs.Baselines> run(StageContext ctx, StageParams.Eval p, Path dir) throws Exception {
        TrajectorySet train = StageRuntime.trajectories(ctx, p.train());
        TrajectorySet held = StageRuntime.trajectories(ctx, p.heldOut());
        Evaluation.Targets sel = Scores.targets(train, p.selectFrom(), p.selectTo());
        Evaluation.Targets ho = Scores.heldOut(held, p);
        List<Candidate> cands = untuned(p.spacings());
        List<Scores.BaselinePick> picks = new ArrayList<>();
        Guidance g;
        try (Denoiser d = StageRuntime.model(ctx)) {
            g = StageRuntime.guidance(d, p.classLabel(), p.guidance());
            List<BaselineSweep.Ranked> ranked = new ArrayList<>();
            if (p.known() == null) {
                ranked.addAll(BaselineSweep.runRanked(d, g, sel, ho, cands, p.nfeArray(), p.batch(),
                        StageRuntime.dtype(ctx), StageRuntime.progress(ctx)));
            } else {
                for (int nfe : p.nfeArray()) {
                    StageParams.KnownBaseline k = p.known().stream().filter(x -> x.nfe() == nfe).findFirst()
                            .orElse(null);
                    ranked.addAll(k != null ? List.of(rescore(d, g, sel, ho, k, p.batch(), StageRuntime.dtype(ctx)))
                            : BaselineSweep.runRanked(d, g, sel, ho, cands, new int[] {nfe}, p.batch(),
                            StageRuntime.dtype(ctx), StageRuntime.progress(ctx)));
                }
            }
            for (BaselineSweep.Ranked r : ranked) {
                BaselineSweep.Choice c = r.choice();
                picks.add(new Scores.BaselinePick(c.nfe(), c.best(), Scores.Score.of(c.train()),
                        Scores.Score.of(c.heldOut()), c.candidatesTried(), sel.tStart(), sel.tEnd(),
                        Scores.times(d, c.best(), c.nfe(), sel.tStart(), sel.tEnd()),
                        r.candidates().stream().map(Candidate::name).toList()));
                ctx.log("INFO", String.format(java.util.Locale.ROOT, "%s NFE %d: %s, held-out MSE %.5g ± %.2g",
                        ctx.stage().name(), c.nfe(), c.best().name(), c.heldOut().meanMse(), c.heldOut().stdErr()));
            }
        }
        Path file = dir.resolve(FILE);
        long[] ts = train.seeds();
        long[] hs = ho.seeds();     // the held-out rows scored (the whole set unless the eval names rows)
        Scores.write(file, new Scores.Baselines(picks, g, train.meta().teacher(), held.meta().teacher(),
                new long[] {ts[0], ts.length}, new long[] {hs[0], hs.length}, new int[] {p.selectFrom(), p.selectTo()}));
        List<StageOutputs.BaselineRow> rows = picks.stream().map(b -> new StageOutputs.BaselineRow(b.nfe(),
                b.candidate().name(), b.heldOut().meanMse(), b.heldOut().stdErr(), b.heldOut().median(),
                b.heldOut().p99())).toList();
        return new Output<>(new StageOutputs.Baselines(StageRuntime.relative(ctx, file), rows),
                List.of(StageRuntime.relative(ctx, file)));
    }

    /** Start of the message refusing a known choice that does not re-score to its recorded held-out MSE. */
    static final String STORED_CHOICE = "the stored choice for NFE ";

    /** A known choice scored on the selection and held-out rows; refused unless it matches its recorded MSE. */
    private static BaselineSweep.Ranked rescore(Denoiser d, Guidance g, Evaluation.Targets sel, Evaluation.Targets ho,
                                                StageParams.KnownBaseline k, int batch,
                                                ai.djl.ndarray.types.DataType dtype) {
        Evaluation.Result train = Evaluation.evaluate(d, g, sel, k.candidate(), k.nfe(), batch, dtype, 0).result();
        Evaluation.Result held = Evaluation.evaluate(d, g, ho, k.candidate(), k.nfe(), batch, dtype, 0).result();
        double was = k.heldOutMse();
        if (!(Math.abs(held.meanMse() - was) <= 1e-4 * Math.abs(was))) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, STORED_CHOICE + "%d (%s) had "
                    + "held-out MSE %.6g but scores %.6g here: made with another model or held-out set?", k.nfe(),
                    k.candidate().name(), was, held.meanMse()));
        }
        return new BaselineSweep.Ranked(new BaselineSweep.Choice(k.nfe(), k.candidate(), train, held,
                k.candidatesTried()), List.of(k.candidate()), List.of(train));
    }

    /** The untuned candidates on the job's spacings. */
    static List<Candidate> untuned(List<SpacingName> spacings) {
        return BaselineSweep.untunedCandidates().stream().filter(c -> spacings.contains(SpacingName.of(c.spacing())))
                .toList();
    }
}
