package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.timesteps.GridParameterisation;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.fit.timesteps.TimestepOptimizer;
import io.solvertune.tuning.publish.ConfigProvenance;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The timesteps stage's pieces that need no model: the variants per NFE (the best untuned baseline first, then the
 * next best distinct solvers), the learned grid's provenance record (a lossless round trip through its JSON and back
 * into the learned grid a joint fit reuses), and which record a published set gets.
 */
class TimestepsStageTest {
    static final List<io.solvertune.tuning.eval.SpacingName> SPACINGS = List.of(
            io.solvertune.tuning.eval.SpacingName.LOG_SNR, io.solvertune.tuning.eval.SpacingName.TIME_QUADRATIC);

    static Scores.BaselinePick pick(Candidate best, List<String> ranked) {
        Scores.Score s = new Scores.Score(best.name(), 5, 2, 1.0, 0.1, 0.1, new double[] {1.0, 1.0});
        return new Scores.BaselinePick(5, best, s, s, 20, 1.0, 1e-3, new double[] {1.0, 0.1, 1e-3}, ranked);
    }

    @Test
    void variantsStartFromTheBestUntunedBaselineThenTheNextBestDistinctSolvers() {
        List<Candidate> c = BaselineStage.untuned(SPACINGS);
        Candidate best = c.stream().filter(x -> x.name().equals("dpmsolver++ singlestep o2 logSNR")).findFirst()
                .orElseThrow();
        List<String> ranked = List.of("dpmsolver++ singlestep o2 logSNR", "dpmsolver++ singlestep o2 time_quadratic",
                "unipc data bh2 o2 time_quadratic", "dpmsolver++ multistep o2 time_quadratic", "ddim logSNR");
        List<LearnedTimesteps.Variant> v = TimestepsStage.variants(pick(best, ranked), 3, SPACINGS);
        assertEquals(List.of("dpmsolver++ singlestep o2 logSNR", "unipc data bh2 o2 time_quadratic",
                "dpmsolver++ multistep o2 time_quadratic"), v.stream().map(LearnedTimesteps.Variant::label).toList());
        assertEquals(1, TimestepsStage.variants(pick(best, ranked), 1, SPACINGS).size());
        assertEquals(1, TimestepsStage.variants(pick(best, null), 3, SPACINGS).size(), "an old baseline file");
    }

    static LearnedTimesteps.Learned learned() {
        LearnedTimesteps.Variant v = new LearnedTimesteps.Variant(DpmSolver.plusPlusMultistep(2),
                new TimestepSpacing.LogSnr());
        double[] start = {1.0, 0.5, 0.1, 1e-3};
        double[] gits = {1.0, 0.6, 0.05, 1e-3};
        double[] grid = {1.0, 0.55, 0.07, 1e-3};
        TimestepOptimizer.Result r = new TimestepOptimizer.Result(grid, 0.25, 1, true, new double[] {1.0, 0.5}, 14, 3.0,
                List.of(new TimestepOptimizer.TracePoint(1, 0, 1.0), new TimestepOptimizer.TracePoint(2, 1, 0.5),
                        new TimestepOptimizer.TracePoint(9, 1, 0.25)),
                List.of(new TimestepOptimizer.Generation(8, 0, 0.7, 0.5), new TimestepOptimizer.Generation(14, 1, 0.25,
                        0.25)), 0);
        return new LearnedTimesteps.Learned(v, 5, start, gits, GridParameterisation.Coordinate.LAMBDA, r, null);
    }

    @Test
    void theLearnedGridsRecordRoundTripsLosslessly() throws Exception {
        TuningJobSpec.Timesteps t = new TuningJobSpec.Timesteps(14, 1, 0.3, 0, 7, 12, 4, 48);
        LearnedTimesteps.Learned l = learned();
        ConfigProvenance.LearnedGrid g = TimestepsStage.learnedGrid(l, t, null, 8);
        assertEquals("gits", g.initialiser());
        assertEquals(1.0, g.startObjective());
        assertEquals(0.5, g.gitsObjective());
        assertEquals(0.25, g.endObjective());
        assertEquals(14, g.maxEvaluations());
        assertEquals(7, g.seed());
        assertNull(g.published());
        String json = Json.MAPPER.writeValueAsString(List.of(g));
        List<ConfigProvenance.LearnedGrid> back = Json.MAPPER.readValue(json,
                new TypeReference<List<ConfigProvenance.LearnedGrid>>() { });
        assertEquals(json, Json.MAPPER.writeValueAsString(back), "the JSON is lossless");
        LearnedTimesteps.Learned again = TimestepsStage.learned(back.get(0), l.variant());
        assertArrayEquals(l.result().grid(), again.result().grid());
        assertArrayEquals(l.startGrid(), again.startGrid());
        assertArrayEquals(l.gitsGrid(), again.gitsGrid());
        assertEquals(l.result().trace(), again.result().trace());
        assertEquals(l.result().generations(), again.result().generations());
        assertEquals(l.result().fromStart(), again.result().fromStart());
        assertArrayEquals(l.result().startLosses(), again.result().startLosses());
        assertEquals(l.coordinate(), again.coordinate());
    }

    @Test
    void aPublishedSetGetsTheRecordOfItsBaseAndStartSpacing() {
        ConfigProvenance.LearnedGrid g = TimestepsStage.learnedGrid(learned(), new TuningJobSpec.Timesteps(14, 1, 0.3,
                0, 0, 12, 4, 48), null, 8);
        double[] grid = g.grid();
        CoefficientSet onGrid = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS,
                DpmSolver.plusPlusMultistep(2), new TimestepSpacing.Explicit(grid), 3, 5, grid, List.of(),
                new double[3][0], null, null, null, new TimestepSpacing.LogSnr());
        ConfigProvenance.LearnedGrid p = PublishStage.learnedGrid(List.of(g), onGrid);
        assertTrue(p.published(), "the config runs the learned grid");
        double[] untuned = g.startGrid();
        CoefficientSet neutral = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS,
                DpmSolver.plusPlusMultistep(2), new TimestepSpacing.LogSnr(), 3, 5, untuned, List.of(),
                new double[3][0], null, null, null);
        assertFalse(PublishStage.learnedGrid(List.of(g), neutral).published(), "the untuned grid won");
        CoefficientSet otherSolver = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS,
                DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(), 3, 5, untuned, List.of(),
                new double[3][0], null, null, null);
        assertNull(PublishStage.learnedGrid(List.of(g), otherSolver));
    }
}
