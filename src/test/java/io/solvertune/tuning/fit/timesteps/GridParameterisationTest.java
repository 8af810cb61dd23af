package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** LD3's softmax-cumsum: every theta is a valid grid, and theta of a grid gives the grid back. */
class GridParameterisationTest {
    static final NoiseSchedule VP = new VpLinearSchedule(0.1, 20.0);

    @Test
    void everyThetaIsStrictlyMonotoneWithExactEndpoints() {
        GridParameterisation p = new GridParameterisation(VP, 1.0, 1e-3, 7);
        assertEquals(GridParameterisation.Coordinate.LAMBDA, p.coordinate());
        Random r = new Random(3);
        for (int k = 0; k < 200; k++) {
            double[] th = new double[7];
            for (int i = 0; i < th.length; i++) {
                th[i] = 3 * r.nextGaussian();
            }
            double[] t = p.times(th);
            assertEquals(8, t.length);
            assertEquals(1.0, t[0], 0.0);
            assertEquals(1e-3, t[7], 0.0);
            for (int i = 1; i < t.length; i++) {
                assertTrue(t[i] < t[i - 1], "strictly decreasing at " + i);
            }
        }
    }

    @Test
    void thetaOfAGridGivesItBack() {
        for (TimestepSpacing sp : new TimestepSpacing[] {new TimestepSpacing.TimeUniform(),
                new TimestepSpacing.LogSnr(), new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7.0)}) {
            double[] grid = sp.times(VP, 1.0, 1e-3, 5);
            GridParameterisation p = new GridParameterisation(VP, 1.0, 1e-3, 5);
            double[] back = p.times(p.theta(grid));
            for (int i = 0; i < grid.length; i++) {
                assertEquals(grid[i], back[i], 1e-12 * grid[i], sp.id() + " at " + i);
            }
        }
    }

    @Test
    void equalThetaIsTheLogSnrGrid() {
        GridParameterisation p = new GridParameterisation(VP, 1.0, 1e-3, 6);
        double[] t = p.times(new double[6]);
        double[] ref = new TimestepSpacing.LogSnr().times(VP, 1.0, 1e-3, 6);
        assertArrayEquals(ref, t, 1e-12);
    }

    @Test
    void flowFallsBackToTimeWhereLambdaIsInfinite() {
        NoiseSchedule flow = new RectifiedFlowSchedule(1.0);
        double tStart = 1.0;
        assertTrue(!Double.isFinite(flow.lambda(tStart)));
        GridParameterisation p = new GridParameterisation(flow, tStart, 1e-3, 4);
        assertEquals(GridParameterisation.Coordinate.TIME, p.coordinate());
        double[] t = p.times(new double[4]);
        assertArrayEquals(new double[] {1.0, 0.75025, 0.5005, 0.25075, 1e-3}, t, 1e-12);
    }

    @Test
    void rejectsGridsThatAreNotOfItsShape() {
        GridParameterisation p = new GridParameterisation(VP, 1.0, 1e-3, 3);
        assertThrows(IllegalArgumentException.class, () -> p.theta(new double[] {1.0, 0.5, 1e-3}));
        assertThrows(IllegalArgumentException.class, () -> p.theta(new double[] {0.9, 0.5, 0.1, 1e-3}));
        assertThrows(IllegalArgumentException.class, () -> p.theta(new double[] {1.0, 0.1, 0.5, 1e-3}));
        assertThrows(IllegalArgumentException.class, () -> p.times(new double[] {0, Double.NaN, 0}));
    }
}
