package io.solvertune.numerics.schedule;

/** {@code linspace} with the same arithmetic as torch/numpy (symmetric from both ends). */
public final class Linspace {
    private Linspace() {
    }

    /** {@code n} evenly spaced points from {@code start} to {@code end}, both included. */
    public static double[] of(double start, double end, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("linspace needs at least one point, got " + n);
        }
        double[] out = new double[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        double step = (end - start) / (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) {
            out[i] = i < half ? start + step * i : end - step * (n - 1 - i);
        }
        return out;
    }
}
