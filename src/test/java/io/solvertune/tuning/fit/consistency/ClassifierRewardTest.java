package io.solvertune.tuning.fit.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.EmpiricalDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.eval.TorchScriptClassifier;
import io.solvertune.tuning.fit.FitContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier term of ConsistencySolver's reward on 28x28 images with the project's Fashion-MNIST classifier: the
 * reward is {@code -MSE + weight x cos} of the classifier's logits (1 for the teacher's own state), the RL trainer
 * uses it (same rollouts and MSE ratio as without it at the first iteration, a different reward), it is part of the
 * checkpoint's settings and the set's provenance, and the other trainers refuse it.
 */
class ClassifierRewardTest {
    static final long[] SHAPE = {1, 28, 28};
    static final int PER = 784;
    static final int ROWS = 4;
    static NDManager manager;
    static EmpiricalDenoiser model;
    static TorchScriptClassifier classifier;

    @BeforeAll
    static void init() throws Exception {
        manager = NDManager.newBaseManager();
        NoiseSchedule schedule;
        try (var gmm = ReferenceProblem.load("public_gmm_sd_d8").model()) {
            schedule = gmm.schedule();
        }
        // 12 smooth "images" in [-1, 1]: a bright ellipse of varying size and position on a dark background
        int n = 12;
        double[] data = new double[n * PER];
        SplittableRandom r = new SplittableRandom(3);
        for (int k = 0; k < n; k++) {
            double cx = 10 + 8 * r.nextDouble();
            double cy = 10 + 8 * r.nextDouble();
            double ax = 4 + 6 * r.nextDouble();
            double ay = 4 + 8 * r.nextDouble();
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    double d = (x - cx) * (x - cx) / (ax * ax) + (y - cy) * (y - cy) / (ay * ay);
                    data[k * PER + y * 28 + x] = Math.tanh(3 * (1 - d));
                }
            }
        }
        NDManager owned = manager.newSubManager();
        NDArray nd = Nd.create(owned, data, new Shape(n, 1, 28, 28), DataType.FLOAT64);
        model = new EmpiricalDenoiser(schedule, owned, nd, null, 0);
        classifier = new TorchScriptClassifier(Path.of("tuning-jobs/fmnist-unet/classifier.pt"));
    }

    @AfterAll
    static void close() {
        classifier.close();
        model.close();
        manager.close();
    }

    static FitContext context() {
        double[] x = new double[ROWS * PER];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) {
            x[i] = GaussianPolicy.gaussian(r);
        }
        long[] seeds = {0, 1, 2, 3};
        NoiseSchedule s = model.schedule();
        return new FitContext(model, Guidance.none(), seeds, x, SHAPE, s.defaultTStart(), s.defaultTEnd(),
                DataType.FLOAT64, 64, null, null);
    }

    /** The targets: a 40-step DDIM solve of the context's noises. */
    static double[] teacher(FitContext c) {
        SamplerConfig cfg = new SamplerConfig(new Ddim(), new TimestepSpacing.TimeUniform(), 40, c.tStart(), c.tEnd(),
                true, false);
        try (NDManager m = manager.newSubManager()) {
            NDArray xT = Nd.create(m, c.initial(), new Shape(ROWS, 1, 28, 28), DataType.FLOAT64);
            return Nd.toDoubles(Sampler.sample(cfg, new ModelFunction(model, Guidance.none()), xT).x());
        }
    }

    @Test
    void theRewardIsMinusMsePlusTheWeightedCosineOfTheClassifiersLogits() {
        FitContext c = context();
        double[] target = teacher(c);
        ClassifierReward reward = new ClassifierReward(classifier, 0.5, "test");
        double[][] tf = reward.features(target, SHAPE, ROWS);
        assertEquals(10, tf[0].length, "the classifier's 10 logits");
        double[] mse = {0.1, 0.2, 0.3, 0.4};
        double[] own = reward.rewards(mse, target, tf, SHAPE);
        for (int r = 0; r < ROWS; r++) {
            assertEquals(-mse[r] + 0.5, own[r], 1e-12, "the teacher's own state: cosine 1");
        }
        // the noise itself against the targets: the cosine of the logits, recomputed here
        double[] noise = c.initial();
        double[] got = reward.rewards(mse, noise, tf, SHAPE);
        double[] ln = classifier.logits(noise, SHAPE, ROWS);
        double[] lt = classifier.logits(target, SHAPE, ROWS);
        for (int r = 0; r < ROWS; r++) {
            double ab = 0;
            double aa = 0;
            double bb = 0;
            for (int k = 0; k < 10; k++) {
                ab += ln[r * 10 + k] * lt[r * 10 + k];
                aa += ln[r * 10 + k] * ln[r * 10 + k];
                bb += lt[r * 10 + k] * lt[r * 10 + k];
            }
            double cos = ab / Math.sqrt(aa * bb);
            assertTrue(cos < 0.999, "noise and image are classified differently: " + cos);
            assertEquals(-mse[r] + 0.5 * cos, got[r], 1e-12);
        }
        assertThrows(IllegalArgumentException.class, () -> new ClassifierReward(classifier, 0, "test"));
        assertThrows(IllegalArgumentException.class, () -> new ClassifierReward(classifier, 1, " "));
    }

    @Test
    void theRlTrainerTrainsOnItAndCheckpointsRecordIt(@TempDir Path dir) throws Exception {
        FitContext c = context();
        double[] target = teacher(c);
        TrainerSettings st = new TrainerSettings(Form.NOISE, 3, TrainerSettings.PolicyKind.GAUSSIAN, 11, 0.3, 8, false,
                3, 4, 2, 2, 3, 1, 0.2, 0.0, 1e-2, 1.0, 10.0, 5L, new TimestepSpacing.TimeUniform(),
                Policy.Inference.EXPECTED, 1);
        ConsistencyTrainer plain = new ConsistencyTrainer(c, target, st);
        plain.train(null, Integer.MAX_VALUE);
        ConsistencyTrainer withCls = new ConsistencyTrainer(c, target, st)
                .withClassifierReward(new ClassifierReward(classifier, 1.0, "sha256:test"));
        Path ck = dir.resolve("ck.json");
        withCls.train(ck, Integer.MAX_VALUE);
        ConsistencyTrainer.CurvePoint p0 = plain.curve().get(0);
        ConsistencyTrainer.CurvePoint c0 = withCls.curve().get(0);
        // the same first rollouts (same seed, same initial network): the same MSE ratio, the reward plus the cosine
        assertEquals(p0.nfe(), c0.nfe());
        assertEquals(p0.ratioToNeutral(), c0.ratioToNeutral());
        double term = c0.reward() - p0.reward();
        assertNotEquals(0.0, term);
        assertTrue(term > -1 && term <= 1 + 1e-12, "mean of a cosine: " + term);
        // the classifier is part of the settings: a trainer without it refuses the checkpoint
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConsistencyTrainer(c, target, st).resume(ck));
        assertTrue(e.getMessage().startsWith("checkpoint:"), e.getMessage());
        assertTrue(new ConsistencyTrainer(c, target, st).withClassifierReward(new ClassifierReward(classifier, 1.0,
                "sha256:test")).resume(ck));
        @SuppressWarnings("unchecked")
        Map<String, Object> cr = (Map<String, Object>) withCls.coefficientSet(4, Policy.Inference.EXPECTED, null)
                .provenance().settings().get("classifierReward");
        assertEquals(Map.of("classifier", "sha256:test", "weight", 1.0, "features", "logits"), cr);
        // the ablations minimise the MSE: they refuse the classifier term
        assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer(c, target, st,
                ConsistencyTrainer.Mode.DIRECT).withClassifierReward(new ClassifierReward(classifier, 1.0, "x")));
        assertThrows(IllegalArgumentException.class, () -> ConsistencyAblations.train(
                ConsistencyAblations.Trainer.CMAES, c, target, st, new int[] {4}, 10, null,
                new ClassifierReward(classifier, 1.0, "x")));
    }
}
