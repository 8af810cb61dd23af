package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.consistency.ConsistencyUpdate;
import java.util.ArrayList;
import java.util.List;

/**
 * A batch of ConsistencySolver runs on one grid where every row may have its own coefficients (the trainer's G
 * rollouts of one noise): the same combination and first-order step as the sampler ({@link ConsistencyUpdate}), with
 * per-row weights. One model call per step for the whole batch. Every array lives on {@code xT}'s manager.
 */
final class Rollouts {

    /** The combination weights of step {@code i} ({@code >= 1}) over {@code k} outputs, each broadcastable to x. */
    @FunctionalInterface
    interface Weights {
        NDArray[] at(int step, int k);
    }

    private Rollouts() {
    }

    /** Runs every row from {@code xT} over {@code grid}; returns the final states. */
    static NDArray run(Form form, int order, double[] grid, ModelFunction fn, NDArray xT, Weights w) {
        NoiseSchedule ns = fn.schedule();
        List<NDArray> hist = new ArrayList<>();
        NDArray x = xT;
        for (int i = 0; i + 1 < grid.length; i++) {
            NDArray m = fn.eval(x, grid[i], form.prediction());
            hist.add(0, m);
            if (hist.size() > order) {
                hist.remove(hist.size() - 1);
            }
            int k = hist.size();
            NDArray eff = k == 1 ? m : ConsistencyUpdate.combineRows(w.at(i, k), hist.toArray(new NDArray[0]));
            x = ConsistencyUpdate.step(form, ns, grid[i], grid[i + 1], x, eff);
        }
        return x;
    }

    /**
     * Per-row weights from host actions: {@code actions[r][i - 1]} are the free coefficients of row {@code r} at step
     * {@code i}; the arrays have shape {@code [rows, 1, .., 1]} ({@code rank} dimensions in all).
     */
    static Weights host(NDManager m, double[][][] actions, int rank, DataType dtype) {
        int rows = actions.length;
        long[] shape = new long[rank];
        java.util.Arrays.fill(shape, 1);
        shape[0] = rows;
        return (step, k) -> {
            double[][] c = new double[k][rows];
            for (int r = 0; r < rows; r++) {
                double[] w = Consistency.weights(actions[r][step - 1], k);
                for (int j = 0; j < k; j++) {
                    c[j][r] = w[j];
                }
            }
            NDArray[] out = new NDArray[k];
            for (int j = 0; j < k; j++) {
                out[j] = Nd.create(m, c[j], new Shape(shape), dtype);
            }
            return out;
        };
    }

    /**
     * Weights shared by every row from differentiable coefficients {@code a [S, D]} (step {@code i} uses row
     * {@code i - 1}): {@code c_0 = 1 + a_0}, {@code c_j = a_j}, {@code c_{k-1} = 1 - sum}, as scalar arrays.
     */
    static Weights shared(NDArray a, DataType dtype) {
        return (step, k) -> {
            NDArray row = a.get(step - 1);
            NDArray[] c = new NDArray[k];
            c[0] = row.get(0).add(1.0);
            NDArray sum = c[0];
            for (int j = 1; j < k - 1; j++) {
                c[j] = row.get(j);
                sum = sum.add(c[j]);
            }
            c[k - 1] = sum.neg().add(1.0);
            for (int j = 0; j < k; j++) {
                c[j] = c[j].toType(dtype, false);
            }
            return c;
        };
    }

    /** Per-row MSE of {@code x} against {@code target} (row-major host values). */
    static double[] mse(NDArray x, double[] target) {
        double[] v = Nd.toDoubles(x);
        int rows = (int) x.getShape().get(0);
        int per = v.length / rows;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < per; j++) {
                double d = v[r * per + j] - target[r * per + j];
                s += d * d;
            }
            out[r] = s / per;
        }
        return out;
    }
}
