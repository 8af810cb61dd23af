package io.solvertune.numerics.solver.dode;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.Step;
import io.solvertune.numerics.solver.StepListener;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** D-ODE sampler: neutral lambdas are the base bit for bit; the correction is the official extrapolation. */
class DodeSolverTest {
    static NDManager manager;
    static ReferenceProblem problem;
    static GaussianMixtureDenoiser model;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
        problem = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        model = problem.model();
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    /** Every supported base: ddim, DPM-Solver(++) multistep 1-3 both types, UniPC bh1/bh2 1-3 both predictions. */
    static List<SolverSpec> bases() {
        List<SolverSpec> out = new ArrayList<>();
        out.add(new Ddim());
        for (PredictionType p : new PredictionType[] {PredictionType.DATA, PredictionType.NOISE}) {
            for (int order = 1; order <= 3; order++) {
                out.add(new DpmSolver(p, DpmSolver.Method.MULTISTEP, order, DpmSolver.SolverType.DPMSOLVER));
                for (UniPc.Variant v : UniPc.Variant.values()) {
                    out.add(new UniPc(p, v, order));
                }
            }
            out.add(new DpmSolver(p, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.TAYLOR));
        }
        return out;
    }

    static double[] run(SolverSpec spec, TimestepSpacing spacing, int steps, StepListener listener) {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(problem.get("x_T").doubles(), new Shape(problem.get("x_T").shape()));
            SamplerConfig cfg = new SamplerConfig(spec, spacing, steps, problem.tStart, problem.tEnd, true, false);
            SampleResult r = Sampler.sample(cfg, new ModelFunction(model, problem.guidance), x, listener);
            assertEquals(steps, r.nfe(), spec.label());
            return r.x().toDoubleArray();
        }
    }

    @Test
    void zeroLambdasReproduceEveryBaseBitForBit() {
        // 5 steps: lower-order final steps of both families; 12: DPM-Solver keeps its order to the end
        TimestepSpacing[] spacings = {new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr()};
        int[] stepCounts = {5, 12};
        for (int k = 0; k < 2; k++) {
            for (SolverSpec base : bases()) {
                int steps = stepCounts[k];
                double[] plain = run(base, spacings[k], steps, StepListener.NONE);
                double[] tuned = run(new Dode(base, new double[steps]), spacings[k], steps, StepListener.NONE);
                assertArrayEquals(plain, tuned, base.label() + " " + spacings[k].id() + " " + steps);
            }
        }
    }

    @Test
    void nonZeroLambdaChangesTheSampleAndOnlyFromItsStepOn() {
        int steps = 6;
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        for (SolverSpec base : bases()) {
            TrajectoryRecorder a = new TrajectoryRecorder();
            TrajectoryRecorder b = new TrajectoryRecorder();
            run(base, sp, steps, a);
            run(new Dode(base, new double[] {0, 0, 0, 0.2, 0, 0}), sp, steps, b);
            for (int i = 0; i <= 3; i++) {
                assertArrayEquals(a.states().get(i), b.states().get(i), base.label() + " state " + i);
            }
            for (int i = 4; i <= steps; i++) {
                assertNotEquals(a.states().get(i)[0], b.states().get(i)[0], base.label() + " state " + i);
            }
        }
    }

    /** Records the states and the model output each step used at its start. */
    static final class Outputs implements StepListener {
        final List<double[]> x = new ArrayList<>();
        final List<double[]> out = new ArrayList<>();
        double[] grid;

        @Override
        public void onStart(double[] grid, NDArray xT) {
            this.grid = grid;
            x.add(xT.toDoubleArray());
        }

        @Override
        public void onStep(int index, double s, double t, NDArray xt, NDArray modelOutputAtS) {
            x.add(xt.toDoubleArray());
            out.add(modelOutputAtS.toDoubleArray());
        }
    }

    @Test
    void dDdimIsTheOfficialExtrapolationWithTheRawHistory() {
        // x_{i+1} = ratio x_i + (alpha_t - alpha_s ratio) (x0_i + lambda_i (x0_i - x0_{i-1})), x0 raw model outputs
        double[] lambdas = {0, 0.3, -0.2, 0.15, 0.05};
        Outputs rec = new Outputs();
        run(new Dode(new Ddim(), lambdas), new TimestepSpacing.TimeUniform(), 5, rec);
        NoiseSchedule ns = problem.schedule;
        for (int i = 0; i < 5; i++) {
            double s = rec.grid[i];
            double t = rec.grid[i + 1];
            double ratio = ns.sigma(t) / ns.sigma(s);
            double c = ns.alpha(t) - ns.alpha(s) * ratio;
            double[] xi = rec.x.get(i);
            double[] o = rec.out.get(i);
            double[] prev = i == 0 ? o : rec.out.get(i - 1);
            double[] got = rec.x.get(i + 1);
            for (int e = 0; e < xi.length; e++) {
                double want = ratio * xi[e] + c * (o[e] + lambdas[i] * (o[e] - prev[e]));
                assertEquals(want, got[e], 1e-12 * Math.max(1, Math.abs(want)), "step " + i);
            }
        }
    }

    @Test
    void noisePredictionFirstStepExtrapolatesFromTheState() {
        // official d_sampler.py first update: x_t = (alpha_t/alpha_s) x - sigma_t phi_1 (eps + lambda (eps - x))
        double lambda = 0.25;
        SolverSpec base = new DpmSolver(PredictionType.NOISE, DpmSolver.Method.MULTISTEP, 1,
                DpmSolver.SolverType.DPMSOLVER);
        Outputs rec = new Outputs();
        run(new Dode(base, new double[] {lambda, 0, 0}), new TimestepSpacing.LogSnr(), 3, rec);
        NoiseSchedule ns = problem.schedule;
        double s = rec.grid[0];
        double t = rec.grid[1];
        double h = ns.lambda(t) - ns.lambda(s);
        double phi1 = Math.expm1(h);
        double[] x = rec.x.get(0);
        double[] eps = rec.out.get(0);
        double[] got = rec.x.get(1);
        for (int e = 0; e < x.length; e++) {
            double want = Math.exp(ns.logAlpha(t) - ns.logAlpha(s)) * x[e]
                    - ns.sigma(t) * phi1 * (eps[e] + lambda * (eps[e] - x[e]));
            assertEquals(want, got[e], 1e-12 * Math.max(1, Math.abs(want)));
        }
    }

    /** A model whose output depends on time only: every base step is then exactly affine in its history values. */
    record TimeOnly(NoiseSchedule schedule, PredictionType predictionType) implements Denoiser {
        @Override
        public NDArray predict(NDArray x, double t, NDArray labels) {
            NDArray r = x.onesLike();
            r.muli(Math.sin(7 * t) + 0.3);
            return r;
        }

        @Override
        public long[] sampleShape() {
            return new long[] {4};
        }
    }

    @Test
    void correctionIsTheBaseUpdateWithTheExtrapolatedOutputSubstituted() {
        // at every step of every base: base(history with o_i -> o_i + d) - base(history) = c_i d, c_i the coefficient
        // DodeSolver uses; with a time-only model the corrector's own evaluation does not depend on o_i
        NoiseSchedule ns = problem.schedule;
        Random rnd = new Random(3);
        for (SolverSpec base : bases()) {
            for (int steps : new int[] {4, 6}) {
                SamplerConfig cfg = new SamplerConfig(base, new TimestepSpacing.TimeUniform(), steps, problem.tStart,
                        problem.tEnd, true, false);
                double[] grid = cfg.spacing().times(ns, problem.tStart, problem.tEnd, steps);
                for (int i = 1; i < steps; i++) {
                    double[][] hist = new double[Math.min(3, i + 1)][8];
                    for (double[] row : hist) {
                        for (int e = 0; e < row.length; e++) {
                            row[e] = rnd.nextGaussian();
                        }
                    }
                    double[] x = new double[8];
                    for (int e = 0; e < x.length; e++) {
                        x[e] = rnd.nextGaussian();
                    }
                    double[] d = new double[8];
                    for (int e = 0; e < d.length; e++) {
                        d[e] = 1e-3 * rnd.nextGaussian();
                    }
                    double[] plain = baseStep(base, cfg, grid, i, hist, x, null);
                    double[] moved = baseStep(base, cfg, grid, i, hist, x, d);
                    double c = coefficient(base, cfg, grid, i, hist, x);
                    for (int e = 0; e < 8; e++) {
                        assertEquals(c * d[e], moved[e] - plain[e], 1e-11, base.label() + " step " + i + "/" + steps);
                    }
                    assertTrue(c != 0.0);
                }
            }
        }
    }

    private static Step stepWith(SolverSpec base, SamplerConfig cfg, double[] grid, int i, double[][] hist,
                                 double[] add, NDManager m, Solver solver) {
        PredictionType type = solver.historyType();
        ModelFunction fn = new ModelFunction(new TimeOnly(problem.schedule, type), Guidance.none());
        History h = new History(Math.max(3, solver.historyCapacity()), m);
        for (int k = hist.length - 1; k >= 0; k--) {
            double[] v = hist[k].clone();
            if (k == 0 && add != null) {
                for (int e = 0; e < v.length; e++) {
                    v[e] += add[e];
                }
            }
            h.add(grid[i - k], m.create(v, new Shape(2, 4)));
        }
        h.commit();
        return new Step(i, grid, problem.schedule, fn, type, h, cfg);
    }

    private static double[] baseStep(SolverSpec base, SamplerConfig cfg, double[] grid, int i, double[][] hist,
                                     double[] x, double[] add) {
        try (NDManager m = manager.newSubManager()) {
            Solver solver = base.create();
            Step step = stepWith(base, cfg, grid, i, hist, add, m, solver);
            return solver.step(step, m.create(x, new Shape(2, 4))).toDoubleArray();
        }
    }

    private static double coefficient(SolverSpec base, SamplerConfig cfg, double[] grid, int i, double[][] hist,
                                      double[] x) {
        try (NDManager m = manager.newSubManager()) {
            DodeSolver solver = new DodeSolver(base, null, (k, xb, dl) -> 0.0);
            Step step = stepWith(base, cfg, grid, i, hist, null, m, solver);
            return solver.startCoefficient(step);
        }
    }

    @Test
    void badInputIsRejectedNamingTheField() {
        SolverSpec ddim = new Ddim();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> run(new Dode(ddim, new double[4]), new TimestepSpacing.TimeUniform(), 5, StepListener.NONE));
        assertTrue(e.getMessage().contains("lambdas has 4 entries") && e.getMessage().contains("5 steps"), e.getMessage());
        SolverSpec single = new DpmSolver(PredictionType.DATA, DpmSolver.Method.SINGLESTEP, 2, null);
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(single, new double[5]));
        assertTrue(e.getMessage().startsWith("dode: base must be"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(new EdmHeun(), new double[5]));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(null, new double[5]));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Dode(new Dode(ddim, new double[5]), new double[5]));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(ddim, null));
        assertTrue(e.getMessage().contains("lambdas"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(ddim, new double[] {0, Double.NaN}));
        assertTrue(e.getMessage().contains("lambdas[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dode(ddim, new double[] {0.1, 0}));
        assertTrue(e.getMessage().contains("lambdas[0] must be 0"), e.getMessage());
        // a noise-prediction base corrects its first step (o_{-1} = x)
        new Dode(new UniPc(PredictionType.NOISE, UniPc.Variant.BH1, 2), new double[] {0.1, 0});
    }
}
