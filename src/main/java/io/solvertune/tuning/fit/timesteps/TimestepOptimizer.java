package io.solvertune.tuning.fit.timesteps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import org.apache.commons.math3.exception.TooManyEvaluationsException;
import org.apache.commons.math3.optim.InitialGuess;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.SimpleBounds;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunction;
import org.apache.commons.math3.optim.nonlinear.scalar.noderiv.CMAESOptimizer;
import org.apache.commons.math3.random.MersenneTwister;

/**
 * Minimises a grid's loss over the {@link GridParameterisation} with CMA-ES (Commons Math {@link CMAESOptimizer}),
 * from one or more start grids. Every start grid is evaluated first, exactly as given, and the result is the best grid
 * seen: a grid is returned only if its loss is strictly lower than every start's, so a start that cannot be improved
 * is returned bit for bit. Deterministic for a given seed. The trace records the best loss after every evaluation
 * that improved it.
 *
 * <p>Derivative-free on purpose: the solvers compute their step coefficients from the times on the host in
 * {@code double}, so the times are not tensors and the unrolled solver cannot be differentiated by DJL with respect to
 * them; the loss is a few dozen model calls per row, and the parameter count ({@code steps}) is small.
 */
public final class TimestepOptimizer {

    /**
     * Optimiser settings.
     *
     * @param maxEvaluations loss evaluations in total (the starts included), split evenly over the starts' CMA-ES runs
     * @param sigma          initial CMA-ES step size in theta (log step-size units; 0.3 = steps change by ~30 %)
     * @param population     CMA-ES population size ({@code 0}: the default {@code 4 + 3 ln(n)})
     * @param seed           random seed of CMA-ES
     */
    public record Settings(int maxEvaluations, double sigma, int population, long seed) {
        /** Hard limit on {@code maxEvaluations}. */
        public static final int MAX_EVALUATIONS = 100_000;

        public Settings {
            if (maxEvaluations < 1 || maxEvaluations > MAX_EVALUATIONS) {
                throw new IllegalArgumentException("evaluations must be in 1.." + MAX_EVALUATIONS + ", got "
                        + maxEvaluations);
            }
            if (!(sigma > 0) || !Double.isFinite(sigma)) {
                throw new IllegalArgumentException("sigma must be positive, got " + sigma);
            }
            if (population < 0 || population > 1000) {
                throw new IllegalArgumentException("population must be in 0..1000, got " + population);
            }
        }

        /** 200 evaluations, sigma 0.3, default population, seed 0. */
        public static Settings defaults() {
            return new Settings(200, 0.3, 0, 0L);
        }

        public Settings withMaxEvaluations(int n) {
            return new Settings(n, sigma, population, seed);
        }
    }

    /** One improvement of the best loss. */
    public record TracePoint(int evaluation, int start, double loss) {
    }

    /**
     * One CMA-ES generation: the evaluation that completed it, the start whose run it belongs to, the lowest loss
     * among its own evaluations and the best loss of every evaluation so far (starts included).
     */
    public record Generation(int evaluation, int start, double loss, double best) {
    }

    /**
     * The loss of every evaluation, recorded so that an interrupted optimisation continues: CMA-ES is deterministic
     * for a seed and the losses it sees, so a rerun that is handed the recorded losses walks the same path without
     * computing them again (Commons Math keeps the optimiser's state private; its replay from the recorded losses
     * costs no loss evaluation) and ends with the same bytes as an uninterrupted run.
     */
    public interface Journal {
        /** The recorded loss of evaluation {@code index} (0-based), if it was of exactly {@code grid}; else null. */
        Double recorded(int index, double[] grid);

        /** Records the loss of evaluation {@code index}. */
        void record(int index, double[] grid, double loss);

        /** No journal. */
        Journal NONE = new Journal() {
            @Override
            public Double recorded(int index, double[] grid) {
                return null;
            }

            @Override
            public void record(int index, double[] grid, double loss) {
            }
        };
    }

    /**
     * The optimisation's outcome.
     *
     * @param grid        the best grid
     * @param loss        its loss
     * @param fromStart   index of the start whose run found it
     * @param improved    whether it beats every start grid (otherwise it is the best start grid itself)
     * @param startLosses the loss of each start grid
     * @param evaluations loss evaluations spent
     * @param seconds     wall time
     * @param trace       best loss after each improvement
     * @param generations every CMA-ES generation's lowest and best-so-far loss (a generation cut short by the budget
     *                    included)
     * @param replayed    evaluations whose loss came from the {@link Journal} (not computed in this run)
     */
    public record Result(double[] grid, double loss, int fromStart, boolean improved, double[] startLosses,
                         int evaluations, double seconds, List<TracePoint> trace, List<Generation> generations,
                         int replayed) {
        public Result {
            grid = grid.clone();
            startLosses = startLosses.clone();
            trace = List.copyOf(trace);
            generations = List.copyOf(generations);
        }

        @Override
        public double[] grid() {
            return grid.clone();
        }
    }

    private TimestepOptimizer() {
    }

    /** Loss assigned to a theta whose grid is invalid or whose run failed (CMA-ES ranks, so any large value works). */
    static final double PENALTY = 1e300;

    /** Minimises {@code loss} (a grid's scalar loss, e.g. the mean per-seed MSE) from {@code starts}. */
    public static Result optimize(GridParameterisation p, ToDoubleFunction<double[]> loss, List<double[]> starts,
                                  Settings settings) {
        return optimize(p, loss, starts, settings, Journal.NONE);
    }

