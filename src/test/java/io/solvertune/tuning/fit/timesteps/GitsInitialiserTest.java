package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.fit.FitContext;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The GITS dynamic programme: the least-cost path, and on a real model a grid at least as cheap as logSNR's. */
class GitsInitialiserTest {

    @Test
    void findsThePlantedCheapestPath() {
        int m = 12;
        double[][] c = new double[m + 1][m + 1];
        Random r = new Random(5);
        for (int i = 0; i <= m; i++) {
            for (int j = i + 1; j <= m; j++) {
                c[i][j] = 10 + r.nextDouble();
            }
        }
        int[] planted = {0, 2, 7, 8, 12};
        for (int k = 1; k < planted.length; k++) {
            c[planted[k - 1]][planted[k]] = 1.0;
        }
        assertArrayEquals(planted, GitsInitialiser.shortestPath(c, 4));
        // one step: the only path
        assertArrayEquals(new int[] {0, 12}, GitsInitialiser.shortestPath(c, 1));
        // every point: the only path
        int[] all = GitsInitialiser.shortestPath(c, m);
        for (int i = 0; i <= m; i++) {
            assertEquals(i, all[i]);
        }
    }

    @Test
    void gridOnAMixtureIsNoCostlierThanTheLogSnrSubgrid() throws Exception {
        try (GaussianMixtureDenoiser model = (GaussianMixtureDenoiser) Presets.load("gmm-sd-d32")
                .build(Presets.baseDir())) {
            NoiseSchedule s = model.schedule();
            int rows = 8;
            int per = 32;
            long[] seeds = new long[rows];
            double[] x = new double[rows * per];
            Random r = new Random(1);
            for (int i = 0; i < rows; i++) {
                seeds[i] = i;
            }
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextGaussian();
            }
            FitContext ctx = new FitContext(model, Guidance.perSeed(1.0), seeds, x, new long[] {per},
                    s.defaultTStart(), s.defaultTEnd(), DataType.FLOAT64, rows, Progress.NONE, null);
            GitsInitialiser.Settings set = new GitsInitialiser.Settings(30, new TimestepSpacing.LogSnr(), 300);
            GitsInitialiser.Result g = GitsInitialiser.grid(ctx, 5, set);
            double[] t = g.grid();
            assertEquals(6, t.length);
            assertEquals(s.defaultTStart(), t[0], 0.0);
            assertEquals(s.defaultTEnd(), t[5], 0.0);
            for (int i = 1; i < t.length; i++) {
                assertTrue(t[i] < t[i - 1]);
                assertEquals(g.teacherGrid()[g.path()[i]], t[i], 0.0);
            }
            double logSnrPath = 0;
            for (int k = 1; k <= 5; k++) {
                logSnrPath += g.cost()[6 * (k - 1)][6 * k];
            }
            assertTrue(g.totalCost() <= logSnrPath, g.totalCost() + " > " + logSnrPath);
            // a longer jump from the same point deviates more than a shorter one on this smooth flow
            assertTrue(g.cost()[0][30] > g.cost()[0][1]);
            assertTrue(g.cost()[0][1] > 0);
        }
    }
}
