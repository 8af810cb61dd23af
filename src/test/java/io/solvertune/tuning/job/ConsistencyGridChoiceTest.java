package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigProvenance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which learned grid {@code fit-consistency-solver+timesteps} takes at one NFE ({@link ConsistencyStage#choose}): the
 * {@code timesteps} stage's published grid when it is learned (nothing re-scored), else the eligible learned grid
 * with the lowest selection error.
 */
class ConsistencyGridChoiceTest {
    static ConfigProvenance.LearnedGrid learned(String variant, double[] grid) {
        return new ConfigProvenance.LearnedGrid(variant, grid.length - 1, 8, "final-state-mse", "log", "cma-es", 10,
                10, 0.3, 0, 0L, "spacing", grid, null, null, 1.0, null, 0.5, true, grid, List.of(), List.of(), null, null);
    }

    static CoefficientSet timesteps(double[] grid, boolean learnedGrid) {
        int steps = grid.length - 1;
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS, new Ddim(),
                learnedGrid ? new TimestepSpacing.Explicit(grid) : new TimestepSpacing.Karras(7.0), steps, steps, grid,
                List.of(), new double[steps][0], null, null, null,
                learnedGrid ? new TimestepSpacing.Karras(7.0) : null);
    }

    static final double[] A = {1.0, 0.7, 0.4, 0.2, 0.1, 0.01};
    static final double[] B = {1.0, 0.8, 0.5, 0.25, 0.05, 0.01};
    static final double[] C = {1.0, 0.6, 0.3, 0.15, 0.08, 0.01};

    @Test
    void thePublishedLearnedGridIsTakenWithoutScoring() {
        List<ConfigProvenance.LearnedGrid> eligible = List.of(learned("ddim karras(7.0)", A),
                learned("unipc data bh1 o2 karras(7.0)", B));
        ConsistencyGrid g = ConsistencyStage.choose(5, eligible, timesteps(B, true), 0.042, "g1/timesteps", lg -> {
            throw new AssertionError("nothing is scored when the published grid is learned");
        });
        assertArrayEquals(B, g.times());
        assertEquals("unipc data bh1 o2 karras(7.0)", g.variant());
        assertEquals(0.042, g.selectionMse());
        assertEquals("g1/timesteps", g.source());
        assertSame(eligible.get(1), g.learned());
    }

    @Test
    void anUntunedWinnerLetsTheLowestScoredLearnedGridIn() {
        List<ConfigProvenance.LearnedGrid> eligible = List.of(learned("ddim karras(7.0)", A),
                learned("unipc data bh1 o2 karras(7.0)", B), learned("dpmsolver++ multistep o2 logSNR", C));
        Map<String, Double> sel = Map.of("ddim karras(7.0)", 0.3, "unipc data bh1 o2 karras(7.0)", 0.2,
                "dpmsolver++ multistep o2 logSNR", 0.25);
        List<String> scored = new ArrayList<>();
        ConsistencyGrid g = ConsistencyStage.choose(5, eligible, timesteps(A, false), 0.1, "g1/timesteps", lg -> {
            scored.add(lg.variant());
            return sel.get(lg.variant());
        });
        assertEquals(List.of("ddim karras(7.0)", "unipc data bh1 o2 karras(7.0)", "dpmsolver++ multistep o2 logSNR"),
                scored, "every eligible grid scored once, in order");
        assertArrayEquals(B, g.times(), "the lowest selection error, not the untuned winner's grid");
        assertEquals(0.2, g.selectionMse());
        // a learned published grid that is not eligible (e.g. of another step count) is scored like the others
        ConsistencyGrid h = ConsistencyStage.choose(5, eligible.subList(0, 1), timesteps(B, true), 0.01, "s",
                lg -> 0.5);
        assertArrayEquals(A, h.times());
        assertEquals(0.5, h.selectionMse());
        // no timesteps set at this NFE: scored; none eligible: no grid
        assertArrayEquals(B, ConsistencyStage.choose(5, eligible, null, null, "s", lg -> sel.get(lg.variant()))
                .times());
        assertNull(ConsistencyStage.choose(5, List.of(), timesteps(A, false), 0.1, "s", lg -> 0.0));
    }
}
