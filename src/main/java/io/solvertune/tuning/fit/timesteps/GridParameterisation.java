package io.solvertune.tuning.fit.timesteps;

import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * A strictly monotone grid of {@code steps + 1} times from {@code tStart} to {@code tEnd} as a point of
 * {@code R^steps}: LD3's softmax-cumsum. With {@code w = softmax(theta)} the grid's position in the chosen coordinate
 * is {@code u_i = w_0 + ... + w_{i-1}} ({@code u_0 = 0}, {@code u_steps = 1} exactly), so every {@code theta} is a
 * valid grid (strictly decreasing times, exact endpoints) and an unconstrained optimiser can move freely. The
 * coordinate is the half log-SNR {@code lambda} where it is finite at both ends (steps equal in {@code theta} are then
 * a logSNR grid), otherwise the time itself. {@link #theta} inverts {@link #times} (up to rounding), so an optimiser
 * starting from any base grid starts exactly there.
 *
 * @param schedule the model's noise schedule
 * @param tStart   first (noisiest) time
 * @param tEnd     last time
 * @param steps    number of steps (the grid has {@code steps + 1} times)
 */
public record GridParameterisation(NoiseSchedule schedule, double tStart, double tEnd, int steps) {

    /** The axis the step sizes are measured on. */
    public enum Coordinate { LAMBDA, TIME }

    public GridParameterisation {
        if (schedule == null) {
            throw new IllegalArgumentException("grid parameterisation: schedule is required");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("grid parameterisation: steps must be >= 1, got " + steps);
        }
        if (!(tStart > tEnd) || !(tEnd > 0) || !Double.isFinite(tStart)) {
            throw new IllegalArgumentException("grid parameterisation: need tStart > tEnd > 0, got " + tStart + ", "
                    + tEnd);
        }
    }

    /** The coordinate used: lambda if finite at both ends, else time. */
    public Coordinate coordinate() {
        return Double.isFinite(schedule.lambda(tStart)) && Double.isFinite(schedule.lambda(tEnd))
                ? Coordinate.LAMBDA : Coordinate.TIME;
    }

    /** Number of free parameters ({@code steps}; the softmax has one redundant direction, the mean). */
    public int dimension() {
        return steps;
    }

    private double coord(double t) {
        return coordinate() == Coordinate.LAMBDA ? schedule.lambda(t) : t;
    }

    private double time(double c) {
        return coordinate() == Coordinate.LAMBDA ? schedule.inverseLambda(c) : c;
    }

    /** The grid of {@code theta}: {@code steps + 1} strictly decreasing times with exact endpoints. */
    public double[] times(double[] theta) {
        if (theta == null || theta.length != steps) {
            throw new IllegalArgumentException("grid parameterisation: theta must have " + steps + " entries");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : theta) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("grid parameterisation: theta is not finite");
            }
            max = Math.max(max, v);
        }
        double[] w = new double[steps];
        double sum = 0;
        for (int i = 0; i < steps; i++) {
            w[i] = Math.exp(theta[i] - max);
            sum += w[i];
        }
        double c0 = coord(tStart);
        double c1 = coord(tEnd);
        double[] t = new double[steps + 1];
        t[0] = tStart;
        t[steps] = tEnd;
        double acc = 0;
        for (int i = 1; i < steps; i++) {
            acc += w[i - 1] / sum;
            t[i] = time(c0 + (c1 - c0) * acc);
        }
        for (int i = 1; i <= steps; i++) {
            if (!(t[i] < t[i - 1])) {
                // a step below the coordinate's resolution: the grid would repeat a time
                throw new IllegalArgumentException("grid parameterisation: theta gives a step of zero length at "
                        + i + " (" + t[i - 1] + " -> " + t[i] + ")");
            }
        }
        return t;
    }

    /** The parameters of a grid (its log step sizes, centred): {@code times(theta(grid))} is {@code grid}. */
    public double[] theta(double[] grid) {
        if (grid == null || grid.length != steps + 1) {
            throw new IllegalArgumentException("grid parameterisation: the grid must have " + (steps + 1) + " times");
        }
        if (grid[0] != tStart || grid[steps] != tEnd) {
            throw new IllegalArgumentException("grid parameterisation: the grid must run from " + tStart + " to "
                    + tEnd + ", got " + grid[0] + " .. " + grid[steps]);
        }
        double[] th = new double[steps];
        double mean = 0;
        for (int i = 0; i < steps; i++) {
            double d = Math.abs(coord(grid[i + 1]) - coord(grid[i]));
            if (!(grid[i + 1] < grid[i]) || !(d > 0)) {
                throw new IllegalArgumentException("grid parameterisation: the grid must decrease strictly; index "
                        + (i + 1) + " does not");
            }
            th[i] = Math.log(d);
            mean += th[i];
        }
        mean /= steps;
        for (int i = 0; i < steps; i++) {
            th[i] -= mean;
        }
        return th;
    }
}
