package io.solvertune.numerics.solver.consistency;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import io.solvertune.numerics.solver.consistency.Consistency.Form;

/**
 * ConsistencySolver's step (the reference {@code PPOScheduler.step}): one model call at the step's start, the newest
 * {@code k = min(history, order)} outputs combined with the row's weights ({@link Consistency#weights}), then the
 * form's first-order step ({@link ConsistencyUpdate#step}). One NFE per step.
 */
public final class ConsistencySolver implements Solver {
    private final Form form;
    private final int order;
    private final double[][] coefficients;
    private final double[] times;

    ConsistencySolver(Form form, int order, double[][] coefficients, double[] times) {
        this.form = form;
        this.order = order;
        this.coefficients = coefficients;
        this.times = times;
    }

    @Override
    public PredictionType historyType() {
        return form.prediction();
    }

    @Override
    public int historyCapacity() {
        return order;
    }

    @Override
    public double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        if (coefficients != null && coefficients.length != config.steps()) {
            throw new IllegalArgumentException("consistency: coefficients have " + coefficients.length
                    + " rows but the run has " + config.steps() + " steps");
        }
        if (times != null) {
            return times.clone();
        }
        return Solver.super.grid(schedule, config, tStart, tEnd);
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        step.modelAtStart(x);
        History h = step.history();
        int k = Math.min(h.size(), order);
        double[] a = coefficients == null ? new double[Math.max(0, k - 1)] : coefficients[step.index()];
        if (a.length < k - 1) {
            throw new IllegalStateException("consistency: step " + step.number() + " has " + a.length
                    + " coefficients for " + k + " outputs");
        }
        NDArray[] m = new NDArray[k];
        for (int j = 0; j < k; j++) {
            m[j] = h.get(j).value();
        }
        NDArray eff = ConsistencyUpdate.combine(Consistency.weights(a, k), m);
        return ConsistencyUpdate.step(form, step.schedule(), step.s(), step.t(), x, eff);
    }
}
