package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.StepListener;
import java.util.Arrays;

/**
 * High-accuracy reference states at exactly a student's grid times: one continuous DPM-Solver++ 3M solve (multistep,
 * data prediction) whose grid contains every student time, with sub-steps uniform in logSNR inside each student
 * interval. The number of sub-steps of interval {@code k} is {@code max(1, round(total * dLambda_k / dLambda))}, so
 * the fine grid is close to a global logSNR grid of {@code total} steps but hits the student times exactly. The state
 * compared with a student's {@code x_{k}} is the teacher's at exactly {@code times[k]} (row {@code k} of the result;
 * row 0 is the initial noise itself).
 */
public final class GridTeacher {
    /** Default total number of fine steps. */
    public static final int DEFAULT_STEPS = 500;

    private GridTeacher() {
    }

    /** The fine grid and where the student times sit in it. */
    public record FineGrid(double[] times, int[] studentIndexes) {
    }

    /** Sub-steps per student interval for a total of about {@code total} fine steps. */
    static int[] allocate(NoiseSchedule s, double[] studentTimes, int total) {
        int n = studentTimes.length - 1;
        if (total < n) {
            throw new IllegalArgumentException("teacherSteps (" + total + ") must be at least the student's steps ("
                    + n + ")");
        }
        double whole = s.lambda(studentTimes[n]) - s.lambda(studentTimes[0]);
        int[] per = new int[n];
        for (int k = 0; k < n; k++) {
            double part = s.lambda(studentTimes[k + 1]) - s.lambda(studentTimes[k]);
            per[k] = Math.max(1, (int) Math.round(total * part / whole));
        }
        return per;
    }

