package io.solvertune.numerics.solver.v3;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * With the degenerate statistics {@code l = 1, s = b = 0} DPM-Solver-v3 (no corrector, no pseudo order) integrates
 * the polynomial interpolating the data predictions exactly, except that {@code I = int e^L} and the {@code E_k} are
 * trapezoid sums on the statistics grid. For orders 1 and 2 that is DPM-Solver++ multistep in its 'taylor' form on
 * the snapped times: the gap must shrink monotonically and about quadratically in the grid size K.
 *
 * <p>Order 3 is different: the official DPM-Solver++ 3M weighs the curvature term {@code D2} with {@code phi_3}
 * where the exact integral of the quadratic interpolant has {@code 2 phi_3}, so v3 (order 3) does not converge to
 * 3M; we check that its distance to 3M levels off while v3 itself converges quadratically in K (a numpy port of both
 * official codes shows the same, and that v3 converges to "3M with 2 phi_3").
 */
class DpmSolverV3DegenerateTest {
    static final int[] GRID_SIZES = {60, 120, 240, 480};
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("public_gmm_linear_d8", 1, 6, true),
                Arguments.of("public_gmm_linear_d8", 2, 6, true),
                Arguments.of("public_gmm_linear_d8", 2, 10, false),
                Arguments.of("public_gmm_sd_d8", 1, 5, true),
                Arguments.of("public_gmm_sd_d8", 2, 5, true),
                Arguments.of("public_gmm_sd_d32_cfg5", 2, 5, true));
    }

    static double scaledMaxDiff(double[] a, double[] b) {
        double gap = 0;
        for (int i = 0; i < a.length; i++) {
            gap = Math.max(gap, Math.abs(a[i] - b[i]) / Math.max(1.0, Math.abs(b[i])));
        }
        return gap;
    }

    /** Degenerate v3 on K grid intervals (logSNR spacing, no corrector); {@code out[0]} receives grid and NFE. */
    static double[] v3(ReferenceProblem p, int k, int order, int steps, boolean lowerOrderFinal, SampleResult[] out) {
        long d = p.get("x_T").shape()[1];
        EmpiricalModelStatistics ems = EmpiricalModelStatistics.degenerate(new EmsGrid(k, p.tStart, p.tEnd),
                new long[] {d});
        SolverSpec v3 = new DpmSolverV3(ems, order, false, false, false, false, false, null);
        SamplerConfig cfg = new SamplerConfig(v3, new TimestepSpacing.LogSnr(), steps, p.tStart, p.tEnd,
                lowerOrderFinal, false);
        double[] x = sample(p, cfg, out);
        assertEquals(steps, out[0].nfe());
        return x;
    }

    /** DPM-Solver++ multistep 'taylor' on the given times. */
    static double[] dpmPlusPlus(ReferenceProblem p, double[] times, int order, boolean lowerOrderFinal) {
        SolverSpec dpm = new DpmSolver(PredictionType.DATA, DpmSolver.Method.MULTISTEP, order,
                DpmSolver.SolverType.TAYLOR);
        SamplerConfig cfg = new SamplerConfig(dpm, new TimestepSpacing.Explicit(times), times.length - 1, null, null,
                lowerOrderFinal, false);
        SampleResult[] r = new SampleResult[1];
        double[] x = sample(p, cfg, r);
        assertArrayEquals(times, r[0].grid(), 0.0);
        return x;
    }

    static double[] sample(ReferenceProblem p, SamplerConfig cfg, SampleResult[] out) {
        NpyArray xT = p.get("x_T");
        try (NDManager m = manager.newSubManager(); GaussianMixtureDenoiser model = p.model()) {
            NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
            SampleResult r = Sampler.sample(cfg, new ModelFunction(model, p.guidance), x);
            out[0] = new SampleResult(null, r.grid(), r.nfe(), 0, 0);
            return r.x().toDoubleArray();
        }
    }

    @ParameterizedTest(name = "{0} order {1}, {2} steps, lower_order_final {3}")
    @MethodSource("cases")
    void gapToDpmSolverPlusPlusShrinksQuadraticallyInK(String problem, int order, int steps, boolean lof) {
        ReferenceProblem p = ReferenceProblem.load(problem);
        double[] gaps = new double[GRID_SIZES.length];
        StringBuilder report = new StringBuilder();
        for (int g = 0; g < GRID_SIZES.length; g++) {
            int k = GRID_SIZES[g];
            SampleResult[] r3 = new SampleResult[1];
            double[] ours = v3(p, k, order, steps, lof, r3);
            double[] theirs = dpmPlusPlus(p, r3[0].grid(), order, lof);
            gaps[g] = scaledMaxDiff(ours, theirs);
            report.append(String.format("K=%d gap %.3e%s; ", k, gaps[g],
                    g > 0 ? String.format(" (ratio %.2f)", gaps[g - 1] / gaps[g]) : ""));
        }
        System.out.printf("dpmsolver-v3 degenerate vs dpmsolver++ taylor, %s o%d %d steps lof=%s: %s%n", problem, order,
                steps, lof, report);
        for (int g = 1; g < gaps.length; g++) {
            assertTrue(gaps[g] < gaps[g - 1], "gap must shrink with K: " + report);
            double ratio = gaps[g - 1] / gaps[g];
            assertTrue(ratio > 3.5 && ratio < 4.5, "halving the grid step should divide the gap by about 4: " + report);
        }
        assertTrue(gaps[gaps.length - 1] < 1e-3, "gap at the finest grid: " + report);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("order3Problems")
    void order3ConvergesQuadraticallyButNotTo3M(String problem, int steps) {
        ReferenceProblem p = ReferenceProblem.load(problem);
        int[] sizes = {60, 120, 240, 480, 960};
        double[][] x = new double[sizes.length][];
        double[] to3m = new double[sizes.length];
        StringBuilder report = new StringBuilder();
        for (int g = 0; g < sizes.length; g++) {
            SampleResult[] r3 = new SampleResult[1];
            x[g] = v3(p, sizes[g], 3, steps, true, r3);
            to3m[g] = scaledMaxDiff(x[g], dpmPlusPlus(p, r3[0].grid(), 3, true));
        }
        double[] self = new double[sizes.length - 1];
        for (int g = 0; g < self.length; g++) {
            self[g] = scaledMaxDiff(x[g], x[g + 1]);
            report.append(String.format("|v3(K=%d) - v3(K=%d)| %.3e%s; ", sizes[g], sizes[g + 1], self[g],
                    g > 0 ? String.format(" (ratio %.2f)", self[g - 1] / self[g]) : ""));
        }
        StringBuilder gaps = new StringBuilder();
        for (int g = 0; g < sizes.length; g++) {
            gaps.append(String.format("K=%d %.3e; ", sizes[g], to3m[g]));
        }
        System.out.printf("dpmsolver-v3 degenerate o3, %s %d steps: self-convergence %s distance to 3M %s%n", problem,
                steps, report, gaps);
        for (int g = 1; g < self.length; g++) {
            double ratio = self[g - 1] / self[g];
            assertTrue(ratio > 3.5 && ratio < 4.5, "v3 must converge quadratically in K: " + report);
        }
        // the limit differs from 3M by far more than the quadrature error
        assertTrue(to3m[sizes.length - 1] > 100 * self[self.length - 1], "distance to 3M: " + gaps);
        assertTrue(Math.abs(to3m[sizes.length - 1] - to3m[sizes.length - 2]) < 0.05 * to3m[sizes.length - 1],
                "distance to 3M levels off: " + gaps);
    }

    static Stream<Arguments> order3Problems() {
        return Stream.of(Arguments.of("public_gmm_linear_d8", 6), Arguments.of("public_gmm_sd_d32_cfg5", 5));
    }
}
