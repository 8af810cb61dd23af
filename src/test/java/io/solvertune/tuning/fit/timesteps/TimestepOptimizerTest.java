package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.eval.Evaluation;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The optimiser recovers a planted grid through the real unrolled solver, and returns an unimprovable start bit for
 * bit.
 */
class TimestepOptimizerTest {
    static GaussianMixtureDenoiser model;
    static final Guidance G = Guidance.perSeed(1.0);
    static final int ROWS = 16;

    @BeforeAll
    static void init() throws Exception {
        model = (GaussianMixtureDenoiser) Presets.load("gmm-sd-d32").build(Presets.baseDir());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Targets whose "teacher" is {@code solver} itself on {@code planted}: that grid has error exactly 0. */
    static Evaluation.Targets planted(SolverSpec solver, double[] planted) {
        NoiseSchedule s = model.schedule();
        long[] seeds = new long[ROWS];
        int per = 32;
        double[] x0 = new double[ROWS * per];
        Random r = new Random(11);
        for (int i = 0; i < ROWS; i++) {
            seeds[i] = i;
        }
        for (int i = 0; i < x0.length; i++) {
            x0[i] = r.nextGaussian();
        }
        double[] fin;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xT = Nd.create(m, x0, new Shape(ROWS, per), DataType.FLOAT64);
            SamplerConfig cfg = new SamplerConfig(solver, new TimestepSpacing.Explicit(planted), planted.length - 1,
                    planted[0], planted[planted.length - 1], true, false);
            fin = Nd.toDoubles(Sampler.sample(cfg, new ModelFunction(model, G, G.rowLabels(seeds, model.numClasses())),
                    xT).x());
        }
        return new Evaluation.Targets(0, ROWS, seeds, x0, fin, new long[] {per}, s.defaultTStart(), s.defaultTEnd());
    }

    @Test
    void recoversAPlantedGridThroughTheSolver() {
        NoiseSchedule s = model.schedule();
        double t0 = s.defaultTStart();
        double t1 = s.defaultTEnd();
        SolverSpec solver = DpmSolver.plusPlusMultistep(2);
        int steps = 4;
        GridParameterisation p = new GridParameterisation(s, t0, t1, steps);
        double[] planted = p.times(new double[] {0.6, -0.4, 0.3, -0.5});
        Evaluation.Targets targets = planted(solver, planted);
        FinalStateObjective obj = new FinalStateObjective(model, G, targets, solver, true, steps, ROWS,
                DataType.FLOAT64);
        assertEquals(0.0, obj.evaluate(planted).meanMse(), 1e-24);
        double[] start = new TimestepSpacing.TimeUniform().times(s, t0, t1, steps);
        double startLoss = obj.evaluate(start).meanMse();
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(p, g -> obj.evaluate(g).meanMse(), List.of(start),
                new TimestepOptimizer.Settings(600, 0.5, 0, 1L));
        assertTrue(r.improved());
        assertTrue(r.loss() < 1e-6 * startLoss, "loss " + r.loss() + " vs start " + startLoss);
        double[] g = r.grid();
        for (int i = 0; i < g.length; i++) {
            assertEquals(s.lambda(planted[i]), s.lambda(g[i]), 2e-3, "lambda at " + i);
        }
        // the trace is the running best: decreasing, ending at the result
        for (int i = 1; i < r.trace().size(); i++) {
            assertTrue(r.trace().get(i).loss() < r.trace().get(i - 1).loss());
        }
        assertEquals(r.loss(), r.trace().get(r.trace().size() - 1).loss(), 0.0);
        assertTrue(r.evaluations() <= 600);
    }

    @Test
    void anUnimprovableStartIsReturnedBitForBit() {
        NoiseSchedule s = model.schedule();
        SolverSpec solver = DpmSolver.plusPlusMultistep(2);
        double[] start = new TimestepSpacing.Karras(7.0).times(s, s.defaultTStart(), s.defaultTEnd(), 5);
        Evaluation.Targets targets = planted(solver, start);
        FinalStateObjective obj = new FinalStateObjective(model, G, targets, solver, true, 5, ROWS, DataType.FLOAT64);
        GridParameterisation p = new GridParameterisation(s, start[0], start[5], 5);
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(p, g -> obj.evaluate(g).meanMse(), List.of(start),
                new TimestepOptimizer.Settings(60, 0.3, 0, 2L));
        assertFalse(r.improved());
        assertArrayEquals(start, r.grid(), 0.0);
        assertEquals(0, r.fromStart());
    }

    @Test
    void theBestOfSeveralStartsWinsAndBudgetOneEvaluatesOnlyStarts() {
        NoiseSchedule s = model.schedule();
        double t0 = s.defaultTStart();
        double t1 = s.defaultTEnd();
        GridParameterisation p = new GridParameterisation(s, t0, t1, 3);
        double[] a = new TimestepSpacing.TimeUniform().times(s, t0, t1, 3);
        double[] b = new TimestepSpacing.LogSnr().times(s, t0, t1, 3);
        int[] calls = {0};
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(p, g -> {
            calls[0]++;
            return java.util.Arrays.equals(g, b) ? 1.0 : 2.0;
        }, List.of(a, b), new TimestepOptimizer.Settings(1, 0.3, 0, 0L));
        assertEquals(2, calls[0]);
        assertArrayEquals(b, r.grid(), 0.0);
        assertEquals(1, r.fromStart());
        assertArrayEquals(new double[] {2.0, 1.0}, r.startLosses(), 0.0);
    }
}