    /** The fine grid with {@code perInterval[k]} logSNR-uniform sub-steps in student interval {@code k}. */
    static FineGrid fineGrid(NoiseSchedule s, double[] studentTimes, int[] perInterval) {
        int n = studentTimes.length - 1;
        if (perInterval.length != n) {
            throw new IllegalArgumentException("perInterval must have one entry per student interval (" + n + ")");
        }
        int total = Arrays.stream(perInterval).sum();
        double[] fine = new double[total + 1];
        int[] idx = new int[n + 1];
        int j = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = j;
            double l0 = s.lambda(studentTimes[k]);
            double l1 = s.lambda(studentTimes[k + 1]);
            fine[j++] = studentTimes[k];
            for (int m = 1; m < perInterval[k]; m++) {
                fine[j++] = s.inverseLambda(l0 + (l1 - l0) * m / perInterval[k]);
            }
        }
        fine[j] = studentTimes[n];
        idx[n] = j;
        return new FineGrid(fine, idx);
    }

    /** The fine grid for about {@code total} steps. */
    public static FineGrid fineGrid(NoiseSchedule s, double[] studentTimes, int total) {
        return fineGrid(s, studentTimes, allocate(s, studentTimes, total));
    }

    /**
     * The teacher's states at the student times {@code studentTimes} (starting at the context's initial noise, so
     * {@code studentTimes[0]} must be the context's {@code tStart}) for every training row: {@code [k][row * per + j]},
     * {@code k = 0..steps}, in the context's arithmetic.
     */
    public static double[][] states(FitContext ctx, double[] studentTimes, int total) {
        Key key = new Key(ctx, studentTimes, total);
        double[][] hit;
        synchronized (MEMO) {
            hit = MEMO.get(key);
        }
        if (hit == null) {
            hit = states(ctx, fineGrid(ctx.model().schedule(), studentTimes, total));
            synchronized (MEMO) {
                MEMO.put(key, hit);
            }
        }
        double[][] copy = new double[hit.length][];
        for (int k = 0; k < hit.length; k++) {
            copy[k] = hit[k].clone();
        }
        return copy;
    }

    /** Solves kept for reuse: the variants of one fit run share a grid per spacing and NFE (e.g. UniPC bh1/bh2 and
     * DPM-Solver++ 2M in DC-Solver, five bases in D-ODE with teacher targets), and a teacher solve of a network costs
     * hundreds of model calls per row. Least recently used first out. */
    private static final int MEMO_ENTRIES = 24;
    private static final java.util.Map<Key, double[][]> MEMO = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<Key, double[][]> eldest) {
            return size() > MEMO_ENTRIES;
        }
    };

    /** Everything the states depend on: the same model object, rows, arithmetic, batching, student times, steps. */
    private static final class Key {
        private final Object model;
        private final Object guidance;
        private final long[] seeds;
        private final double[] initial;
        private final long[] sampleShape;
        private final double tStart;
        private final Object dtype;
        private final int batch;
        private final double[] times;
        private final int total;
        private final int hash;

        Key(FitContext c, double[] times, int total) {
            this.model = c.model();
            this.guidance = c.guidance();
            this.seeds = c.seeds().clone();
            this.initial = c.initial().clone();
            this.sampleShape = c.sampleShape().clone();
            this.tStart = c.tStart();
            this.dtype = c.dtype();
            this.batch = c.batch();
            this.times = times.clone();
            this.total = total;
            this.hash = java.util.Objects.hash(System.identityHashCode(model), guidance, Arrays.hashCode(seeds),
                    Arrays.hashCode(initial), Arrays.hashCode(times), total, batch);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.model == model && k.guidance.equals(guidance) && Arrays.equals(k.seeds, seeds)
                    && Arrays.equals(k.initial, initial) && Arrays.equals(k.sampleShape, sampleShape)
                    && Double.compare(k.tStart, tStart) == 0 && k.dtype == dtype && k.batch == batch
                    && Arrays.equals(k.times, times) && k.total == total;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** As {@link #states(FitContext, double[], int)} on a given fine grid. */
    static double[][] states(FitContext ctx, FineGrid g) {
        double[] fine = g.times();
        if (fine[0] != ctx.tStart()) {
            throw new IllegalArgumentException("teacher: the student grid must start at the context's tStart ("
                    + ctx.tStart() + "), got " + fine[0]);
        }
        int steps = fine.length - 1;
        SamplerConfig cfg = new SamplerConfig(DpmSolver.plusPlusMultistep(3),
                new TimestepSpacing.Explicit(fine), steps, fine[0], fine[steps], true, false);
        int[] idx = g.studentIndexes();
        int rows = ctx.rows();
        int per = ctx.perSample();
        double[][] out = new double[idx.length][rows * per];
        System.arraycopy(ctx.initial(), 0, out[0], 0, rows * per);
        int[] slot = new int[steps + 1];
        Arrays.fill(slot, -1);
        for (int k = 1; k < idx.length; k++) {
            slot[idx[k]] = k;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = 0; b0 < rows; b0 += ctx.batch()) {
                int b1 = Math.min(rows, b0 + ctx.batch());
                int from = b0;
                try (NDManager bm = m.newSubManager()) {
                    NDArray xT = Nd.create(bm, Arrays.copyOfRange(ctx.initial(), b0 * per, b1 * per),
                            new Shape(shape(ctx, b1 - b0)), ctx.dtype());
                    StepListener rec = new StepListener() {
                        @Override
                        public void onStep(int index, double s, double t, NDArray x, NDArray modelOutputAtS) {
                            int k = slot[index + 1];
                            if (k >= 0) {
                                double[] v = Nd.toDoubles(x);
                                System.arraycopy(v, 0, out[k], from * per, v.length);
                            }
                        }
                    };
                    SampleResult r = Sampler.sample(cfg, function(ctx, b0, b1), xT, rec);
                    r.x().close();
                }
                ctx.progress().report("grid-teacher", b1, rows, steps + " fine steps");
            }
        }
        return out;
    }

    /** The model function of training rows {@code [b0, b1)} (per-seed class labels where configured). */
    static ModelFunction function(FitContext ctx, int b0, int b1) {
        long[] seeds = Arrays.copyOfRange(ctx.seeds(), b0, b1);
        return new ModelFunction(ctx.model(), ctx.guidance(), ctx.guidance().rowLabels(seeds, ctx.model().numClasses()));
    }

    /** {@code [rows, sampleShape...]}. */
    static long[] shape(FitContext ctx, int rows) {
        long[] shape = new long[ctx.sampleShape().length + 1];
        shape[0] = rows;
        System.arraycopy(ctx.sampleShape(), 0, shape, 1, ctx.sampleShape().length);
        return shape;
    }
}
