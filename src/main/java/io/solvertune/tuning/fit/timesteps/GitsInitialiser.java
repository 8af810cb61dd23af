package io.solvertune.tuning.fit.timesteps;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.GridTeacher;
import java.util.Arrays;

/**
 * GITS-style grid (Chen et al., ICML'24, "On the trajectory regularity of ODE-based diffusion sampling"): a dynamic
 * programme over a fine teacher grid. The teacher's states {@code x_i} at the {@code M + 1} points of the teacher grid
 * are computed on the context's rows ({@link GridTeacher}: a high-accuracy solve through exactly those points); the
 * cost of a jump {@code i -> j} is the mean squared deviation of one first-order (DDIM / DPM-Solver++ 1) step from the
 * teacher state {@code x_i} to time {@code t_j} from the teacher state {@code x_j}; the grid is the path
 * {@code 0 -> M} of exactly {@code steps} jumps with the least total cost. One model evaluation per teacher point and
 * row gives every jump's cost.
 */
public final class GitsInitialiser {

    /**
     * Settings.
     *
     * @param points       intervals {@code M} of the teacher grid (GITS: 60)
     * @param spacing      how the teacher grid is placed (logSNR by default)
     * @param teacherSteps fine steps of the teacher solve through the teacher grid ({@link GridTeacher})
     */
    public record Settings(int points, TimestepSpacing spacing, int teacherSteps) {
        /** Hard limit on {@code points}. */
        public static final int MAX_POINTS = 1000;

        public Settings {
            if (points < 2 || points > MAX_POINTS) {
                throw new IllegalArgumentException("gits points must be in 2.." + MAX_POINTS + ", got " + points);
            }
            if (spacing == null || spacing instanceof TimestepSpacing.Explicit) {
                throw new IllegalArgumentException("gits spacing must be a named spacing");
            }
            if (teacherSteps < points) {
                throw new IllegalArgumentException("gits teacherSteps must be >= points");
            }
        }

        /** 60 logSNR intervals, 500 teacher steps. */
        public static Settings defaults() {
            return new Settings(60, new TimestepSpacing.LogSnr(), GridTeacher.DEFAULT_STEPS);
        }
    }

    /** The teacher grid, the jump costs ({@code cost[i][j]}, {@code j > i}) and the chosen path. */
    public record Result(double[] teacherGrid, double[][] cost, int[] path, double totalCost, double[] grid) {
    }

    private GitsInitialiser() {
    }

    /** The GITS grid of {@code steps} steps on the context's rows and time range. */
    public static Result grid(FitContext ctx, int steps, Settings settings) {
        if (steps < 1 || steps > settings.points()) {
            throw new IllegalArgumentException("gits: steps must be in 1.." + settings.points() + ", got " + steps);
        }
        NoiseSchedule s = ctx.model().schedule();
        double[] tg = settings.spacing().times(s, ctx.tStart(), ctx.tEnd(), settings.points());
        double[][] states = GridTeacher.states(ctx, tg, settings.teacherSteps());
        double[][] cost = costs(ctx, tg, states);
        int[] path = shortestPath(cost, steps);
        double total = 0;
        double[] grid = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            grid[k] = tg[path[k]];
            if (k > 0) {
                total += cost[path[k - 1]][path[k]];
            }
        }
        return new Result(tg, cost, path, total, grid);
    }

    /** Jump costs from the teacher states: one data prediction per point and row. */
    static double[][] costs(FitContext ctx, double[] tg, double[][] states) {
        NoiseSchedule s = ctx.model().schedule();
        int m = tg.length - 1;
        int rows = ctx.rows();
        int per = ctx.perSample();
        double[][] cost = new double[m + 1][m + 1];
        try (NDManager nm = NDManager.newBaseManager()) {
            for (int i = 0; i < m; i++) {
                double[] x0 = new double[rows * per];
                for (int b0 = 0; b0 < rows; b0 += ctx.batch()) {
                    int b1 = Math.min(rows, b0 + ctx.batch());
                    try (NDManager bm = nm.newSubManager()) {
                        long[] shape = new long[ctx.sampleShape().length + 1];
                        shape[0] = b1 - b0;
                        System.arraycopy(ctx.sampleShape(), 0, shape, 1, ctx.sampleShape().length);
                        NDArray x = Nd.create(bm, Arrays.copyOfRange(states[i], b0 * per, b1 * per), new Shape(shape),
                                ctx.dtype());
                        long[] seeds = Arrays.copyOfRange(ctx.seeds(), b0, b1);
                        ModelFunction fn = new ModelFunction(ctx.model(), ctx.guidance(),
                                ctx.guidance().rowLabels(seeds, ctx.model().numClasses()));
                        double[] d = Nd.toDoubles(fn.data(x, tg[i]));
                        System.arraycopy(d, 0, x0, b0 * per, d.length);
                    }
                }
                double si = s.sigma(tg[i]);
                double li = s.lambda(tg[i]);
                for (int j = i + 1; j <= m; j++) {
                    double h = s.lambda(tg[j]) - li;
                    double a = s.sigma(tg[j]) / si;
                    double b = -s.alpha(tg[j]) * Math.expm1(-h);
                    double se = 0;
                    double[] xi = states[i];
                    double[] xj = states[j];
                    for (int k = 0; k < rows * per; k++) {
                        double d = a * xi[k] + b * x0[k] - xj[k];
                        se += d * d;
                    }
                    cost[i][j] = se / ((double) rows * per);
                }
                ctx.progress().report("gits-costs", i + 1, m, "teacher point " + i);
            }
        }
        return cost;
    }

    /** Indexes {@code 0 = p_0 < p_1 < ... < p_steps = M} minimising {@code sum cost[p_{k-1}][p_k]}. */
    static int[] shortestPath(double[][] cost, int steps) {
        int m = cost.length - 1;
        if (steps < 1 || steps > m) {
            throw new IllegalArgumentException("gits: steps must be in 1.." + m);
        }
        double[][] d = new double[steps + 1][m + 1];
        int[][] from = new int[steps + 1][m + 1];
        for (double[] row : d) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        d[0][0] = 0;
        for (int k = 1; k <= steps; k++) {
            for (int j = k; j <= m; j++) {
                for (int i = k - 1; i < j; i++) {
                    double c = d[k - 1][i] + cost[i][j];
                    if (c < d[k][j]) {
                        d[k][j] = c;
                        from[k][j] = i;
                    }
                }
            }
        }
        int[] path = new int[steps + 1];
        path[steps] = m;
        for (int k = steps; k >= 1; k--) {
            path[k - 1] = from[k][path[k]];
        }
        return path;
    }
}
