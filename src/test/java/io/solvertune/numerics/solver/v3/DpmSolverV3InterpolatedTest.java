package io.solvertune.numerics.solver.v3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DPM-Solver-v3 with {@link DpmSolverV3.Positions#INTERPOLATED} positions: on the snapped times it is the snapped
 * sampler bit for bit; off the grid it is continuous in the positions and, with degenerate statistics, converges
 * quadratically in K to DPM-Solver++ ('taylor') on the same off-grid times.
 */
class DpmSolverV3InterpolatedTest {
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
        DpmSolverV3DegenerateTest.manager = manager;   // its sampling helpers
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static EmpiricalModelStatistics ems(String problem) throws IOException {
        return EmsNpz.read(ReferenceProblem.resource("ems_" + problem), 1.0, 1e-3);
    }

    static SampleResult run(NDManager m, ReferenceProblem p, SamplerConfig cfg) {
        NpyArray xT = p.get("x_T");
        NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
        try (GaussianMixtureDenoiser model = p.model()) {
            return Sampler.sample(cfg, new ModelFunction(model, p.guidance), x);
        }
    }

    static Stream<Arguments> settings() {
        return Stream.of(
                Arguments.of("public_gmm_linear_d8", "logSNR", 3, false, true, false, 6),
                Arguments.of("public_gmm_linear_d8", "time_uniform", 2, false, true, true, 5),
                Arguments.of("public_gmm_linear_d8", "time_quadratic", 3, true, true, false, 8),
                Arguments.of("public_gmm_sd_d8", "time_uniform", 2, false, true, true, 5),
                Arguments.of("public_gmm_sd_d8", "logSNR", 3, true, false, false, 10),
                Arguments.of("public_gmm_sd_d32_cfg5", "time_uniform", 3, false, true, false, 7));
    }

    @ParameterizedTest(name = "{0} {1} o{2} ppseudo {3} corr {4} cpseudo {5}, {6} steps")
    @MethodSource("settings")
    void onTheSnappedTimesTheInterpolatedPathIsTheSnappedOne(String problem, String spacing, int order,
                                                             boolean pPseudo, boolean corr, boolean cPseudo,
                                                             int steps) throws IOException {
        ReferenceProblem p = ReferenceProblem.load(problem);
        DpmSolverV3 snapped = new DpmSolverV3(ems(problem), order, pPseudo, corr, cPseudo, false, false, null);
        DpmSolverV3 interp = snapped.withPositions(DpmSolverV3.Positions.INTERPOLATED);
        try (NDManager m = manager.newSubManager()) {
            SampleResult a = run(m, p, new SamplerConfig(snapped, TimestepSpacing.named(spacing, 7.0), steps, 1.0,
                    1e-3, true, false));
            double[] grid = a.grid();
            SampleResult b = run(m, p, new SamplerConfig(interp, new TimestepSpacing.Explicit(grid), steps, null,
                    null, true, false));
            assertArrayEquals(grid, b.grid(), 0.0);
            assertArrayEquals(a.x().toDoubleArray(), b.x().toDoubleArray(), 0.0, "bit for bit");
            assertEquals(steps, b.nfe());

            // moving every inner time by a fraction of a grid step changes the result continuously
            double[] moved = grid.clone();
            NoiseScheduleShift shift = new NoiseScheduleShift(p, grid);
            for (int i = 1; i < moved.length - 1; i++) {
                moved[i] = shift.moved(i, 1e-6);
            }
            SampleResult c = run(m, p, new SamplerConfig(interp, new TimestepSpacing.Explicit(moved), steps, null,
                    null, true, false));
            double gap = DpmSolverV3DegenerateTest.scaledMaxDiff(c.x().toDoubleArray(), a.x().toDoubleArray());
            assertTrue(gap > 0 && gap < 1e-4, "a 1e-6 grid-step move changes the result by " + gap);
        }
    }

    /** Moves the i-th time by {@code fraction} of a statistics-grid step in lambda. */
    record NoiseScheduleShift(ReferenceProblem p, double[] grid) {
        double moved(int i, double fraction) {
            var ns = p.schedule;
            double dl = (ns.lambda(1e-3) - ns.lambda(1.0)) / 240;
            return ns.inverseLambda(ns.lambda(grid[i]) + fraction * dl);
        }
    }

    @Test
    void degenerateStatisticsOffTheGridConvergeToDpmSolverPlusPlusQuadratically() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_linear_d8");
        long d = p.get("x_T").shape()[1];
        int steps = 6;
        int order = 2;
        double[] times = new TimestepSpacing.TimeQuadratic().times(p.schedule, p.tStart, p.tEnd, steps);
        double[] theirs = DpmSolverV3DegenerateTest.dpmPlusPlus(p, times, order, true);
        int[] sizes = {60, 120, 240, 480};
        double[] gaps = new double[sizes.length];
        StringBuilder report = new StringBuilder();
        for (int g = 0; g < sizes.length; g++) {
            EmpiricalModelStatistics e = EmpiricalModelStatistics.degenerate(new EmsGrid(sizes[g], p.tStart, p.tEnd),
                    new long[] {d});
            SolverSpec v3 = new DpmSolverV3(e, order, false, false, false, false, false, null,
                    DpmSolverV3.Positions.INTERPOLATED);
            SampleResult[] r = new SampleResult[1];
            double[] ours = DpmSolverV3DegenerateTest.sample(p, new SamplerConfig(v3, new TimestepSpacing.Explicit(
                    times), steps, null, null, true, false), r);
            assertArrayEquals(times, r[0].grid(), 0.0, "the times as they are, not snapped");
            gaps[g] = DpmSolverV3DegenerateTest.scaledMaxDiff(ours, theirs);
            report.append(String.format("K=%d gap %.3e; ", sizes[g], gaps[g]));
        }
        System.out.println("dpmsolver-v3 interpolated degenerate vs dpmsolver++ taylor off the grid: " + report);
        for (int g = 1; g < gaps.length; g++) {
            double ratio = gaps[g - 1] / gaps[g];
            assertTrue(ratio > 3.0 && ratio < 5.0, "halving the grid step should divide the gap by about 4: " + report);
        }
        assertTrue(gaps[gaps.length - 1] < 1e-3, report.toString());
    }

    @Test
    void specJsonLabelAndValidation() throws IOException {
        EmpiricalModelStatistics e = ems("public_gmm_linear_d8");
        DpmSolverV3 snapped = DpmSolverV3.of(e, 2);
        DpmSolverV3 interp = snapped.withPositions(DpmSolverV3.Positions.INTERPOLATED);
        ObjectMapper om = new ObjectMapper();
        JsonNode js = om.valueToTree(snapped);
        assertFalse(js.has("positions"), "the default stays out of the JSON: " + js);
        assertEquals("INTERPOLATED", om.valueToTree(interp).get("positions").asText());
        assertNotEquals(snapped, interp);
        assertEquals(snapped, interp.withPositions(DpmSolverV3.Positions.SNAPPED));
        assertEquals(snapped.hashCode(), new DpmSolverV3(e, 2, false, true, false, false, false, null).hashCode());
        assertEquals("dpmsolver-v3 o2 corr interpolated", interp.label());
        assertEquals(DpmSolverV3.Positions.SNAPPED, new DpmSolverV3(e, 2, false, true, false, false, false, null,
                null).positions());
        ReferenceProblem p = ReferenceProblem.load("public_gmm_linear_d8");
        try (NDManager m = manager.newSubManager()) {
            // times outside the statistics' range are refused, naming it
            double[] wide = new TimestepSpacing.LogSnr().times(p.schedule, 1.0, 1e-4, 5);
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> run(m, p,
                    new SamplerConfig(interp, new TimestepSpacing.Explicit(wide), 5, null, null, true, false)));
            assertTrue(ex.getMessage().contains("outside the statistics grid"), ex.getMessage());
        }
    }
}
