package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dode.Dode;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.Linspace;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import io.solvertune.numerics.spec.ModelSpec;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The D-ODE fitter: planted lambdas are recovered, real fits lower the training error, bad input is named. */
class DodeFitterTest {
    static GaussianMixtureDenoiser model;

    @BeforeAll
    static void init() throws Exception {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        model = (GaussianMixtureDenoiser) spec.build(Presets.baseDir());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static FitContext context(Denoiser m, Guidance g, int rows, int batch) {
        long[] seeds = Seeds.range(100, rows);
        NoiseSchedule ns = m.schedule();
        int per = Teacher.perSample(m.sampleShape());
        double[] x = Seeds.initialNoise(seeds, per, Seeds.noiseScale(ns, ns.defaultTStart()));
        return new FitContext(m, g, seeds, x, m.sampleShape(), ns.defaultTStart(), ns.defaultTEnd(), DataType.FLOAT64,
                batch, Progress.NONE, null);
    }

    /** States at grid times 1..steps of {@code spec} run on the context's rows (one batch). */
    static double[][] statesOf(FitContext ctx, SolverSpec spec, TimestepSpacing spacing, int steps) {
        SamplerConfig cfg = SamplerConfig.of(spec, spacing, steps).withTimeRange(ctx.tStart(), ctx.tEnd());
        TrajectoryRecorder rec = new TrajectoryRecorder();
        try (NDManager m = NDManager.newBaseManager()) {
            long[] shape = new long[ctx.sampleShape().length + 1];
            shape[0] = ctx.rows();
            System.arraycopy(ctx.sampleShape(), 0, shape, 1, ctx.sampleShape().length);
            NDArray xT = Nd.create(m, ctx.initial(), new Shape(shape), DataType.FLOAT64);
            ModelFunction fn = new ModelFunction(ctx.model(), ctx.guidance(),
                    ctx.guidance().rowLabels(ctx.seeds(), ctx.model().numClasses()));
            Sampler.sample(cfg, fn, xT, rec).x().close();
        }
        List<double[]> st = rec.states();
        return st.subList(1, st.size()).toArray(new double[0][]);
    }

    static double mse(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s / a.length;
    }

    @Test
    void plantedLambdasAreRecovered() {
        Guidance g = Guidance.classifierFree(0, 7.5);
        double[] planted = {0, 0.3, -0.2, 0.15, 0.05};
        List<SolverSpec> bases = List.of(new Ddim(), DpmSolver.plusPlusMultistep(2),
                DpmSolver.plusPlusMultistep(3),
                new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3),
                new UniPc(PredictionType.DATA, UniPc.Variant.BH1, 2));
        for (int b = 0; b < bases.size(); b++) {
            SolverSpec base = bases.get(b);
            TimestepSpacing spacing = b % 2 == 0 ? new TimestepSpacing.TimeUniform() : new TimestepSpacing.LogSnr();
            // one batch (one pass) and three batches (one pass per step) must agree
            for (int batch : b % 3 == 0 ? new int[] {24, 10} : new int[] {24}) {
                FitContext ctx = context(model, g, 24, batch);
                double[][] targets = statesOf(ctx, new Dode(base, planted), spacing, 5);
                CoefficientSet set = DodeFitter.fit(ctx, base, spacing, 5, DodeFitter.Settings.of(24), targets);
                double[] got = ((Dode) DodeFitter.spec(set)).lambdas();
                for (int i = 0; i < 5; i++) {
                    assertEquals(planted[i], got[i], 1e-8, base.label() + " " + spacing.id() + " batch " + batch
                            + " " + Arrays.toString(got));
                    assertTrue(set.fit().residuals()[i] <= 1e-13, "residual " + set.fit().residuals()[i]);
                }
                assertEquals(0.0, got[0], 0.0); // data prediction: the first step is never corrected
                assertTrue(set.fit().warnings().isEmpty(), set.fit().warnings().toString());
            }
        }
        // a noise-prediction base corrects its first step against the state
        SolverSpec noise = new DpmSolver(PredictionType.NOISE, DpmSolver.Method.MULTISTEP, 2,
                DpmSolver.SolverType.DPMSOLVER);
        double[] plantedNoise = {0.1, 0.3, -0.2, 0.15, 0.05};
        FitContext ctx = context(model, g, 16, 16);
        double[][] targets = statesOf(ctx, new Dode(noise, plantedNoise), new TimestepSpacing.LogSnr(), 5);
        CoefficientSet set = DodeFitter.fit(ctx, noise, new TimestepSpacing.LogSnr(), 5, DodeFitter.Settings.of(16),
                targets);
        assertArrayEquals(plantedNoise, ((Dode) DodeFitter.spec(set)).lambdas(), 1e-8);
    }

