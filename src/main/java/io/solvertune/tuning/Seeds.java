package io.solvertune.tuning;

import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Initial noise from integer seeds: every seed owns an independent Gaussian stream, so a sample depends only on its
 * seed (not on the batch or shard it is drawn in). {@code x_T = scale * z}, {@code z ~ N(0, I)}, with
 * {@code scale = sqrt(alpha^2 + sigma^2)} at the start time (exactly 1 for VP schedules; sigma_max for EDM).
 */
public final class Seeds {
    private Seeds() {
    }

    /** The seeds {@code first, first+1, ..., first+count-1}. */
    public static long[] range(long first, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("seed count must be >= 0, got " + count);
        }
        long[] s = new long[count];
        for (int i = 0; i < count; i++) {
            s[i] = first + i;
        }
        return s;
    }

    /** Standard-normal values for one seed ({@code n} of them). */
    public static double[] gaussian(long seed, int n) {
        // SplittableRandom's seeding mixes well, so consecutive seeds give independent streams; Random supplies the
        // (JDK-stable) Gaussian transform.
        Random rnd = new Random(new SplittableRandom(seed ^ 0x5DEECE66DL).nextLong());
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = rnd.nextGaussian();
        }
        return z;
    }

    /** The scale of x_T at time {@code tStart}. */
    public static double noiseScale(NoiseSchedule schedule, double tStart) {
        double a = schedule.alpha(tStart);
        double s = schedule.sigma(tStart);
        double scale = Math.sqrt(a * a + s * s);
        return Math.abs(scale - 1.0) < 1e-12 ? 1.0 : scale;
    }

    /** Initial noise of a batch of seeds, flattened [seeds.length * perSample] in seed order. */
    public static double[] initialNoise(long[] seeds, int perSample, double scale) {
        double[] out = new double[seeds.length * perSample];
        for (int i = 0; i < seeds.length; i++) {
            double[] z = gaussian(seeds[i], perSample);
            for (int j = 0; j < perSample; j++) {
                out[i * perSample + j] = scale == 1.0 ? z[j] : scale * z[j];
            }
        }
        return out;
    }
}
