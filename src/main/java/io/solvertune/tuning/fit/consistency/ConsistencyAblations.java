package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.optim.InitialGuess;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.SimpleBounds;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.nonlinear.scalar.ObjectiveFunction;
import org.apache.commons.math3.optim.nonlinear.scalar.noderiv.CMAESOptimizer;
import org.apache.commons.math3.random.MersenneTwister;

/**
 * The three ways to train ConsistencySolver's coefficients behind one interface: RL (the method), the direct gradient
 * through the unrolled solver (ablation; the same network and schedule of NFEs, only where the model is
 * differentiable in DJL) and CMA-ES on each NFE's table separately (ablation; Commons Math {@link CMAESOptimizer},
 * objective = final-state MSE to the teacher on the training rows, no network).
 */
public final class ConsistencyAblations {

    /** Which trainer. */
    public enum Trainer { RL, DIRECT, CMAES }

    /** A trained solver: its per-NFE tables, training time and curve. */
    public interface Trained {
        double seconds();

        List<?> curve();

        CoefficientSet set(int nfe, Policy.Inference inference);

        /**
         * The set published at {@code nfe}: with checkpoint selection the selected snapshot's (in its own mode), else
         * {@link #set} in {@code inference}.
         */
        default CoefficientSet selectedSet(int nfe, Policy.Inference inference) {
            return set(nfe, inference);
        }

        /** The selection-row scores of the snapshots (empty without checkpoint selection). */
        default List<ConsistencyTrainer.SelectionPoint> selectionCurve() {
            return List.of();
        }

        /** The selected snapshot at {@code nfe}, or null. */
        default ConsistencyTrainer.Snapshot selected(int nfe) {
            return null;
        }
    }

    private ConsistencyAblations() {
    }

    /**
     * Trains with {@code trainer}; RL and DIRECT resume from and checkpoint to {@code checkpoint}; CMA-ES fits the
     * tables of {@code nfes} (its evaluation budget per NFE is {@code cmaesEvaluations}).
     */
    public static Trained train(Trainer trainer, FitContext ctx, double[] teacherFinal, TrainerSettings st, int[] nfes,
                                int cmaesEvaluations, Path checkpoint) throws IOException {
        return train(trainer, ctx, teacherFinal, st, nfes, cmaesEvaluations, checkpoint, null);
    }

    /** As {@link #train(Trainer, FitContext, double[], TrainerSettings, int[], int, Path)}, RL with a classifier term. */
    public static Trained train(Trainer trainer, FitContext ctx, double[] teacherFinal, TrainerSettings st, int[] nfes,
                                int cmaesEvaluations, Path checkpoint, ClassifierReward reward) throws IOException {
        return train(trainer, ctx, teacherFinal, st, nfes, cmaesEvaluations, checkpoint, reward, null);
    }

    /**
     * As {@link #train(Trainer, FitContext, double[], TrainerSettings, int[], int, Path, ClassifierReward)}, with
     * checkpoint selection on the selection rows ({@code selection}, null for none; RL and DIRECT only: CMA-ES keeps
     * its best evaluation by construction).
     */
    public static Trained train(Trainer trainer, FitContext ctx, double[] teacherFinal, TrainerSettings st, int[] nfes,
                                int cmaesEvaluations, Path checkpoint, ClassifierReward reward,
                                ConsistencyTrainer.Selection selection) throws IOException {
        if (selection != null && trainer == Trainer.CMAES) {
            throw new IllegalArgumentException("selectEvery: checkpoint selection applies to the RL and DIRECT "
                    + "trainers, not CMA-ES");
        }
        if (reward != null && trainer != Trainer.RL) {
            throw new IllegalArgumentException("classifierReward: only the RL trainer takes a classifier reward (the "
                    + "ablations minimise the final-state MSE)");
        }
        if (trainer == Trainer.CMAES) {
            return cmaes(ctx, teacherFinal, st, nfes, cmaesEvaluations);
        }
        ConsistencyTrainer t = new ConsistencyTrainer(ctx, teacherFinal, st,
                trainer == Trainer.RL ? ConsistencyTrainer.Mode.RL : ConsistencyTrainer.Mode.DIRECT);
        if (reward != null) {
            t.withClassifierReward(reward);
        }
        if (selection != null) {
            t.withSelection(selection);
        }
        t.resume(checkpoint);
        t.train(checkpoint, Integer.MAX_VALUE);
        return new Trained() {
            @Override
            public double seconds() {
                return t.seconds();
            }

            @Override
            public List<?> curve() {
                return t.curve();
            }

            @Override
            public CoefficientSet set(int nfe, Policy.Inference inference) {
                return t.coefficientSet(nfe, inference, null);
            }

            @Override
            public CoefficientSet selectedSet(int nfe, Policy.Inference inference) {
                return t.selectedSet(nfe, inference, null);
            }

            @Override
            public List<ConsistencyTrainer.SelectionPoint> selectionCurve() {
                return t.selectionCurve();
            }

            @Override
            public ConsistencyTrainer.Snapshot selected(int nfe) {
                return t.selected(nfe);
            }
        };
    }

    /** One evaluation of the CMA-ES curve. */
    public record CmaesPoint(int nfe, int evaluation, double mse, double best) {
    }