    @Test
    void fitLowersTheTrainingErrorAgainstTheRefinedSolve() {
        Guidance g = Guidance.classifierFree(0, 7.5);
        FitContext ctx = context(model, g, 32, 32);
        TimestepSpacing spacing = new TimestepSpacing.TimeUniform();
        for (SolverSpec base : List.of(new Ddim(), DpmSolver.plusPlusMultistep(2),
                new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3))) {
            int nfe = 5;
            CoefficientSet set = DodeFitter.fit(ctx, base, spacing, nfe, DodeFitter.Settings.of(32));
            assertEquals(CoefficientSet.Method.DODE, set.method());
            assertEquals(base, set.base());
            assertEquals(nfe, set.steps());
            assertEquals(nfe, set.nfe());
            assertEquals(List.of("lambda"), set.columns());
            assertArrayEquals(spacing.times(model.schedule(), ctx.tStart(), ctx.tEnd(), nfe), set.times());
            assertEquals(32, set.fit().samples());
            assertEquals(10, set.provenance().settings().get("scale"));
            assertEquals(32, set.provenance().trainSeeds().length);
            assertTrue(set.validation() == null);
            for (int i = 0; i < nfe; i++) {
                assertTrue(set.fit().residuals()[i] <= set.fit().baseResiduals()[i], "step " + i);
            }
            // the official targets: the same base solver with 10x the steps, states at the coarse times
            double[][] fine = statesOf(ctx, base, new TimestepSpacing.Explicit(
                    DodeFitter.refinedGrid(model.schedule(), spacing, set.times(), 10)), nfe * 10);
            double[] target = fine[fine.length - 1];
            double[][] tuned = statesOf(ctx, DodeFitter.spec(set), spacing, nfe);
            double[][] plain = statesOf(ctx, base, spacing, nfe);
            double tunedMse = mse(tuned[nfe - 1], target);
            double baseMse = mse(plain[nfe - 1], target);
            assertEquals(set.fit().residuals()[nfe - 1], tunedMse, 1e-9 * tunedMse);
            if (!(base instanceof UniPc)) {
                // greedy per-step fitting does not guarantee a better final state: for UniPC bh2 o3 here it is worse
                // (0.0158 vs 0.0077; its next model value stays at the uncorrected predictor point)
                assertTrue(tunedMse < 0.2 * baseMse, base.label() + ": tuned " + tunedMse + " vs base " + baseMse);
            }

            // the artifact round-trips and the tuned spec is a D-ODE spec of the base
            CoefficientSet back = CoefficientSet.fromJson(set.toJson());
            assertEquals(set, back);
            assertEquals(DodeFitter.spec(set), DodeFitter.spec(back));
            SolverSpec tunedSpec = DodeFitter.spec(set);
            assertEquals(tunedSpec, Json.MAPPER.convertValue(Json.MAPPER.convertValue(tunedSpec, Object.class),
                    SolverSpec.class));
        }
    }

    @Test
    void teacherTargetsPassThroughTheCoarseTimes() {
        FitContext ctx = context(model, Guidance.classifierFree(0, 1.0), 16, 16);
        TimestepSpacing spacing = new TimestepSpacing.LogSnr();
        CoefficientSet set = DodeFitter.fit(ctx, DpmSolver.plusPlusMultistep(2), spacing, 6,
                new DodeFitter.Settings(16, 10, 0.0, DodeFitter.Target.TEACHER, 150));
        assertEquals("TEACHER", set.provenance().settings().get("target"));
        assertEquals(150, set.provenance().settings().get("teacherSteps"));
        for (int i = 1; i < 6; i++) {
            assertTrue(set.fit().residuals()[i] <= set.fit().baseResiduals()[i]);
        }
        double[] coarse = set.times();
        double[] grid = GridTeacher.fineGrid(model.schedule(), coarse, 500).times();
        assertTrue(Math.abs(grid.length - 501) <= 6, "teacher steps " + (grid.length - 1));
        int found = 0;
        for (double t : grid) {
            found += Arrays.stream(coarse).anyMatch(c -> c == t) ? 1 : 0;
        }
        assertEquals(coarse.length, found);
    }

    @Test
    void refinedGridIsTheOfficialScaledGridWithTheCoarseTimesOnIt() {
        NoiseSchedule ns = model.schedule();
        double t0 = ns.defaultTStart();
        double t1 = ns.defaultTEnd();
        for (TimestepSpacing sp : new TimestepSpacing[] {new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr(),
                new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7.0)}) {
            double[] coarse = sp.times(ns, t0, t1, 6);
            double[] fine = DodeFitter.refinedGrid(ns, sp, coarse, 10);
            assertEquals(61, fine.length);
            for (int i = 0; i <= 6; i++) {
                assertEquals(coarse[i], fine[10 * i], 0.0, sp.id());
            }
            double[] official = sp.times(ns, t0, t1, 60);
            for (int i = 0; i <= 60; i++) {
                assertEquals(official[i], fine[i], 1e-12, sp.id() + " " + i);
            }
        }
        assertArrayEquals(Linspace.of(t0, t1, 61), DodeFitter.refinedGrid(ns, new TimestepSpacing.TimeUniform(),
                Linspace.of(t0, t1, 7), 10), 1e-15);
    }

    @Test
    void badInputIsRejectedNamingTheField() {
        FitContext ctx = context(model, Guidance.classifierFree(0, 1.0), 8, 8);
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        SolverSpec ddim = new Ddim();
        SolverSpec single = new DpmSolver(PredictionType.DATA, DpmSolver.Method.SINGLESTEP, 2, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DodeFitter.fit(ctx, single, sp, 5, DodeFitter.Settings.of(8)));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DodeFitter.fit(ctx, ddim, sp, 5, DodeFitter.Settings.of(9)));
        assertTrue(e.getMessage().contains("samples"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DodeFitter.fit(ctx, ddim, sp, 5, DodeFitter.Settings.of(8), new double[4][8 * 32]));
        assertTrue(e.getMessage().contains("targets"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DodeFitter.fit(ctx, ddim, sp, 5, DodeFitter.Settings.of(8), new double[5][7]));
        assertTrue(e.getMessage().contains("targets[0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DodeFitter.Settings(8, 0, 0, null, 500));
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DodeFitter.Settings(8, 10, -1, null, 500));
        assertTrue(e.getMessage().contains("ridge"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DodeFitter.fit(ctx, ddim, sp, 0, DodeFitter.Settings.of(8)));
        assertTrue(e.getMessage().contains("nfe"), e.getMessage());
        CoefficientSet set = DodeFitter.fit(ctx, ddim, sp, 3, DodeFitter.Settings.of(8));
        CoefficientSet wrong = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC, ddim, sp, 3, 3,
                set.times(), List.of("ratio"), set.values(), null, null, null);
        e = assertThrows(IllegalArgumentException.class, () -> DodeFitter.spec(wrong));
        assertTrue(e.getMessage().contains("method"), e.getMessage());
    }
}
