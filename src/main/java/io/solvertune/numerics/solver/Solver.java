package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * One solver family: the update of a single step. The {@link Sampler} owns the loop, the history, NFE counting,
 * listeners and memory scopes; a solver only computes {@code x_t} from {@code x_s}. Instances hold per-run state;
 * make one per run with {@link SolverSpec#create()}.
 */
public interface Solver {

    /** Which model output the solver integrates and keeps in its history. */
    PredictionType historyType();

    /** How many past model outputs the history keeps. */
    int historyCapacity();

    /**
     * The outer time grid the loop walks, from {@code tStart} to {@code tEnd}. Default: the spacing's
     * {@code steps + 1} points.
     */
    default double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        return config.spacing().times(schedule, tStart, tEnd, config.steps());
    }

    /** One step from {@code step.s()} to {@code step.t()}; returns the new state (a new array). */
    NDArray step(Step step, NDArray x);
}
