package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-seed classes: row i gets class seed_i mod C, in one batched guided call. */
class PerSeedGuidanceTest {

    @Test
    void eachRowIsGuidedTowardsItsOwnClass() {
        Random rnd = new Random(3);
        int k = 6;
        int d = 4;
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[] s = new double[k];
        for (int i = 0; i < k; i++) {
            w[i] = 1 + rnd.nextDouble();
            s[i] = 0.2 + 0.3 * rnd.nextDouble();
            for (int j = 0; j < d; j++) {
                mu[i][j] = 2 * rnd.nextGaussian();
            }
        }
        try (GaussianMixtureDenoiser model = new GaussianMixtureDenoiser(VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000),
                w, mu, s, GaussianMixtureDenoiser.moduloClasses(k, 3));
             NDManager m = NDManager.newBaseManager()) {
            long[] seeds = {10, 11, 12, 13, 14};
            Guidance g = Guidance.perSeed(4.0);
            long[] labels = g.rowLabels(seeds, model.numClasses());
            assertEquals(1, labels[0]);
            assertEquals(2, labels[4]);
            double[] xv = new double[seeds.length * d];
            for (int i = 0; i < xv.length; i++) {
                xv[i] = rnd.nextGaussian();
            }
            NDArray x = m.create(xv, new Shape(seeds.length, d));
            ModelFunction perSeed = new ModelFunction(model, g, labels);
            double[] got = perSeed.noise(x, 0.4).toDoubleArray();
            assertEquals(1, perSeed.nfe());
            for (int row = 0; row < seeds.length; row++) {
                NDArray xr = m.create(java.util.Arrays.copyOfRange(xv, row * d, row * d + d), new Shape(1, d));
                double[] one = new ModelFunction(model, Guidance.classifierFree((int) labels[row], 4.0)).noise(xr, 0.4)
                        .toDoubleArray();
                for (int j = 0; j < d; j++) {
                    assertEquals(one[j], got[row * d + j], 1e-12);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ModelFunction(model, g, null));
            assertTrue(e.getMessage().contains("row labels"));
            assertThrows(IllegalArgumentException.class, () -> new Guidance(1, 2.0, true));
        }
    }
}
