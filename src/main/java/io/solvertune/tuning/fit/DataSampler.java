package io.solvertune.tuning.fit;

import io.solvertune.tuning.Seeds;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.EmpiricalDenoiser;
import io.solvertune.numerics.model.GaussianDenoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Clean data samples x0 for statistics that are fitted on "data noised to each time" (DPM-Solver-v3's EMS, as in the
 * paper): a sample depends only on its seed and class, like the initial noise.
 */
public interface DataSampler {

    /** Samples for {@code seeds} (row labels: class per row, or {@code null}), flattened [n, perSample]. */
    double[] sample(long[] seeds, long[] rowLabels);

    /** The exact data distribution of an analytic model, or the dataset of an empirical one. */
    static DataSampler of(Denoiser model) {
        if (model instanceof GaussianMixtureDenoiser g) {
            return (seeds, labels) -> {
                int d = (int) g.sampleShape()[0];
                double[] w = g.weights();
                double[][] mu = g.means();
                double[] sd = g.stds();
                int[] cls = g.componentClass();
                double[] out = new double[seeds.length * d];
                for (int i = 0; i < seeds.length; i++) {
                    Random r = rng(seeds[i]);
                    long label = labels == null ? -1 : labels[i];
                    double total = 0;
                    for (int k = 0; k < w.length; k++) {
                        total += allowed(cls, k, label) ? w[k] : 0;
                    }
                    double u = r.nextDouble() * total;
                    int k = 0;
                    for (; k < w.length - 1; k++) {
                        double wk = allowed(cls, k, label) ? w[k] : 0;
                        if (u < wk) {
                            break;
                        }
                        u -= wk;
                    }
                    while (!allowed(cls, k, label)) {
                        k--;
                    }
                    for (int j = 0; j < d; j++) {
                        out[i * d + j] = mu[k][j] + sd[k] * r.nextGaussian();
                    }
                }
                return out;
            };
        }
        if (model instanceof GaussianDenoiser g) {
            return (seeds, labels) -> g.sampleData(seeds);
        }
        if (model instanceof EmpiricalDenoiser e) {
            return (seeds, labels) -> e.sampleData(seeds, labels);
        }
        throw new IllegalArgumentException("no data source for " + model.getClass().getSimpleName()
                + ": fit on teacher trajectories instead");
    }

    private static boolean allowed(int[] cls, int k, long label) {
        return label < 0 || cls == null || cls[k] == label;
    }

    /** The per-seed data stream (independent of the noise stream of {@link Seeds}). */
    static Random rng(long seed) {
        return new Random(new SplittableRandom(seed ^ 0x2545F4914F6CDD1DL).nextLong() ^ 0x9E3779B97F4A7C15L);
    }
}
