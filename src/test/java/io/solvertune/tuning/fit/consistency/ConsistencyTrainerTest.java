package io.solvertune.tuning.fit.consistency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.MethodCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RL trainer on a small problem (the 8-d mixture, 32 training noises): targets made by a planted ConsistencySolver
 * table are recovered by both policies; training is deterministic given its seed and a killed run resumed from its
 * checkpoint ends exactly where an uninterrupted one does; the materialised set runs through the method catalog.
 */
class ConsistencyTrainerTest {
    static final int ROWS = 32;
    static final int NFE = 5;
    static ReferenceProblem p;
    static GaussianMixtureDenoiser model;
    static NDManager manager;

    @BeforeAll
    static void init() {
        p = ReferenceProblem.load("public_gmm_sd_d8");
        model = p.model();
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    static FitContext context() {
        long[] shape = {8};
        double[] x = new double[ROWS * 8];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = GaussianPolicy.gaussian(r);
        }
        long[] seeds = new long[ROWS];
        for (int i = 0; i < ROWS; i++) {
            seeds[i] = i;
        }
        return new FitContext(model, p.guidance, seeds, x, shape, p.tStart, p.tEnd, DataType.FLOAT64, 64, null, null);
    }

    /** Final states of a planted table on the context's noises. */
    static double[] planted(FitContext c, Consistency planted) {
        SamplerConfig cfg = new SamplerConfig(planted, new TimestepSpacing.TimeUniform(), NFE, c.tStart(), c.tEnd(),
                true, false);
        try (NDManager m = manager.newSubManager()) {
            NDArray xT = Nd.create(m, c.initial(), new Shape(ROWS, 8), DataType.FLOAT64);
            return Nd.toDoubles(Sampler.sample(cfg, new ModelFunction(model, p.guidance), xT).x());
        }
    }

    static TrainerSettings settings(TrainerSettings.PolicyKind kind, int order, int iterations) {
        TrainerSettings d = TrainerSettings.defaults();
        return new TrainerSettings(Form.DATA, order, kind, 11, 0.3, 16, false, NFE, NFE, iterations, 4, 16, 2, 0.2,
                0.0, kind == TrainerSettings.PolicyKind.GAUSSIAN ? 2e-2 : 5e-2, 1.0, 1.0, 3L,
                new TimestepSpacing.TimeUniform(), Policy.Inference.EXPECTED, 10);
    }

    static double finalMse(FitContext c, Consistency s, double[] target) {
        double[] got = planted(c, s);
        double se = 0;
        for (int i = 0; i < got.length; i++) {
            se += (got[i] - target[i]) * (got[i] - target[i]);
        }
        return se / got.length;
    }

    @Test
    void gaussianPolicyRecoversAPlantedTable() throws Exception {
        FitContext c = context();
        double[][] plant = {{}, {0.5}, {0.5}, {0.5}, {0.5}};
        double[] target = planted(c, new Consistency(Form.DATA, 2, plant, null));
        ConsistencyTrainer t = new ConsistencyTrainer(c, target, settings(TrainerSettings.PolicyKind.GAUSSIAN, 2, 150));
        t.train(null, Integer.MAX_VALUE);
        double[][] got = t.table(NFE, Policy.Inference.EXPECTED);
        double neutral = finalMse(c, Consistency.neutral(Form.DATA, 2, NFE), target);
        double tuned = finalMse(c, t.solver(NFE, Policy.Inference.EXPECTED), target);
        System.out.println("gaussian table " + java.util.Arrays.deepToString(got) + " mse " + tuned + " neutral "
                + neutral + " curve end " + t.curve().get(t.curve().size() - 1));
        for (int i = 1; i < NFE; i++) {
            // the later steps move the final state less, so their coefficient is resolved less sharply
            assertEquals(0.5, got[i][0], 0.1, "step " + i);
        }
        assertTrue(tuned < 0.01 * neutral, tuned + " vs " + neutral);
    }

    @Test
    void categoricalPolicyRecoversAPlantedBin() throws Exception {
        FitContext c = context();
        double[][] plant = {{}, {0.6}, {0.6}, {0.6}, {0.6}};
        double[] target = planted(c, new Consistency(Form.DATA, 2, plant, null));
        ConsistencyTrainer t = new ConsistencyTrainer(c, target,
                settings(TrainerSettings.PolicyKind.CATEGORICAL, 2, 150));
        t.train(null, Integer.MAX_VALUE);
        double[][] arg = t.table(NFE, Policy.Inference.ARGMAX);
        double[][] exp = t.table(NFE, Policy.Inference.EXPECTED);
        System.out.println("categorical argmax " + java.util.Arrays.deepToString(arg) + " expected "
                + java.util.Arrays.deepToString(exp));
        for (int i = 1; i < NFE; i++) {
            assertEquals(0.6, arg[i][0], 1e-12, "step " + i);
            assertEquals(0.6, exp[i][0], 0.1, "step " + i);
        }
    }

