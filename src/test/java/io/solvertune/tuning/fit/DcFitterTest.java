package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.dc.Dc;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import io.solvertune.testing.ReferenceProblem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** DC ratio fitting: planted ratios are recovered, FINAL never ends worse than it starts, a real fit helps. */
class DcFitterTest {
    static final TimestepSpacing UNIFORM = new TimestepSpacing.TimeUniform();
    static final SolverSpec UNIPC = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);

    /** States at every grid time of a DC run with {@code ratios} from the context's rows (the planted targets). */
    static double[][] plantedTargets(FitContext ctx, ReferenceProblem p, SolverSpec base, double[] ratios) {
        TrajectoryRecorder rec = new TrajectoryRecorder();
        try (NDManager m = NDManager.newBaseManager()) {
            NpyArray xT = p.get("x_T");
            NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
            SamplerConfig cfg = new SamplerConfig(new Dc(base, ratios), UNIFORM, ratios.length, ctx.tStart(),
                    ctx.tEnd(), true, false);
            Sampler.sample(cfg, new ModelFunction(ctx.model(), ctx.guidance()), x, rec).x().close();
        }
        return rec.states().toArray(new double[0][]);
    }

    static DcFitter.Settings tight(int samples) {
        return DcFitter.Settings.defaults().withSamples(samples).withTolerances(1e-10, 1e-12)
                .withObjective(DcFitter.Objective.NEXT_STEP);
    }

    @Test
    void plantedRatiosAreRecoveredForUniPcAndDpmSolverPlusPlus() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        double[] planted = {1, 1, 1.2, 0.8, 1.1};
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 16);
            for (SolverSpec base : new SolverSpec[] {UNIPC, DpmSolver.plusPlusMultistep(2)}) {
                double[][] targets = plantedTargets(ctx, p, base, planted);
                CoefficientSet set = DcFitter.fit(ctx, base, UNIFORM, 5, tight(32), targets);
                double[] got = ((Dc) DcFitter.spec(set)).ratios();
                for (int i = 0; i < planted.length; i++) {
                    assertEquals(planted[i], got[i], 1e-5, base.label() + " ratio " + i + " of " + set);
                }
                CoefficientSet.FitReport r = set.fit();
                assertTrue(r.residuals()[4] < 1e-12 && r.baseResiduals()[2] > 1e-8, set.toString());
                assertEquals(32, r.samples());
                assertEquals(List.of("ratio"), set.columns());
                assertEquals(CoefficientSet.Method.DC, set.method());
                assertEquals(DcFitter.spec(set), DcFitter.spec(CoefficientSet.fromJson(set.toJson())));
            }
        }
    }

    @Test
    void finalObjectiveNeverEndsAboveItsStartAndRatiosRespectTheBounds() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 32);
            double[] grid = UNIFORM.times(p.schedule, p.tStart, p.tEnd, 6);
            double[][] targets = GridTeacher.states(ctx, grid, 200);
            DcFitter.Settings st = DcFitter.Settings.defaults().withSamples(32).withBounds(0.8, 1.2)
                    .withObjective(DcFitter.Objective.FINAL);
            DcFitter.Outcome o = DcFitter.fitDetailed(ctx, UNIPC, UNIFORM, 6, st, targets);
            assertTrue(o.finalMse() <= o.startFinalMse(), o.finalMse() + " > " + o.startFinalMse());
            assertTrue(o.finalMse() <= o.baseFinalMse(), o.finalMse() + " > " + o.baseFinalMse());
            assertEquals(o.finalMse(), o.set().fit().residuals()[5], 1e-15);
            assertEquals(o.baseFinalMse(), o.set().fit().baseResiduals()[5], 1e-15);
            for (double[] row : o.set().values()) {
                assertTrue(row[0] >= 0.8 && row[0] <= 1.2, "ratio " + row[0]);
            }
        }
    }

    @Test
    void continuationsOfASharedPrefixEqualFullRunsBitForBit() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        double[] ratios = {1, 1, 1.13, 0.91, 1.27, 0.66, 1.04};
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 5);
            for (SolverSpec base : new SolverSpec[] {UNIPC, DpmSolver.plusPlusMultistep(2)}) {
                double[][] targets = plantedTargets(ctx, p, base, new double[] {1, 1, 1, 1, 1, 1, 1});
                double full = DcFitter.finalMse(ctx, base, UNIFORM, ratios, targets, null);
                try (DcFitter.Prefix prefix = new DcFitter.Prefix(ctx, base, UNIFORM, ratios.length)) {
                    for (int i = 0; i < ratios.length; i++) {
                        assertEquals(i, prefix.index());
                        assertEquals(full, prefix.finalMse(ratios, targets[ratios.length]), 0.0,
                                base.label() + " continued from step " + i);
                        if (i >= 2) {  // a different ratio at the searched step; the prefix does not move
                            double[] other = ratios.clone();
                            other[i] = ratios[i] + 0.2;
                            double moved = prefix.finalMse(other, targets[ratios.length]);
                            assertEquals(DcFitter.finalMse(ctx, base, UNIFORM, other, targets, null), moved, 0.0);
                            assertTrue(moved != full, base.label() + " step " + i);
                        }
                        prefix.advance(ratios[i]);
                    }
                }
            }
        }
    }

    @Test
    void nextStepFitOnTheReferenceProblemLowersTheTrainingFinalMse() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        SolverSpec base = new UniPc(PredictionType.DATA, UniPc.Variant.BH1, 3);
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 32);
            DcFitter.Settings st = new DcFitter.Settings(32, 0.5, 1.5, DcFitter.Objective.NEXT_STEP, 200, 1e-6, 1e-9, 50, 0, 1, 1e-3);
            CoefficientSet set = DcFitter.fit(ctx, base, UNIFORM, 6, st);
            double[] grid = set.times();
            double[][] targets = GridTeacher.states(ctx, grid, 200);
            double tuned = DcFitter.finalMse(ctx, base, UNIFORM, ((Dc) DcFitter.spec(set)).ratios(),
                    targets, null);
            double plain = DcFitter.finalMse(ctx, base, UNIFORM, Dc.neutral(base, 6).ratios(), targets,
                    null);
            assertTrue(tuned < plain, "tuned " + tuned + " vs plain " + plain + " " + set);
            CoefficientSet.FitReport r = set.fit();
            for (int i = 0; i < 6; i++) {
                assertTrue(r.residuals()[i] <= r.baseResiduals()[i], "step " + i);
                assertTrue(r.iterations()[i] >= 1);
            }
            assertEquals("NEXT_STEP", set.provenance().settings().get("objective"));
        }
    }

    @Test
    void catalogDcMethodsFitWithinTheGivenBounds() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        MethodCatalog.DcOptions narrow = new MethodCatalog.DcOptions(0.9, 1.05);
        assertTrue(MethodCatalog.method("iia-ddim", narrow) == MethodCatalog.method("iia-ddim"));
        assertTrue(MethodCatalog.method("dc", MethodCatalog.DcOptions.DEFAULT) == MethodCatalog.method("dc"));
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 32);
            for (String name : new String[] {"dc", "dc-final"}) {
                CoefficientSet set = MethodCatalog.method(name, narrow).fitter().fit(ctx, UNIPC, UNIFORM, 6);
                assertEquals(0.9, ((Number) set.provenance().settings().get("lower")).doubleValue());
                assertEquals(1.05, ((Number) set.provenance().settings().get("upper")).doubleValue());
                for (double[] row : set.values()) {
                    assertTrue(row[0] >= 0.9 && row[0] <= 1.05, name + " ratio " + row[0]);
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MethodCatalog.DcOptions(0.5, 0.9));
        assertTrue(e.getMessage().contains("--dc-bounds"), e.getMessage());
    }

    @Test
    void badInputNamesTheField() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        try (GaussianMixtureDenoiser model = p.model()) {
            FitContext ctx = GridTeacherTest.context(p, model, 32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DcFitter.fit(ctx, UNIPC, UNIFORM, 5, DcFitter.Settings.defaults().withSamples(64)));
            assertTrue(e.getMessage().contains("samples (64)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DcFitter.Settings.defaults().withBounds(1.0, 1.5));
            assertTrue(e.getMessage().contains("bounds"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DcFitter.fit(ctx, UNIPC, UNIFORM, 5, tight(8), new double[6][3]));
            assertTrue(e.getMessage().contains("targets[1]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> DcFitter.fit(ctx, new Ddim(), UNIFORM, 5, tight(8), new double[6][64]));
            assertTrue(e.getMessage().contains("base"), e.getMessage());
        }
    }
}
