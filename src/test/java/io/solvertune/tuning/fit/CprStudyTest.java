package io.solvertune.tuning.fit;

import io.solvertune.tuning.eval.Candidate;
import io.solvertune.numerics.solver.dc.Dc;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.eval.EvaluationTest;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPR study on the reference mixture: searched ratios, the regression over them, scores at unseen points. */
class CprStudyTest {
    @TempDir
    Path dir;

    static final SolverSpec UNIPC = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);

    static CprStudy.Request request(GaussianMixtureDenoiser model, ModelSpec spec, String hash,
                                    List<CprStudy.Point> train, List<CprStudy.Point> test, long[] fit, long[] held) {
        DcFitter.Settings dc = DcFitter.Settings.defaults().withSamples(fit.length)
                .withObjective(DcFitter.Objective.NEXT_STEP);
        return new CprStudy.Request(model, hash, spec.schedule(), Guidance.perSeed(1), UNIPC,
                new TimestepSpacing.TimeUniform(), train, test, fit, held, EvaluationTest.teacher(), dc, 64,
                DataType.FLOAT64);
    }

    @Test
    void theRegressionIsFittedOnTheSearchesAndScoredWhereItWasNot() throws Exception {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        String hash = ModelHash.of(spec, Presets.baseDir());
        List<CprStudy.Point> train = new ArrayList<>();
        for (int n : new int[] {6, 8, 10}) {
            for (double g : new double[] {1, 3, 5}) {
                train.add(new CprStudy.Point(n, g));
            }
        }
        List<CprStudy.Point> test = List.of(new CprStudy.Point(7, 2));
        try (GaussianMixtureDenoiser model = (GaussianMixtureDenoiser) spec.build(Presets.baseDir())) {
            CprStudy.Result res = CprStudy.run(request(model, spec, hash, train, test, Seeds.range(0, 24),
                    Seeds.range(9000, 48)), dir, Progress.NONE);
            assertEquals(10, res.rows().size());
            assertEquals(9, res.rows().stream().filter(CprStudy.Row::seen).count());
            assertEquals(3 * (6 - 2 + 8 - 2 + 10 - 2), res.fit().points(), "every free step of every searched config");
            CprStudy.Row unseen = res.rows().get(9);
            assertFalse(unseen.seen());
            assertEquals(7, unseen.predicted().length);
            assertEquals(1.0, unseen.predicted()[0]);
            assertEquals(1.0, unseen.predicted()[1]);
            double[] expect = res.fit().model().predict(7, 2);
            for (int i = 0; i < 7; i++) {
                assertEquals(Math.max(0.5, Math.min(1.5, expect[i])), unseen.predicted()[i], 0.0);
            }
            // on a seen point the regression reproduces the search up to its reported residual
            for (CprStudy.Row r : res.rows().subList(0, 9)) {
                for (int i = 2; i < r.searched().length; i++) {
                    assertTrue(Math.abs(r.predicted()[i] - Math.max(0.5, Math.min(1.5, r.searched()[i])))
                            <= res.fit().maxResidual() + 1e-9);
                }
                assertEquals(48, r.base().seeds());
            }
            // the base column is plain UniPC on the same held-out seeds: the searched DC with all ratios 1 equals it
            CprStudy.Row first = res.rows().get(0);
            TrajectorySet held = TrajectorySet.open(dir.resolve("heldout-g1"));
            Evaluation.Result plain = Evaluation.evaluate(model, Guidance.perSeed(1), Evaluation.Targets.load(held, 0,
                    48), Candidate.of(UNIPC, new TimestepSpacing.TimeUniform()), 6, 64, DataType.FLOAT64, 0).result();
            assertEquals(plain.meanMse(), first.base().meanMse(), 0.0);
            Evaluation.Result neutral = Evaluation.evaluate(model, Guidance.perSeed(1), Evaluation.Targets.load(held,
                    0, 48), new Candidate("n", new Dc(UNIPC, new double[] {1, 1, 1, 1, 1, 1}),
                    new TimestepSpacing.TimeUniform(), true, false, null, null), 6, 64, DataType.FLOAT64, 0).result();
            assertArrayEquals(plain.perSeed(), neutral.perSeed(), 0.0);
        }
    }

    @Test
    void overlappingSeedsAndTestPointsThatWereFittedAreRefused() throws Exception {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        try (GaussianMixtureDenoiser model = (GaussianMixtureDenoiser) spec.build(Presets.baseDir())) {
            List<CprStudy.Point> train = List.of(new CprStudy.Point(5, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> request(model, spec, "h",
                    train, List.of(new CprStudy.Point(5, 1)), Seeds.range(0, 4), Seeds.range(100, 4)));
            assertTrue(e.getMessage().contains("also a training point"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> request(model, spec, "h", train, List.of(),
                    Seeds.range(0, 4), Seeds.range(2, 4)));
            assertTrue(e.getMessage().contains("held-out seed 2"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new CprStudy.Point(2, 1));
        }
    }
}
