package io.solvertune.numerics.solver.iia;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.ArrayList;
import java.util.List;

/**
 * An IIA sampling run driven step by step, for the fitter: {@link #prepare()} evaluates the model for the current
 * step and exposes the base update and the gradient vectors; {@link #advance(double[])} then takes the step with the
 * given coefficients. It runs the same {@link IiaSolver} code with the same scopes and history as the
 * {@link Sampler} does, so a {@link Iia} run with the coefficients passed here reproduces this run's
 * states bit for bit. Not thread-safe; close it (its arrays live in a sub-manager of {@code xT}'s manager).
 */
public final class IiaRun implements AutoCloseable {
    private final IiaSolver solver;
    private final SamplerConfig config;
    private final ModelFunction model;
    private final NoiseSchedule schedule;
    private final double[] grid;
    private final NDManager run;
    private final History history;
    private NDArray x;
    private int index;
    private NDManager scope;
    private Step step;
    private IiaSolver.Terms terms;

    /** The step's state, its base update and its gradient vectors (valid until {@link #advance}). */
    public record Prepared(NDArray state, NDArray base, List<NDArray> vectors) {
    }

    /**
     * @param form   the IIA form
     * @param r      recent steps whose gradients enter
     * @param config grid definition (spacing, steps, time range, lower-order-final); its solver is ignored
     * @param model  the model function (counts NFE)
     * @param xT     initial state (not modified, not closed)
     */
    public IiaRun(Iia.Form form, int r, SamplerConfig config, ModelFunction model, NDArray xT) {
        this.solver = new IiaSolver(form, r, null, null);
        this.config = config;
        this.model = model;
        this.schedule = model.schedule();
        double tStart = config.tStart() != null ? config.tStart() : schedule.defaultTStart();
        double tEnd = config.tEnd() != null ? config.tEnd() : schedule.defaultTEnd();
        if (!(tStart > tEnd)) {
            throw new IllegalArgumentException("tStart (" + tStart + ") must be greater than tEnd (" + tEnd + ")");
        }
        this.grid = solver.grid(schedule, config, tStart, tEnd);
        this.run = xT.getManager().newSubManager();
        this.history = new History(solver.historyCapacity(), run);
        this.x = xT.duplicate();
        this.x.attach(run);
    }

    /** The grid times ({@code steps + 1}). */
    public double[] grid() {
        return grid.clone();
    }

    /** Number of steps. */
    public int steps() {
        return grid.length - 1;
    }

    /** Index of the next step to take ({@code steps()} when done). */
    public int index() {
        return index;
    }

    /** The current state (owned by the run). */
    public NDArray state() {
        return x;
    }

    /** Evaluates the model for the current step (idempotent until {@link #advance}). */
    public Prepared prepare() {
        if (index >= steps()) {
            throw new IllegalStateException("the run is finished");
        }
        if (terms == null) {
            scope = run.newSubManager();
            x.tempAttach(scope);
            history.tempAttach(scope);
            step = new Step(index, grid, schedule, model, solver.historyType(), history, config);
            terms = solver.terms(step, x);
        }
        NDArray base = terms.base().apply(terms.basis());
        List<NDArray> vectors = new ArrayList<>(terms.vectors().length);
        for (var v : terms.vectors()) {
            vectors.add(v.apply(terms.basis()));
        }
        return new Prepared(x, base, vectors);
    }

    /** Takes the current step with coefficients {@code c} (one per gradient vector) and closes its scope. */
    public void advance(double[] c) {
        if (terms == null) {
            prepare();
        }
        NDArray next = IiaSolver.update(terms, c);
        step.commit();
        next.attach(run);
        scope.close();
        x.close();
        x = next;
        terms = null;
        step = null;
        scope = null;
        index++;
    }

    @Override
    public void close() {
        if (scope != null) {
            scope.close();
        }
        run.close();
    }
}
