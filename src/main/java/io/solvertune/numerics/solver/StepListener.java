package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;

/**
 * Receives the trajectory as it is computed. Arrays passed in are only valid during the call: copy them
 * ({@code duplicate()} into your own manager, or to host arrays) to keep them.
 */
public interface StepListener {

    /** Before the first step: the grid and the initial state. */
    default void onStart(double[] grid, NDArray xT) {
    }

    /**
     * After step {@code index} (0-based): the new state {@code x} at time {@code t}, and the model output the step
     * used at its start time {@code s} in the solver's parameterisation ({@code null} when it used none).
     */
    default void onStep(int index, double s, double t, NDArray x, NDArray modelOutputAtS) {
    }

    /** After {@code denoise_to_zero}, if configured: the final data prediction. */
    default void onDenoised(double t, NDArray x0) {
    }

    /** A listener that does nothing. */
    StepListener NONE = new StepListener() {
    };
}
