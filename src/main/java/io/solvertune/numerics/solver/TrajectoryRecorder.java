package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.nd.Nd;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link StepListener} that copies the whole trajectory to host memory: the state at every grid time (and the
 * final denoised sample when {@code denoise_to_zero} is on).
 */
public final class TrajectoryRecorder implements StepListener {
    private final List<double[]> states = new ArrayList<>();
    private final List<Double> times = new ArrayList<>();
    private long[] shape;
    private double[] denoised;

    @Override
    public void onStart(double[] grid, NDArray xT) {
        states.clear();
        times.clear();
        shape = xT.getShape().getShape();
        states.add(Nd.toDoubles(xT));
        times.add(grid[0]);
    }

    @Override
    public void onStep(int index, double s, double t, NDArray x, NDArray modelOutputAtS) {
        states.add(Nd.toDoubles(x));
        times.add(t);
    }

    @Override
    public void onDenoised(double t, NDArray x0) {
        denoised = Nd.toDoubles(x0);
    }

    /** Times of the recorded states (the grid). */
    public double[] times() {
        return times.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Recorded states, one per time, each flattened in C order. */
    public List<double[]> states() {
        return List.copyOf(states);
    }

    /** Shape of one state. */
    public long[] stateShape() {
        return shape.clone();
    }

    /** The final {@code denoise_to_zero} output, or {@code null}. */
    public double[] denoised() {
        return denoised;
    }

    /** All states stacked: shape {@code [times, ...stateShape]}. */
    public double[] stacked() {
        int n = states.size();
        int per = states.isEmpty() ? 0 : states.get(0).length;
        double[] out = new double[n * per];
        for (int i = 0; i < n; i++) {
            System.arraycopy(states.get(i), 0, out, i * per, per);
        }
        return out;
    }
}
