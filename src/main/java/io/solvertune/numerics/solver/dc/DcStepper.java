package io.solvertune.numerics.solver.dc;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * A DC-Solver run advanced one step at a time, with trial steps in between: the explicit per-run state (state,
 * model-output buffer, step index) a ratio search works on. {@link #trial} computes the next state for a candidate
 * ratio from the current state without touching the buffer (it works on a fork of it in its own scope, so it leaves
 * no arrays behind); {@link #advance} takes the step for good, exactly as {@link Sampler#sample} would (same updates,
 * same model calls, same values). Listeners and {@code denoise_to_zero} are not supported here.
 */
public final class DcStepper implements AutoCloseable {
    private final SamplerConfig config;
    private final ModelFunction model;
    private final NoiseSchedule schedule;
    private final DcSolver solver;
    private final double[] grid;
    private final NDManager run;
    private final History history;
    private NDArray x;
    private int index;

    private DcStepper(SamplerConfig config, ModelFunction model, NDArray xT) {
        if (!(config.solver() instanceof Dc)) {
            throw new IllegalArgumentException("dc stepper: the config's solver must be dc, got "
                    + config.solver().label());
        }
        if (config.denoiseToZero()) {
            throw new IllegalArgumentException("dc stepper: denoiseToZero is not supported");
        }
        this.config = config;
        this.model = model;
        this.schedule = model.schedule();
        double tStart = config.tStart() != null ? config.tStart() : schedule.defaultTStart();
        double tEnd = config.tEnd() != null ? config.tEnd() : schedule.defaultTEnd();
        this.solver = (DcSolver) config.solver().create();
        this.grid = solver.grid(schedule, config, tStart, tEnd);
        this.run = xT.getManager().newSubManager();
        this.history = new History(solver.historyCapacity(), run);
        this.x = xT.duplicate();
        this.x.attach(run);
    }

    /** A copy of {@code other} at the same step (state and buffer duplicated) owned by {@code parent}. */
    private DcStepper(DcStepper other, NDManager parent) {
        this.config = other.config;
        this.model = other.model;
        this.schedule = other.schedule;
        this.solver = other.solver;
        this.grid = other.grid;
        this.run = parent.newSubManager();
        this.history = other.history.copy(run);
        this.x = other.x.duplicate();
        this.x.attach(run);
        this.index = other.index;
    }

    /**
     * An independent copy of this run at its current step, its arrays owned by a new sub-manager of
     * {@code parent}: advancing the copy gives exactly what advancing this run would, and leaves this run where it
     * is (a prefix shared by many trial continuations is computed once).
     */
    public DcStepper copy(NDManager parent) {
        return new DcStepper(this, parent);
    }

    /** Starts a run from {@code xT} (copied; the caller keeps its array). */
    public static DcStepper start(SamplerConfig config, ModelFunction model, NDArray xT) {
        return new DcStepper(config, model, xT);
    }

    /** 0-based index of the next step. */
    public int index() {
        return index;
    }

    /** Number of steps of the run. */
    public int steps() {
        return grid.length - 1;
    }

    /** The time grid. */
    public double[] grid() {
        return grid.clone();
    }

    /** Whether every step has been taken. */
    public boolean done() {
        return index >= steps();
    }

    /** The current state (at {@code grid[index]}) on the host. */
    public double[] state() {
        return Nd.toDoubles(x);
    }

    /** The next state for {@code ratio}, on the host; the run does not move and keeps no array of the trial. */
    public double[] trial(double ratio) {
        checkNotDone();
        ensureModelAtStart();
        try (NDManager scope = run.newSubManager()) {
            x.tempAttach(scope);
            history.tempAttach(scope);
            History scratch = history.fork();
            Step step = new Step(index, grid, schedule, model, solver.historyType(), scratch, config);
            NDArray next = solver.step(step, x, ratio);
            return Nd.toDoubles(next);
        }
    }

    /** Takes the next step with {@code ratio}. */
    public void advance(double ratio) {
        checkNotDone();
        ensureModelAtStart();
        NDArray next;
        try (NDManager scope = run.newSubManager()) {
            x.tempAttach(scope);
            history.tempAttach(scope);
            Step step = new Step(index, grid, schedule, model, solver.historyType(), history, config);
            next = solver.step(step, x, ratio);
            step.commit();
            next.attach(run);
        }
        x.close();
        x = next;
        index++;
    }

    /** The final state once every step has been taken, as a new array on {@code into}. */
    public NDArray result(NDManager into) {
        if (!done()) {
            throw new IllegalStateException("dc stepper: " + (steps() - index) + " steps are left");
        }
        NDArray r = x.duplicate();
        r.attach(into);
        return r;
    }

    /**
     * Puts the model output at the step's start into the buffer once, so trials do not each re-evaluate it (UniPC's
     * corrector has usually stored it already; the value is the one the plain loop would compute in the step).
     */
    private void ensureModelAtStart() {
        History.Entry newest = history.newest();
        if (newest != null && newest.t() == grid[index]) {
            return;
        }
        try (NDManager scope = run.newSubManager()) {
            x.tempAttach(scope);
            history.tempAttach(scope);
            Step step = new Step(index, grid, schedule, model, solver.historyType(), history, config);
            step.modelAtStart(x);
            step.commit();
        }
    }

    private void checkNotDone() {
        if (done()) {
            throw new IllegalStateException("dc stepper: all " + steps() + " steps are taken");
        }
    }

    @Override
    public void close() {
        run.close();
    }
}
