package io.solvertune.tuning.fit.consistency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.MethodCatalog;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on explicit (e.g. learned) grids: iterations draw only NFEs that have a grid in [minNfe, maxNfe], the
 * materialised set runs exactly its grid ({@code times}, spacing explicit), a checkpoint of other grids is refused and
 * one of the same grids resumes to the same parameters; bad grids are refused naming {@code grids}.
 */
class ConsistencyTrainerGridsTest {
    @BeforeAll
    static void init() {
        ConsistencyTrainerTest.init();
    }

    @AfterAll
    static void close() {
        ConsistencyTrainerTest.close();
    }

    static TrainerSettings settings(int iterations) {
        return new TrainerSettings(Form.NOISE, 3, TrainerSettings.PolicyKind.GAUSSIAN, 11, 0.3, 8, false, 4, 8,
                iterations, 2, 4, 1, 0.2, 0.01, 1e-2, 1.0, 10.0, 5L, new TimestepSpacing.TimeUniform(),
                Policy.Inference.EXPECTED, 3);
    }

    /** A grid of {@code nfe} steps over the context's range, moved off the uniform one (a "learned" grid). */
    static double[] grid(FitContext c, int nfe, double warp) {
        NoiseSchedule s = c.model().schedule();
        double[] t = new TimestepSpacing.Karras(warp).times(s, c.tStart(), c.tEnd(), nfe);
        t[0] = c.tStart();
        t[nfe] = c.tEnd();
        return t;
    }

    @Test
    void drawsOnlyGridNfesRunsTheGridAndResumesOnlyOnTheSameGrids(@TempDir Path dir) throws Exception {
        FitContext c = ConsistencyTrainerTest.context();
        double[] target = ConsistencyTrainerTest.planted(c, io.solvertune.numerics.solver.consistency.Consistency
                .neutral(Form.DATA, 2, ConsistencyTrainerTest.NFE));
        Map<Integer, double[]> grids = new TreeMap<>(Map.of(5, grid(c, 5, 5.0), 7, grid(c, 7, 3.0),
                12, grid(c, 12, 7.0)));
        ConsistencyTrainer t = new ConsistencyTrainer(c, target, settings(12)).withGrids(grids);
        assertArrayEquals(new int[] {5, 7, 12}, t.gridNfes());
        t.train(null, Integer.MAX_VALUE);
        assertTrue(t.curve().stream().allMatch(p -> p.nfe() == 5 || p.nfe() == 7), "NFE 12 lies above maxNfe 8");
        assertTrue(t.curve().stream().anyMatch(p -> p.nfe() == 5) && t.curve().stream().anyMatch(p -> p.nfe() == 7));
        CoefficientSet set = t.coefficientSet(7, Policy.Inference.EXPECTED, null);
        assertArrayEquals(grids.get(7), set.times());
        assertEquals("explicit", set.spacing().id());
        var spec = (io.solvertune.numerics.solver.consistency.Consistency) MethodCatalog.spec(set);
        assertArrayEquals(grids.get(7), spec.times(), "the solver runs the exact grid");
        assertArrayEquals(grids.get(5), t.solver(5, Policy.Inference.EXPECTED).times());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> t.grid(6));
        assertTrue(none.getMessage().startsWith("grids: no grid for NFE 6"), none.getMessage());

        // killed after 5 iterations: resumes on the same grids to the uninterrupted run's parameters
        Path ck = dir.resolve("ck.json");
        ConsistencyTrainer killed = new ConsistencyTrainer(c, target, settings(12)).withGrids(grids);
        killed.train(ck, 5);
        ConsistencyTrainer other = new ConsistencyTrainer(c, target, settings(12)).withGrids(Map.of(5,
                grid(c, 5, 2.0), 7, grids.get(7)));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> other.resume(ck));
        assertTrue(refused.getMessage().startsWith("checkpoint:"), refused.getMessage());
        ConsistencyTrainer plain = new ConsistencyTrainer(c, target, settings(12));
        assertThrows(IllegalArgumentException.class, () -> plain.resume(ck), "nor without grids");
        ConsistencyTrainer resumed = new ConsistencyTrainer(c, target, settings(12)).withGrids(grids);
        assertTrue(resumed.resume(ck));
        resumed.train(ck, Integer.MAX_VALUE);
        assertEquals(t.curve(), resumed.curve());
        double[][] a = t.params();
        double[][] b = resumed.params();
        for (int i = 0; i < a.length; i++) {
            assertArrayEquals(a[i], b[i]);
        }
    }

    @Test
    void badGridsAreRefusedNamingGrids() {
        FitContext c = ConsistencyTrainerTest.context();
        double[] target = new double[c.initial().length];
        ConsistencyTrainer t = new ConsistencyTrainer(c, target, settings(2));
        double[] g5 = grid(c, 5, 7.0);
        for (Map<Integer, double[]> bad : java.util.List.<Map<Integer, double[]>>of(
                Map.of(), Map.of(5, grid(c, 4, 7.0)), Map.of(1, new double[] {c.tStart(), c.tEnd()}),
                Map.of(5, new double[] {g5[0], g5[2], g5[1], g5[3], g5[4], g5[5]}),
                Map.of(5, new double[] {g5[0] * 0.9, g5[1], g5[2], g5[3], g5[4], g5[5]}),
                Map.of(12, grid(c, 12, 7.0)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.withGrids(bad));
            assertTrue(e.getMessage().startsWith("grids: "), e.getMessage());
        }
    }
}
