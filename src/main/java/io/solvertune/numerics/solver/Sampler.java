package io.solvertune.numerics.solver;

import io.solvertune.numerics.solver.dode.DodeSolver;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * The one sampling loop every solver runs in. It builds the time grid, walks it step by step, owns the model-output
 * history and the memory scopes (each step runs in its own {@link NDManager}; everything but the new state and
 * the remembered outputs is closed when the step ends), notifies listeners, and applies {@code denoise_to_zero}.
 */
public final class Sampler {
    private Sampler() {
    }

    /** Samples from {@code xT} without listeners. */
    public static SampleResult sample(SamplerConfig config, ModelFunction model, NDArray xT) {
        return sample(config, model, xT, StepListener.NONE);
    }

    /**
     * Samples from {@code xT} (not modified, not closed) at the config's start time to its end time.
     */
    public static SampleResult sample(SamplerConfig config, ModelFunction model, NDArray xT, StepListener listener) {
        return run(config, config.solver().create(), model, xT, listener);
    }

    /** The loop with a given solver instance (per-run solvers built by a fitter, e.g. {@link DodeSolver}). */
    public static SampleResult run(SamplerConfig config, Solver solver, ModelFunction model, NDArray xT, StepListener listener) {
        NoiseSchedule schedule = model.schedule();
        double tStart = config.tStart() != null ? config.tStart() : schedule.defaultTStart();
        double tEnd = config.tEnd() != null ? config.tEnd() : schedule.defaultTEnd();
        if (!(tStart > tEnd)) {
            throw new IllegalArgumentException("tStart (" + tStart + ") must be greater than tEnd (" + tEnd + ")");
        }
        double[] grid = solver.grid(schedule, config, tStart, tEnd);
        long nfe0 = model.nfe();
        long modelNanos0 = model.modelNanos();
        long start = System.nanoTime();
        NDManager caller = xT.getManager();
        try (NDManager run = caller.newSubManager()) {
            History history = new History(solver.historyCapacity(), run);
            listener.onStart(grid.clone(), xT);
            NDArray x = xT;
            for (int i = 0; i < grid.length - 1; i++) {
                NDArray next;
                try (NDManager scope = run.newSubManager()) {
                    x.tempAttach(scope);
                    history.tempAttach(scope);
                    Step step = new Step(i, grid, schedule, model, solver.historyType(), history, config);
                    next = solver.step(step, x);
                    listener.onStep(i, grid[i], grid[i + 1], next, step.outputAtStart());
                    step.commit();
                    next.attach(run);
                }
                if (x != xT) {
                    x.close();
                }
                x = next;
            }
            if (config.denoiseToZero()) {
                NDArray x0;
                try (NDManager scope = run.newSubManager()) {
                    x.tempAttach(scope);
                    x0 = model.data(x, tEnd);
                    listener.onDenoised(tEnd, x0);
                    x0.attach(run);
                }
                if (x != xT) {
                    x.close();
                }
                x = x0;
            }
            if (x == xT) {
                x = xT.duplicate();
            }
            x.attach(caller);
            return new SampleResult(x, grid, model.nfe() - nfe0, System.nanoTime() - start,
                    model.modelNanos() - modelNanos0);
        }
    }
}
