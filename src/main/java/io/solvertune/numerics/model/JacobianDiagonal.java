package io.solvertune.numerics.model;

/**
 * Analytic models that know the diagonal of their noise prediction's Jacobian {@code d eps_i / d x_i} exactly (used
 * for DPM-Solver-v3's statistic l without probe noise).
 */
public interface JacobianDiagonal {

    /**
     * The diagonal of {@code d eps / d x} for a batch (flattened [b, D]) at time t, for rows labelled {@code labels}
     * ({@code null} or -1: unconditional).
     */
    double[] noiseJacobianDiagonal(double[] x, int b, double t, long[] labels);
}
