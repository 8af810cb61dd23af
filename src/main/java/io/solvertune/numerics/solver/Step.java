package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * What a solver sees during one step of the sampling loop: the step's place in the grid, the schedule, the model
 * and the history. Model outputs are in the solver's {@link Solver#historyType()}. Arrays created during the step
 * live in the step's scope and are closed after it, except the returned state and what was {@link #remember}ed.
 */
public final class Step {
    private final int index;
    private final double[] grid;
    private final NoiseSchedule schedule;
    private final ModelFunction model;
    private final PredictionType type;
    private final History history;
    private final SamplerConfig config;
    private NDArray outputAtStart;

    public Step(int index, double[] grid, NoiseSchedule schedule, ModelFunction model, PredictionType type, History history,
         SamplerConfig config) {
        this.index = index;
        this.grid = grid;
        this.schedule = schedule;
        this.model = model;
        this.type = type;
        this.history = history;
        this.config = config;
    }

    /** 0-based index of this step. */
    public int index() {
        return index;
    }

    /** 1-based step number, as the official loops count ({@code step} in {@code range(1, steps + 1)}). */
    public int number() {
        return index + 1;
    }

    /** Total number of steps of the run (outer steps for singlestep solvers). */
    public int count() {
        return grid.length - 1;
    }

    /** Start time of this step. */
    public double s() {
        return grid[index];
    }

    /** End time of this step. */
    public double t() {
        return grid[index + 1];
    }

    public double[] grid() {
        return grid;
    }

    public NoiseSchedule schedule() {
        return schedule;
    }

    public SamplerConfig config() {
        return config;
    }

    public History history() {
        return history;
    }

    /** Evaluates the model (counts one NFE). The result belongs to the step. */
    public NDArray model(NDArray x, double time) {
        return model.eval(x, time, type);
    }

    /**
     * The model output at the step's start {@code (x, s)}: the newest history entry if it was recorded at
     * {@code s} (a multistep solver's previous evaluation, or UniPC's corrector output), otherwise a new
     * evaluation that is remembered.
     */
    public NDArray modelAtStart(NDArray x) {
        History.Entry newest = history.newest();
        if (newest != null && newest.t() == s()) {
            outputAtStart = newest.value();
            return outputAtStart;
        }
        NDArray out = model(x, s());
        remember(s(), out);
        outputAtStart = out;
        return out;
    }

    /**
     * Records an output in the history (visible at once as its newest entry; it is kept beyond the step, and old
     * entries are evicted, when the step ends).
     */
    public void remember(double time, NDArray value) {
        history.add(time, value);
    }

    /** The model output at the start of the step, if the solver asked for it. */
    public NDArray outputAtStart() {
        return outputAtStart;
    }

    public void commit() {
        history.commit();
    }
}
