package io.solvertune.tuning.eval;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluation harness, the baseline sweep and the hyperparameter search on the reference mixture preset. */
public class EvaluationTest {
    @TempDir
    Path dir;

    public static TeacherSettings teacher() {
        return new TeacherSettings(DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(), 300, null,
                null, 30, false, 32, "float64", 1e-4, 4);
    }

    @Test
    void harnessScoresAgainstTheTeacherAndTheBestBaselineIsChosenOnTrainingSeeds() throws IOException {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        String hash = ModelHash.of(spec, Presets.baseDir());
        Guidance g = Guidance.classifierFree(0, 7.5);
        try (GaussianMixtureDenoiser model = (GaussianMixtureDenoiser) spec.build(Presets.baseDir())) {
            TrajectorySet train = Teacher.run(new Teacher.Request(model, hash, spec.schedule(), g, Seeds.range(0, 48),
                    teacher()), dir.resolve("train"), Progress.NONE);
            TrajectorySet held = Teacher.run(new Teacher.Request(model, hash, spec.schedule(), g, Seeds.range(1000, 48),
                    teacher()), dir.resolve("held"), Progress.NONE);
            Evaluation.Targets tr = Evaluation.Targets.load(train, 0, 48);
            Evaluation.Targets ho = Evaluation.Targets.load(held, 0, 48);

            // the teacher's own configuration reproduces the teacher exactly
            Candidate same = new Candidate(null, DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(),
                    false, false, null, null);
            Evaluation.Result exact = Evaluation.evaluate(model, g, tr, same, 300, 16, DataType.FLOAT64, 0).result();
            assertEquals(0.0, exact.meanMse(), 0.0);

            // more steps of the same solver: smaller error; a 5-step DDIM is far off
            Candidate unipc = Candidate.of(new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 2),
                    new TimestepSpacing.TimeUniform());
            Evaluation.Result u5 = Evaluation.evaluate(model, g, tr, unipc, 5, 16, DataType.FLOAT64, 0).result();
            Evaluation.Result u10 = Evaluation.evaluate(model, g, tr, unipc, 10, 16, DataType.FLOAT64, 0).result();
            assertTrue(u10.meanMse() < u5.meanMse(), u10 + " vs " + u5);
            assertEquals(48, u5.seeds());
            assertTrue(u5.stdErr() > 0 && u5.stdErr() < u5.meanMse());

            List<BaselineSweep.Choice> choices = BaselineSweep.run(model, g, tr, ho, BaselineSweep.untunedCandidates(),
                    new int[] {5, 8}, 48, DataType.FLOAT64, Progress.NONE);
            assertEquals(2, choices.size());
            for (BaselineSweep.Choice c : choices) {
                // the choice is the minimum over everything tried on the training seeds
                List<Evaluation.Result> all = Evaluation.evaluateAll(model, g, tr, BaselineSweep.untunedCandidates(),
                        new int[] {c.nfe()}, 48, DataType.FLOAT64, Progress.NONE);
                double min = all.stream().mapToDouble(Evaluation.Result::meanMse).min().orElseThrow();
                assertEquals(min, c.train().meanMse(), 0.0);
                assertEquals(48, c.heldOut().seeds());
            }

            // the search space contains time_uniform DPM-Solver++ (rho 1, no stop, no denoise): it can only do better
            HyperparameterSearch.Space space = new HyperparameterSearch.Space(new double[] {1.0, 1.2, 2.0},
                    new double[] {1, 5}, new boolean[] {false, true}, List.of(DpmSolver.plusPlusMultistep(2)));
            List<HyperparameterSearch.Fit> fits = HyperparameterSearch.run(model, g, tr, ho, space, new int[] {6}, 48,
                    DataType.FLOAT64, Progress.NONE);
            Evaluation.Result plain = Evaluation.evaluate(model, g, tr,
                    Candidate.of(DpmSolver.plusPlusMultistep(2), new TimestepSpacing.TimeUniform()), 6, 48,
                    DataType.FLOAT64, 0).result();
            assertTrue(fits.get(0).train().meanMse() <= plain.meanMse() + 1e-15);
            assertEquals(3 * 2 * 2, fits.get(0).evaluated());
        }
    }

    @Test
    void powerTimeSpacingIsKarrasOnTheTimeAxis() throws IOException {
        NoiseSchedule s = Presets.load("gmm-sd-d32").schedule().build();
        double[] t = new TimestepSpacing.PowerTime(1.2).times(s, 1.0, 0.001, 5);
        assertEquals(1.0, t[0]);
        assertEquals(0.001, t[5]);
        for (int i = 0; i <= 5; i++) {
            double expected = Math.pow(1.0 + i / 5.0 * (Math.pow(0.001, 1 / 1.2) - 1.0), 1.2);
            assertEquals(expected, t[i], 1e-15);
        }
        double[] uniform = new TimestepSpacing.PowerTime(1.0).times(s, 1.0, 0.001, 5);
        double[] tu = new TimestepSpacing.TimeUniform().times(s, 1.0, 0.001, 5);
        for (int i = 0; i <= 5; i++) {
            assertEquals(tu[i], uniform[i], 1e-15);
        }
    }

    @Test
    void beatsNeedsTwoStandardErrors() {
        Evaluation.Result a = new Evaluation.Result("a", 5, 1000, 1.0, 1.0, 0.03, 0);
        Evaluation.Result b = new Evaluation.Result("b", 5, 1000, 1.1, 1.0, 0.03, 0);
        Evaluation.Result c = new Evaluation.Result("c", 5, 1000, 1.05, 1.0, 0.03, 0);
        assertTrue(a.beats(b));           // 0.1 > 2 * sqrt(2) * 0.03 = 0.085
        assertFalse(a.beats(c));          // 0.05 < 0.085: a tie
        assertFalse(b.beats(a));
        // paired: both fail on the same hard seed; the per-seed differences are consistent, so a small gain is real
        double[] base = {0.10, 0.12, 5.0, 0.11, 0.09, 0.10, 0.13, 0.12};
        double[] cand = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            cand[i] = i == 2 ? base[i] : base[i] * 0.9; // the hard seed fails alike, every other seed gains 10%
        }
        Evaluation.Result rb = Evaluation.summarize("base", 5, base, 0);
        Evaluation.Result rc = Evaluation.summarize("cand", 5, cand, 0);
        Evaluation.Result unpairedC = new Evaluation.Result("c", 5, 8, rc.meanMse(), rc.stdMse(), rc.stdErr(), 0);
        assertTrue(rc.beats(rb), "paired: " + rc.diffStdErr(rb));
        assertFalse(unpairedC.beats(rb), "unpaired: the hard seed's spread hides the gain");
        assertEquals("tie", unpairedC.verdict(rb));
        assertEquals("yes", rc.verdict(rb));
        assertEquals("no (worse)", rb.verdict(rc));
        Evaluation.Result s = Evaluation.summarize("x", 5, new double[] {1, 2, 3, 4}, 0);
        assertEquals(2.5, s.meanMse(), 1e-15);
        assertEquals(Math.sqrt(5.0 / 3.0), s.stdMse(), 1e-15);
        assertEquals(Math.sqrt(5.0 / 3.0) / 2, s.stdErr(), 1e-15);
    }
}
