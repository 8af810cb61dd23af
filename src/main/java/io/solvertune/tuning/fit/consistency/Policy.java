package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;

/**
 * A distribution over the free coefficients {@code a_0 .. a_{D-1}} of each step, from the network's head for that step
 * ({@code D = order - 1}; step {@code i} uses only its first {@code used[i]} coefficients, the others are masked out of
 * the log-probability and the entropy, as the reference's {@code masks}).
 */
public sealed interface Policy permits CategoricalPolicy, GaussianPolicy {

    /** How a trained policy becomes one deterministic table. */
    enum Inference {
        /** The expected coefficient under the policy (categorical: {@code sum p_b v_b}; Gaussian: the mean). */
        EXPECTED,
        /** The most probable bin (categorical; for the Gaussian policy the mean, its mode). */
        ARGMAX
    }

    /** Sampled actions of {@code rows} rollouts over {@code S} steps, and their log-probabilities. */
    record Sampled(double[][][] actions, double[][] logProb, int[][][] bins) {
    }

    /** Free coefficients per step. */
    int dims();

    /** Outputs of the network per step. */
    int headSize();

    /** Extra free parameters (Gaussian: log standard deviations) and their initial value. */
    int extra();

    double extraInit();

    /** Draws actions for {@code rows} rollouts ({@code head [S][headSize]}, {@code extra} the free parameters). */
    Sampled sample(double[][] head, double[] extra, int rows, int[] used, SplittableRandom rng);

    /** The deterministic table {@code [S][dims]}. */
    double[][] deterministic(double[][] head, Inference inference);

    /**
     * Differentiable log-probabilities {@code [rows, S]} of the sampled actions (summed over the used coefficients)
     * and the mean normalised entropy (a scalar), from {@code head [S, headSize]} and the extra parameters.
     */
    NDArray[] logProbAndEntropy(NDManager m, NDArray head, NDArray extra, Sampled s, int[] used);

    /** Differentiable deterministic coefficients {@code [S, dims]} (the expectation), for direct gradients. */
    NDArray expectedNd(NDManager m, NDArray head);

    /** A short id, e.g. {@code categorical-11}. */
    String id();

    /** The used-coefficient mask {@code [S][dims]} as a flat row-major array. */
    static double[] mask(int[] used, int dims) {
        double[] mask = new double[used.length * dims];
        for (int i = 0; i < used.length; i++) {
            for (int d = 0; d < used[i]; d++) {
                mask[i * dims + d] = 1.0;
            }
        }
        return mask;
    }
}