    /**
     * {@link #optimize} with every evaluation's loss taken from, or recorded in, {@code journal}: an optimisation
     * interrupted after any evaluation and run again with the same journal continues where it stopped and returns the
     * same result (but its wall time).
     */
    public static Result optimize(GridParameterisation p, ToDoubleFunction<double[]> rawLoss, List<double[]> starts,
                                  Settings settings, Journal journal) {
        Objects.requireNonNull(rawLoss, "optimizer: loss is required");
        Objects.requireNonNull(journal, "optimizer: journal is required");
        final int[] index = {0};
        final int[] replayed = {0};
        ToDoubleFunction<double[]> loss = g -> {
            int i = index[0]++;
            Double r = journal.recorded(i, g);
            if (r != null) {
                replayed[0]++;
                return r;
            }
            double l = safe(rawLoss, g);
            journal.record(i, g, l);
            return l;
        };
        if (starts == null || starts.isEmpty()) {
            throw new IllegalArgumentException("optimizer: at least one start grid is required");
        }
        long t0 = System.nanoTime();
        List<TracePoint> trace = new ArrayList<>();
        List<Generation> generations = new ArrayList<>();
        double[] startLosses = new double[starts.size()];
        double[] best = null;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestStart = 0;
        int evals = 0;
        List<double[]> thetas = new ArrayList<>();
        for (int s = 0; s < starts.size(); s++) {
            double[] g = starts.get(s);
            thetas.add(p.theta(g));   // validates the grid
            double l = loss.applyAsDouble(g);
            evals++;
            startLosses[s] = l;
            if (l < bestLoss) {
                bestLoss = l;
                best = g.clone();
                bestStart = s;
                trace.add(new TracePoint(evals, s, l));
            }
        }
        double bestStartLoss = bestLoss;
        int remaining = settings.maxEvaluations() - evals;
        final double[] globalBest = {bestLoss};
        final int[] evalBase = {evals};
        if (p.dimension() >= 2 && remaining > 0) {
            int perStart = remaining / starts.size();
            for (int s = 0; s < starts.size() && perStart > 0; s++) {
                final int start = s;
                final int[] count = {0};
                final double[][] runBest = {null};
                final double[] runLoss = {Double.POSITIVE_INFINITY};
                int dim = p.dimension();
                int lambda = settings.population() > 0 ? settings.population()
                        : 4 + (int) Math.floor(3 * Math.log(dim));
                final double[] genLoss = {Double.POSITIVE_INFINITY};
                org.apache.commons.math3.analysis.MultivariateFunction f = theta -> {
                    if (count[0] >= perStart) {
                        throw new TooManyEvaluationsException(perStart);
                    }
                    count[0]++;
                    double[] g;
                    double l;
                    try {
                        g = p.times(theta);
                        l = loss.applyAsDouble(g);
                    } catch (IllegalArgumentException e) {
                        g = null;
                        l = PENALTY;
                    }
                    if (g != null && l < runLoss[0]) {
                        runLoss[0] = l;
                        runBest[0] = g;
                        if (l < globalBest[0]) {
                            globalBest[0] = l;
                            trace.add(new TracePoint(evalBase[0] + count[0], start, l));
                        }
                    }
                    genLoss[0] = Math.min(genLoss[0], l);
                    if (count[0] % lambda == 0 || count[0] == perStart) {
                        generations.add(new Generation(evalBase[0] + count[0], start, genLoss[0], globalBest[0]));
                        genLoss[0] = Double.POSITIVE_INFINITY;
                    }
                    return l;
                };
                double[] sig = new double[dim];
                Arrays.fill(sig, settings.sigma());
                CMAESOptimizer cma = new CMAESOptimizer(Integer.MAX_VALUE, 0.0, true, 0, 0,
                        new MersenneTwister(settings.seed() + 7919L * s), false, null);
                int before = evals;
                evalBase[0] = evals;
                try {
                    cma.optimize(new MaxEval(perStart + 1), new ObjectiveFunction(f), GoalType.MINIMIZE,
                            new InitialGuess(thetas.get(s)), SimpleBounds.unbounded(dim), new CMAESOptimizer.Sigma(sig),
                            new CMAESOptimizer.PopulationSize(lambda));
                } catch (TooManyEvaluationsException e) {
                    // budget spent: the run's best is kept below
                }
                evals = before + count[0];
                if (count[0] % lambda != 0 && count[0] != perStart && genLoss[0] < Double.POSITIVE_INFINITY) {
                    // CMA-ES stopped inside a generation (converged): its partial generation
                    generations.add(new Generation(evalBase[0] + count[0], start, genLoss[0], globalBest[0]));
                }
                if (runLoss[0] < bestLoss) {
                    bestLoss = runLoss[0];
                    best = runBest[0].clone();
                    bestStart = start;
                }
            }
        }
        return new Result(best, bestLoss, bestStart, bestLoss < bestStartLoss, startLosses, evals,
                (System.nanoTime() - t0) / 1e9, trace, generations, replayed[0]);
    }

    private static double safe(ToDoubleFunction<double[]> loss, double[] grid) {
        double l;
        try {
            l = loss.applyAsDouble(grid);
        } catch (java.util.concurrent.CancellationException e) {
            throw e;   // a cancelled run is no failed grid (and must not be journaled as one)
        } catch (ArithmeticException | IllegalStateException | IllegalArgumentException e) {
            return PENALTY;
        }
        return Double.isFinite(l) ? l : PENALTY;
    }
}
