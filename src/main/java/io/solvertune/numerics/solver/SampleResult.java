package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;

/**
 * Result of a sampling run.
 *
 * @param x          final state, attached to the initial state's manager (the caller closes it)
 * @param grid       the outer time grid that was walked
 * @param nfe        model evaluations spent
 * @param wallNanos  wall time of the run
 * @param modelNanos wall time spent inside the model
 */
public record SampleResult(NDArray x, double[] grid, long nfe, long wallNanos, long modelNanos) {

    /** Time spent outside the model (solver bookkeeping), in nanoseconds. */
    public long bookkeepingNanos() {
        return wallNanos - modelNanos;
    }
}