    @Test
    void theAblationsRecoverThePlantedTableToo() throws Exception {
        FitContext c = context();
        double[][] plant = {{}, {0.5}, {0.5}, {0.5}, {0.5}};
        double[] target = planted(c, new Consistency(Form.DATA, 2, plant, null));
        double neutral = finalMse(c, Consistency.neutral(Form.DATA, 2, NFE), target);
        // direct gradient through the unrolled solver and the (DJL-differentiable) mixture
        ConsistencyTrainer d = new ConsistencyTrainer(c, target, settings(TrainerSettings.PolicyKind.GAUSSIAN, 2, 60),
                ConsistencyTrainer.Mode.DIRECT);
        d.train(null, Integer.MAX_VALUE);
        double direct = finalMse(c, d.solver(NFE, Policy.Inference.EXPECTED), target);
        assertTrue(direct < 0.01 * neutral, direct + " vs " + neutral);
        // CMA-ES on the table
        ConsistencyAblations.Trained cm = ConsistencyAblations.train(ConsistencyAblations.Trainer.CMAES, c, target,
                settings(TrainerSettings.PolicyKind.GAUSSIAN, 2, 1), new int[] {NFE}, 200, null);
        double[][] got = cm.set(NFE, Policy.Inference.EXPECTED).values();
        System.out.println("direct " + java.util.Arrays.deepToString(d.table(NFE, Policy.Inference.EXPECTED))
                + " cmaes " + java.util.Arrays.deepToString(got));
        for (int i = 1; i < NFE; i++) {
            assertEquals(0.5, got[i][0], 0.1, "cmaes step " + i);
        }
        double cmaes = finalMse(c, (Consistency) MethodCatalog.spec(cm.set(NFE, Policy.Inference.EXPECTED)), target);
        assertTrue(cmaes < 0.01 * neutral, cmaes + " vs " + neutral);
    }

    @Test
    void deterministicAndResumable(@TempDir Path dir) throws Exception {
        FitContext c = context();
        double[] target = planted(c, new Consistency(Form.DATA, 3, new double[][] {{}, {0.5}, {0.4, -0.2}, {0.3, 0.1},
            {0.2, 0.0}}, null));
        TrainerSettings s = settings(TrainerSettings.PolicyKind.GAUSSIAN, 3, 6);
        ConsistencyTrainer straight = new ConsistencyTrainer(c, target, s);
        straight.train(null, Integer.MAX_VALUE);
        Path ck = dir.resolve("ck.json");
        ConsistencyTrainer killed = new ConsistencyTrainer(c, target, s);
        killed.train(ck, 4);   // "killed" after 4 iterations; the checkpoint holds them
        assertEquals(4, killed.iteration());
        ConsistencyTrainer resumed = new ConsistencyTrainer(c, target, s);
        assertTrue(resumed.resume(ck));
        assertEquals(4, resumed.iteration());
        resumed.train(ck, Integer.MAX_VALUE);
        assertEquals(6, resumed.iteration());
        double[][] a = straight.params();
        double[][] b = resumed.params();
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i], 0.0, "parameter " + i);
        }
        assertEquals(straight.curve(), resumed.curve());
        // a checkpoint of other settings is refused, naming the checkpoint
        ConsistencyTrainer other = new ConsistencyTrainer(c, target, settings(TrainerSettings.PolicyKind.GAUSSIAN, 2, 6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.resume(ck));
        assertTrue(e.getMessage().startsWith("checkpoint:"), e.getMessage());
        // the materialised set runs through the catalog and equals the trainer's own solver
        CoefficientSet set = resumed.coefficientSet(NFE, Policy.Inference.EXPECTED, null);
        assertEquals(CoefficientSet.Method.CONSISTENCY, set.method());
        assertTrue(set.provenance().settings().containsKey("rewardCurve"));
        assertEquals(resumed.solver(NFE, Policy.Inference.EXPECTED), MethodCatalog.spec(CoefficientSet.fromJson(
                set.toJson())));
        assertTrue(Files.size(ck) > 0);
    }

    @Test
    void badSettingsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TrainerSettings(Form.DATA,
                4, TrainerSettings.PolicyKind.GAUSSIAN, 11, 0.1, 16, false, 6, 5, 10, 4, 16, 1, 0.2, 0.01, 1e-3, 1, 10,
                0, new TimestepSpacing.TimeUniform(), Policy.Inference.EXPECTED, 10));
        assertTrue(e.getMessage().startsWith("maxNfe:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TrainerSettings(Form.DATA, 4,
                TrainerSettings.PolicyKind.GAUSSIAN, 11, 0.1, 16, false, 4, 5, 10, 4, 1, 1, 0.2, 0.01, 1e-3, 1, 10, 0,
                new TimestepSpacing.TimeUniform(), Policy.Inference.EXPECTED, 10));
        assertTrue(e.getMessage().startsWith("group:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer(context(), new double[3],
                TrainerSettings.defaults()));
        assertTrue(e.getMessage().startsWith("teacher:"), e.getMessage());
    }
}
