package io.solvertune.numerics.coeff;

import io.solvertune.numerics.schedule.Linspace;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * The grid DPM-Solver-v3's empirical model statistics live on: {@code steps + 1} points uniform in half log-SNR
 * from {@code lambda(tStart)} (index 0, noisy end) to {@code lambda(tEnd)} (index {@code steps}), as the official
 * {@code DPM_Solver_v3.__init__} builds it: {@code ts = lambda(inverse_lambda(linspace(lambda(t_T), lambda(t_0),
 * K + 1)))}. The statistics are only valid on the grid (and hence for the schedule and time range) they were
 * computed on.
 *
 * @param steps  {@code K}, the number of grid intervals (the arrays have {@code K + 1} rows)
 * @param tStart time of grid point 0 ({@code t_T}, noisy end)
 * @param tEnd   time of grid point {@code K} ({@code t_0}, data end)
 */
public record EmsGrid(int steps, double tStart, double tEnd) {

    /** Identifier of this grid type in metadata files. */
    public static final String TYPE = "logSNR_uniform";

    public EmsGrid {
        if (steps < 1) {
            throw new IllegalArgumentException("EMS grid: needs at least 1 interval (K + 1 >= 2 rows), got K = " + steps);
        }
        if (!Double.isFinite(tStart) || !Double.isFinite(tEnd) || !(tEnd > 0.0) || !(tStart > tEnd)) {
            throw new IllegalArgumentException("EMS grid: need tStart > tEnd > 0, got tStart = " + tStart + ", tEnd = "
                    + tEnd);
        }
    }

    /**
     * The grid's half log-SNR values on {@code schedule}, increasing from index 0 to {@code steps} (with the
     * official round trip through {@code inverse_lambda}).
     */
    public double[] lambdas(NoiseSchedule schedule) {
        double lambdaT = schedule.lambda(tStart);
        double lambda0 = schedule.lambda(tEnd);
        if (!Double.isFinite(lambdaT) || !Double.isFinite(lambda0)) {
            throw new IllegalArgumentException("EMS grid: the schedule has no finite lambda at tStart = " + tStart
                    + " (" + lambdaT + ") or tEnd = " + tEnd + " (" + lambda0 + ")");
        }
        double[] lin = Linspace.of(lambdaT, lambda0, steps + 1);
        double[] out = new double[steps + 1];
        for (int j = 0; j <= steps; j++) {
            out[j] = schedule.lambda(schedule.inverseLambda(lin[j]));
            if (!Double.isFinite(out[j]) || j > 0 && !(out[j] > out[j - 1])) {
                throw new IllegalArgumentException("EMS grid: lambda grid is not finite and strictly increasing at index "
                        + j + " (" + out[j] + "); the schedule cannot resolve K = " + steps + " points on ["
                        + tEnd + ", " + tStart + "]");
            }
        }
        return out;
    }

    /**
     * The grid index a time snaps to: {@code round(K (lambda(t) - lambda_T) / (lambda_0 - lambda_T))} (round half to
     * even, as {@code torch.round}), with {@code lambda_T, lambda_0} the first and last grid values.
     */
    public static int snapIndex(double[] gridLambdas, double lambda) {
        int k = gridLambdas.length - 1;
        double lambdaT = gridLambdas[0];
        double lambda0 = gridLambdas[k];
        double pos = k * (lambda - lambdaT) / (lambda0 - lambdaT);
        if (!Double.isFinite(pos)) {
            throw new IllegalArgumentException("EMS grid: cannot snap lambda = " + lambda + " to the grid");
        }
        double r = Math.rint(pos);
        if (r < 0 || r > k) {
            throw new IllegalArgumentException("EMS grid: lambda = " + lambda + " lies outside the statistics grid ["
                    + lambdaT + ", " + lambda0 + "] (snaps to index " + (long) r + " of 0.." + k + ")");
        }
        return (int) r;
    }

    /** The half log-SNR the official code assigns to grid index {@code index}: {@code lambda_T + (lambda_0 - lambda_T) index / K}. */
    public static double indexLambda(double[] gridLambdas, int index) {
        int k = gridLambdas.length - 1;
        double lambdaT = gridLambdas[0];
        double lambda0 = gridLambdas[k];
        return lambdaT + (lambda0 - lambdaT) * index / k;
    }
}
