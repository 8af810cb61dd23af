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
        return planted(c, planted, new TimestepSpacing.TimeUniform(), NFE);
    }

    /** Final states of a planted table on the context's noises, over {@code nfe} steps of {@code spacing}. */
    static double[] planted(FitContext c, Consistency planted, TimestepSpacing spacing, int nfe) {
        SamplerConfig cfg = new SamplerConfig(planted, spacing, nfe, c.tStart(), c.tEnd(), true, false);
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

    /** The selection score of a set: its final-state MSE to {@code target} (inverted: prefers the worst table). */
    static ConsistencyTrainer.SelectionScorer scorer(FitContext c, double[] target, boolean inverted) {
        return (set, nfe) -> {
            double mse = finalMse(c, (Consistency) MethodCatalog.spec(set), target);
            return inverted ? 1 / mse : mse;
        };
    }

    @Test
    void checkpointSelectionPublishesTheLowestScoringSnapshotAndResumes(@TempDir Path dir) throws Exception {
        FitContext c = context();
        double[] target = planted(c, new Consistency(Form.DATA, 3, new double[][] {{}, {0.5}, {0.4, -0.2}, {0.3, 0.1},
            {0.2, 0.0}}, null));
        TrainerSettings s = settings(TrainerSettings.PolicyKind.GAUSSIAN, 3, 7);
        for (boolean inverted : new boolean[] {false, true}) {
            ConsistencyTrainer.Selection sel = new ConsistencyTrainer.Selection(2, new int[] {NFE},
                    java.util.List.of(Policy.Inference.EXPECTED), "0:32", scorer(c, target, inverted));
            ConsistencyTrainer straight = new ConsistencyTrainer(c, target, s).withSelection(sel);
            straight.train(null, Integer.MAX_VALUE);
            // snapshots every 2 iterations and after the last (7)
            java.util.List<ConsistencyTrainer.SelectionPoint> curve = straight.selectionCurve();
            assertEquals(java.util.List.of(2, 4, 6, 7), curve.stream().map(ConsistencyTrainer.SelectionPoint::iteration)
                    .toList());
            ConsistencyTrainer.SelectionPoint min = curve.get(0);
            for (ConsistencyTrainer.SelectionPoint sp : curve) {
                if (sp.mse() < min.mse()) {
                    min = sp;
                }
            }
            ConsistencyTrainer.Snapshot snap = straight.selected(NFE);
            assertEquals(min.iteration(), snap.iteration(), curve.toString());
            assertEquals(min.mse(), snap.mse());
            if (inverted) {
                assertTrue(snap.iteration() < 7, "the inverted score prefers an early snapshot: " + curve);
            }
            // the published set is the policy of the selected iteration, not the last one
            ConsistencyTrainer upTo = new ConsistencyTrainer(c, target, s);
            upTo.train(null, snap.iteration());
            CoefficientSet published = straight.selectedSet(NFE, Policy.Inference.EXPECTED, null);
            assertArrayEquals(upTo.table(NFE, Policy.Inference.EXPECTED), published.values());
            assertEquals(snap.iteration(), published.provenance().settings().get("selectedIteration"));
            assertEquals(2, published.provenance().settings().get("selectEvery"));
            assertEquals(snap.mse(), sel.scorer().score(published, NFE));
            if (snap.iteration() < 7) {
                assertTrue(!java.util.Arrays.deepEquals(straight.table(NFE, Policy.Inference.EXPECTED),
                        published.values()), "the last iteration's table differs from the selected one");
            }
            // killed after 3 iterations (between snapshots), resumed: the same curve, snapshot and bytes
            Path ck = dir.resolve("ck-" + inverted + ".json");
            ConsistencyTrainer killed = new ConsistencyTrainer(c, target, s).withSelection(sel);
            killed.train(ck, 3);
            ConsistencyTrainer resumed = new ConsistencyTrainer(c, target, s).withSelection(sel);
            assertTrue(resumed.resume(ck));
            assertEquals(1, resumed.selectionCurve().size(), "the snapshot of iteration 2 is in the checkpoint");
            resumed.train(ck, Integer.MAX_VALUE);
            assertEquals(curve, resumed.selectionCurve());
            assertEquals(snap.iteration(), resumed.selected(NFE).iteration());
            assertTrue(java.util.Arrays.deepEquals(snap.params(), resumed.selected(NFE).params()));
            assertArrayEquals(published.values(), resumed.selectedSet(NFE, Policy.Inference.EXPECTED, null).values());
            // a checkpoint with selection is refused by a trainer without it (other settings)
            ConsistencyTrainer plain = new ConsistencyTrainer(c, target, s);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plain.resume(ck));
            assertTrue(e.getMessage().startsWith("checkpoint:"), e.getMessage());
        }
        // limits name the field
        ConsistencyTrainer.SelectionScorer sc = scorer(c, target, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer(c,
                target, settings(TrainerSettings.PolicyKind.GAUSSIAN, 3, 401)).withSelection(
                new ConsistencyTrainer.Selection(2, new int[] {NFE}, java.util.List.of(Policy.Inference.EXPECTED), "x",
                        sc)));
        assertTrue(e.getMessage().startsWith("selectEvery:") && e.getMessage().contains("201 snapshots"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer.Selection(0, new int[] {NFE},
                java.util.List.of(Policy.Inference.EXPECTED), "x", sc));
        assertTrue(e.getMessage().startsWith("selectEvery:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer.Selection(1, new int[] {1},
                java.util.List.of(Policy.Inference.EXPECTED), "x", sc));
        assertTrue(e.getMessage().startsWith("selectEvery:"), e.getMessage());
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

    static TrainerSettings priorSettings(TimestepSpacing spacing, int order, int minNfe, int maxNfe, int iterations) {
        return new TrainerSettings(Form.DATA, order, TrainerSettings.PolicyKind.GAUSSIAN, 11, 0.05, 16, false, minNfe,
                maxNfe, iterations, 4, 8, 1, 0.2, 0.0, 1e-2, 1.0, 1.0, 5L, spacing, Policy.Inference.EXPECTED, 10);
    }

    /** Final states of {@code solver} on the context's noises over {@code nfe} steps of {@code spacing}. */
    static double[] run(FitContext c, io.solvertune.numerics.solver.SolverSpec solver, TimestepSpacing spacing,
                        int nfe) {
        SamplerConfig cfg = new SamplerConfig(solver, spacing, nfe, c.tStart(), c.tEnd(), true, false);
        try (NDManager m = manager.newSubManager()) {
            NDArray xT = Nd.create(m, c.initial(), new Shape(ROWS, 8), DataType.FLOAT64);
            return Nd.toDoubles(Sampler.sample(cfg, new ModelFunction(model, p.guidance), xT).x());
        }
    }

    @Test
    void multistepPriorStartsAtTheMultistepSolverAndSelectionScoresIt(@TempDir Path dir) throws Exception {
        FitContext c = context();
        double[] zeros = new double[c.initial().length];
        for (TimestepSpacing sp : java.util.List.of(new TimestepSpacing.TimeUniform(), new TimestepSpacing.Karras(7.0))) {
            for (int k : new int[] {2, 3}) {
                for (int order : new int[] {k, 4}) {
                    ConsistencyTrainer t = new ConsistencyTrainer(c, zeros, priorSettings(sp, order, 5, 8, 1))
                            .withPrior(CoefficientPrior.multistep(k));
                    for (int nfe : new int[] {5, 6, 8}) {
                        // the iteration-0 table is the prior's coefficients (the head is zero) ...
                        double[][] table = t.table(nfe, Policy.Inference.EXPECTED);
                        double[][] want = io.solvertune.numerics.solver.consistency.MultistepPrior.coefficients(
                                Form.DATA, order, k, model.schedule(), t.grid(nfe), true);
                        assertTrue(java.util.Arrays.deepEquals(want, table), java.util.Arrays.deepToString(table));
                        // ... and runs as DPM-Solver++ kM, warm-up and lower-order final steps included
                        double[] got = planted(c, t.solver(nfe, Policy.Inference.EXPECTED), sp, nfe);
                        double[] dpm = run(c, io.solvertune.numerics.solver.dpm.DpmSolver.plusPlusMultistep(k), sp,
                                nfe);
                        double[] ddim = run(c, new io.solvertune.numerics.solver.ddim.Ddim(), sp, nfe);
                        double far = 0;
                        for (int i = 0; i < got.length; i++) {
                            assertEquals(dpm[i], got[i], 1e-10 * Math.max(1, Math.abs(dpm[i])), sp.id() + " o" + k
                                    + "/" + order + " NFE " + nfe + " [" + i + "]");
                            far = Math.max(far, Math.abs(dpm[i] - ddim[i]));
                        }
                        assertTrue(far > 1e-3, "DPM-Solver++ differs from DDIM here: " + far);
                    }
                }
            }
        }
        // checkpoint selection scores the iteration-0 table (the prior solver): on targets made by DPM-Solver++ 3M it
        // has error ~0 and is published, with the prior in the provenance
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        double[] target = run(c, io.solvertune.numerics.solver.dpm.DpmSolver.plusPlusMultistep(3), sp, NFE);
        TrainerSettings s = priorSettings(sp, 4, NFE, NFE, 5);
        ConsistencyTrainer.Selection sel = new ConsistencyTrainer.Selection(2, new int[] {NFE},
                java.util.List.of(Policy.Inference.EXPECTED), "0:32", (set, nfe) -> {
                    double[] got = planted(c, (Consistency) MethodCatalog.spec(set), sp, nfe);
                    double se = 0;
                    for (int i = 0; i < got.length; i++) {
                        se += (got[i] - target[i]) * (got[i] - target[i]);
                    }
                    return se / got.length;
                });
        ConsistencyTrainer t = new ConsistencyTrainer(c, target, s).withPrior(CoefficientPrior.multistep(3))
                .withSelection(sel);
        Path ck = dir.resolve("prior.json");
        t.train(ck, Integer.MAX_VALUE);
        assertEquals(java.util.List.of(0, 2, 4, 5), t.selectionCurve().stream()
                .map(ConsistencyTrainer.SelectionPoint::iteration).toList());
        assertTrue(t.selectionCurve().get(0).mse() < 1e-20, t.selectionCurve().toString());
        assertEquals(0, t.selected(NFE).iteration(), t.selectionCurve().toString());
        CoefficientSet published = t.selectedSet(NFE, Policy.Inference.EXPECTED, null);
        double[][] prior = io.solvertune.numerics.solver.consistency.MultistepPrior.coefficients(Form.DATA, 4, 3,
                model.schedule(), t.grid(NFE), true);
        assertTrue(java.util.Arrays.deepEquals(prior, published.values()));
        assertTrue(!java.util.Arrays.deepEquals(prior, t.table(NFE, Policy.Inference.EXPECTED)),
                "training moved the last iteration's table off the prior");
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> pm = (java.util.Map<String, Object>) published.provenance().settings()
                .get("prior");
        assertEquals("multistep", pm.get("kind"));
        assertEquals(3, pm.get("order"));
        assertEquals("dpmsolver++ multistep o3", pm.get("solver"));
        assertEquals(null, new ConsistencyTrainer(c, target, s).coefficientSet(NFE, Policy.Inference.EXPECTED, null)
                .provenance().settings().get("prior"), "no prior, no provenance entry");
        // the prior is part of the settings a checkpoint must match
        ConsistencyTrainer other = new ConsistencyTrainer(c, target, s).withSelection(sel);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.resume(ck));
        assertTrue(e.getMessage().startsWith("checkpoint:"), e.getMessage());
        ConsistencyTrainer same = new ConsistencyTrainer(c, target, s).withPrior(CoefficientPrior.multistep(3))
                .withSelection(sel);
        assertTrue(same.resume(ck));
        assertEquals(t.selectionCurve(), same.selectionCurve());
        // what a prior refuses, naming the field
        e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer(c, target,
                priorSettings(sp, 2, NFE, NFE, 5)).withPrior(CoefficientPrior.multistep(3)));
        assertTrue(e.getMessage().startsWith("priorOrder:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyTrainer(c, target,
                settings(TrainerSettings.PolicyKind.CATEGORICAL, 3, 5)).withPrior(CoefficientPrior.multistep(2)));
        assertTrue(e.getMessage().startsWith("prior:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CoefficientPrior.multistep(4));
        assertTrue(e.getMessage().startsWith("priorOrder:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CoefficientPrior(CoefficientPrior.Kind.NONE, 2));
        assertTrue(e.getMessage().startsWith("priorOrder:"), e.getMessage());
    }
}