    /** CMA-ES on every NFE's table (free coefficients of steps 1..n-1), started at the neutral table. */
    static Trained cmaes(FitContext ctx, double[] teacherFinal, TrainerSettings st, int[] nfes, int evaluations) {
        if (evaluations < 10 || evaluations > 100_000) {
            throw new IllegalArgumentException("cmaesEvaluations: must be in [10, 100000], got " + evaluations);
        }
        ConsistencyTrainer grids = new ConsistencyTrainer(ctx, teacherFinal, st);
        Map<Integer, double[][]> tables = new HashMap<>();
        List<CmaesPoint> curve = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int nfe : nfes) {
            double[] grid = grids.grid(nfe);
            int[] used = grids.used(nfe);
            int sum = 0;
            for (int u : used) {
                sum += u;
            }
            int dim = sum;
            if (dim == 0) {
                tables.put(nfe, Consistency.neutral(st.form(), st.order(), nfe).coefficients());
                continue;
            }
            double[] best = new double[dim];
            double[] bestVal = {Double.POSITIVE_INFINITY};
            int[] count = {0};
            ObjectiveFunction f = new ObjectiveFunction(v -> {
                double mse = finalMse(ctx, teacherFinal, st, grid, unpack(v, used, nfe));
                count[0]++;
                if (mse < bestVal[0]) {
                    bestVal[0] = mse;
                    System.arraycopy(v, 0, best, 0, dim);
                }
                curve.add(new CmaesPoint(nfe, count[0], mse, bestVal[0]));
                if (count[0] % 20 == 0) {
                    ctx.progress().report("consistency-cmaes", count[0], evaluations, String.format(Locale.ROOT,
                            "NFE %d best training MSE %.5g", nfe, bestVal[0]));
                }
                return mse;
            });
            double[] lo = new double[dim];
            double[] hi = new double[dim];
            double[] sigma = new double[dim];
            java.util.Arrays.fill(lo, -3);
            java.util.Arrays.fill(hi, 3);
            java.util.Arrays.fill(sigma, 0.3);
            int lambda = 4 + (int) (3 * Math.log(dim));
            try {
                new CMAESOptimizer(evaluations, 0.0, true, 0, 0, new MersenneTwister(st.seed()), false, null)
                        .optimize(new MaxEval(evaluations), f, GoalType.MINIMIZE, new InitialGuess(new double[dim]),
                                new SimpleBounds(lo, hi), new CMAESOptimizer.Sigma(sigma),
                                new CMAESOptimizer.PopulationSize(lambda));
            } catch (org.apache.commons.math3.exception.TooManyEvaluationsException e) {
                // budget spent: the best point evaluated is kept
            }
            tables.put(nfe, unpack(best, used, nfe));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Trained() {
            @Override
            public double seconds() {
                return secs;
            }

            @Override
            public List<?> curve() {
                return curve;
            }

            @Override
            public CoefficientSet set(int nfe, Policy.Inference inference) {
                double[][] values = tables.get(nfe);
                if (values == null) {
                    throw new IllegalArgumentException("nfe: CMA-ES fitted no table at NFE " + nfe);
                }
                Map<String, Object> settings = new LinkedHashMap<>();
                settings.put("trainer", "cmaes-table");
                settings.put("hyperparameters", Map.of("form", st.form().id(), "order", st.order(), "evaluations",
                        evaluations, "seed", st.seed(), "spacing", st.spacing().id(), "bounds", List.of(-3, 3),
                        "sigma", 0.3));
                List<CmaesPoint> mine = new ArrayList<>();
                for (CmaesPoint p : curve) {
                    if (p.nfe() == nfe) {
                        mine.add(p);
                    }
                }
                settings.put("rewardCurve", mine);
                return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.CONSISTENCY,
                        st.form().base(st.order()), st.spacing(), nfe, nfe, grids.grid(nfe),
                        Consistency.columnNames(st.order()), values,
                        new CoefficientSet.FitReport(ctx.rows(), null, null, null, secs, List.of()), null,
                        ctx.provenanceWith(settings));
            }
        };
    }

    private static double[][] unpack(double[] v, int[] used, int nfe) {
        double[][] t = new double[nfe][];
        t[0] = new double[0];
        int k = 0;
        for (int i = 1; i < nfe; i++) {
            t[i] = java.util.Arrays.copyOfRange(v, k, k + used[i - 1]);
            k += used[i - 1];
        }
        return t;
    }

    /** Mean final-state MSE of the table over every training row. */
    static double finalMse(FitContext ctx, double[] teacherFinal, TrainerSettings st, double[] grid, double[][] table) {
        int per = ctx.perSample();
        int rows = ctx.rows();
        double se = 0;
        int steps = grid.length - 1;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = 0; b0 < rows; b0 += ctx.batch()) {
                int b1 = Math.min(rows, b0 + ctx.batch());
                try (NDManager bm = m.newSubManager()) {
                    long[] shape = new long[ctx.sampleShape().length + 1];
                    shape[0] = b1 - b0;
                    System.arraycopy(ctx.sampleShape(), 0, shape, 1, ctx.sampleShape().length);
                    NDArray xT = Nd.create(bm, java.util.Arrays.copyOfRange(ctx.initial(), b0 * per, b1 * per),
                            new Shape(shape), ctx.dtype());
                    long[] seeds = java.util.Arrays.copyOfRange(ctx.seeds(), b0, b1);
                    ModelFunction fn = new ModelFunction(ctx.model(), ctx.guidance(),
                            ctx.guidance().rowLabels(seeds, ctx.model().numClasses()));
                    double[][][] actions = new double[b1 - b0][steps][];
                    for (int r = 0; r < b1 - b0; r++) {
                        for (int i = 1; i < steps; i++) {
                            actions[r][i - 1] = java.util.Arrays.copyOf(table[i], st.order() - 1);
                        }
                    }
                    double[] mse = Rollouts.mse(Rollouts.run(st.form(), st.order(), grid, fn, xT,
                            Rollouts.host(bm, actions, shape.length, ctx.dtype())),
                            java.util.Arrays.copyOfRange(teacherFinal, b0 * per, b1 * per));
                    for (double x : mse) {
                        se += x;
                    }
                }
            }
        }
        return se / rows;
    }
}
