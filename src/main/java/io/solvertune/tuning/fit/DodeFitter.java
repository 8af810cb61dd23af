package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.dode.Dode;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dode.DodeSolver;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.StepListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fits the D-ODE lambdas ({@link Dode}) of a base solver at one NFE, as the official
 * kim-sanghwan/D-ODE-Solvers: closed-form least squares per step in float64, sequentially along the student
 * trajectory.
 *
 * <p>At step i the student state is the one produced with the already fitted {@code lambda_0..lambda_{i-1}}; the
 * step's result is affine in its lambda, {@code x_{i+1}(lambda) = x_base + lambda Delta}
 * ({@link DodeSolver}), so with {@code r = target_{i+1} - x_base}, summed over all elements of all training rows,
 * {@code lambda_i = <Delta, r> / (<Delta, Delta> + n ridge)} (n = elements; ridge 0 is the official
 * {@code torch.linalg.lstsq}). A direction with {@code <Delta, Delta> <= 1e-28 <x_base, x_base>} gives
 * {@code lambda_i = 0} and a warning; the first step of a data-prediction base has no direction and keeps 0.
 *
 * <p>Targets ({@link Target}): {@code REFINED_BASE} (official) is the same base solver from the same x_T on the grid
 * where each coarse interval is split into {@code scale} sub-steps uniform in the spacing's own variable
 * ({@link TimestepSpacing#innerSpacing()}), so every coarse time is exactly a fine-grid time; for time_uniform and
 * logSNR this is the official {@code scale}x-steps grid (up to rounding). {@code TEACHER} is DPM-Solver++ 3M on a
 * logSNR-uniform grid of about {@code teacherSteps} steps that passes exactly through the coarse times (each coarse
 * interval gets sub-steps in proportion to its logSNR length, at least 1; {@link GridTeacher}, whose solves are shared
 * with DC-Solver fits on the same grid): a near-exact ODE solution instead of the
 * 10x base solver.
 *
 * <p>All training rows are fitted in one sampling run if they fit in one batch ({@link FitContext#batch}); otherwise
 * step i is fitted by one pass over all batches that stops after step i (cost about steps/2 runs).
 */
public final class DodeFitter {

    /** What the student is fitted to at the coarse times. */
    public enum Target { REFINED_BASE, TEACHER }

    /**
     * @param samples      training rows (the first of the context)
     * @param scale        sub-steps per coarse step of the refined base solve (official 10)
     * @param ridge        per-element ridge penalty on lambda ({@code n ridge lambda^2} added to the squared error)
     * @param target       what to fit to
     * @param teacherSteps approximate number of steps of the {@code TEACHER} solve
     */
    public record Settings(int samples, int scale, double ridge, Target target, int teacherSteps) {
        public Settings {
            if (samples < 1) {
                throw new IllegalArgumentException("dode fit: samples must be >= 1, got " + samples);
            }
            if (scale < 1) {
                throw new IllegalArgumentException("dode fit: scale must be >= 1, got " + scale);
            }
            if (!(ridge >= 0.0) || Double.isInfinite(ridge)) {
                throw new IllegalArgumentException("dode fit: ridge must be finite and >= 0, got " + ridge);
            }
            if (target == null) {
                target = Target.REFINED_BASE;
            }
            if (teacherSteps < 1) {
                throw new IllegalArgumentException("dode fit: teacherSteps must be >= 1, got " + teacherSteps);
            }
        }

        /** The official setup: scale 10, no ridge, the refined base solver as target. */
        public static Settings of(int samples) {
            return new Settings(samples, 10, 0.0, Target.REFINED_BASE, 500);
        }

        public Settings withTarget(Target t) {
            return new Settings(samples, scale, ridge, t, teacherSteps);
        }

        Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("target", target.name());
            if (target == Target.REFINED_BASE) {
                m.put("scale", scale);
            } else {
                m.put("teacher", "dpmsolver++ multistep o3 logSNR through the coarse times");
                m.put("teacherSteps", teacherSteps);
            }
            m.put("ridge", ridge);
            return m;
        }
    }

    static final double DEGENERATE = 1e-28;

    private DodeFitter() {
    }

    /** The tuned solver of a fitted set. */
    public static SolverSpec spec(CoefficientSet set) {
        if (set.method() != CoefficientSet.Method.DODE) {
            throw new IllegalArgumentException("dode: coefficient set method must be DODE, got " + set.method());
        }
        double[][] v = set.values();
        double[] lambdas = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i].length != 1) {
                throw new IllegalArgumentException("dode: values[" + i + "] must hold one lambda, has " + v[i].length);
            }
            lambdas[i] = v[i][0];
        }
        return new Dode(set.base(), lambdas);
    }

    /** Fits against targets drawn as the settings say. */
    public static CoefficientSet fit(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe,
                                     Settings settings) {
        long t0 = System.nanoTime();
        SamplerConfig cfg = config(ctx, base, spacing, nfe, settings);
        FitContext train = ctx.first(settings.samples());
        double[] coarse = grid(ctx, cfg);
        double[][] targets = settings.target() == Target.TEACHER
                ? teacherTargets(train, coarse, settings.teacherSteps())
                : refinedTargets(train, cfg, coarse, settings.scale());
        return fitTo(train, cfg, coarse, nfe, settings, targets, t0);
    }

    /**
     * Fits against given targets: {@code targets[i]} is the state at the grid time {@code times[i+1]} of the first
     * {@code settings.samples()} rows, row-major {@code [samples, sampleShape...]}.
     */
    public static CoefficientSet fit(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe,
                                     Settings settings, double[][] targets) {
        long t0 = System.nanoTime();
        SamplerConfig cfg = config(ctx, base, spacing, nfe, settings);
        FitContext train = ctx.first(settings.samples());
        double[] coarse = grid(ctx, cfg);
        if (targets == null || targets.length != nfe) {
            throw new IllegalArgumentException("dode fit: targets must hold one state per step (" + nfe + "), got "
                    + (targets == null ? "none" : targets.length));
        }
        for (int i = 0; i < nfe; i++) {
            if (targets[i] == null || targets[i].length != settings.samples() * train.perSample()) {
                throw new IllegalArgumentException("dode fit: targets[" + i + "] must have samples x perSample = "
                        + settings.samples() * train.perSample() + " values");
            }
        }
        return fitTo(train, cfg, coarse, nfe, settings, targets, t0);
    }

    private static SamplerConfig config(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe,
                                        Settings settings) {
        if (settings == null) {
            throw new IllegalArgumentException("dode fit: settings are required");
        }
        if (base instanceof Dode) {
            throw new IllegalArgumentException("dode fit: base must be an untuned solver, got " + base.label());
        }
        new Dode(base, new double[] {0.0}); // validates the base, naming the field
        if (spacing == null) {
            throw new IllegalArgumentException("dode fit: spacing is required");
        }
        if (nfe < 1) {
            throw new IllegalArgumentException("dode fit: nfe must be >= 1, got " + nfe);
        }
        if (settings.samples() > ctx.rows()) {
            throw new IllegalArgumentException("dode fit: samples (" + settings.samples() + ") exceeds the "
                    + ctx.rows() + " rows of the context");
        }
        // ddim, multistep DPM-Solver and UniPC spend one NFE per step
        return SamplerConfig.of(base, spacing, nfe).withTimeRange(ctx.tStart(), ctx.tEnd());
    }

    private static double[] grid(FitContext ctx, SamplerConfig cfg) {
        return cfg.solver().create().grid(ctx.model().schedule(), cfg, ctx.tStart(), ctx.tEnd());
    }

    /** The refined grid: {@code scale} sub-steps per coarse interval in the spacing's own variable. */
    static double[] refinedGrid(NoiseSchedule ns, TimestepSpacing spacing, double[] coarse, int scale) {
        int steps = coarse.length - 1;
        double[] fine = new double[steps * scale + 1];
        for (int i = 0; i < steps; i++) {
            double[] sub = spacing.innerSpacing().times(ns, coarse[i], coarse[i + 1], scale);
            System.arraycopy(sub, 0, fine, i * scale, scale);
        }
        fine[fine.length - 1] = coarse[steps];
        return fine;
    }

    private static double[][] refinedTargets(FitContext train, SamplerConfig cfg, double[] coarse, int scale) {
        double[] fine = refinedGrid(train.model().schedule(), cfg.spacing(), coarse, scale);
        SamplerConfig fineCfg = new SamplerConfig(cfg.solver(), new TimestepSpacing.Explicit(fine), fine.length - 1,
                fine[0], fine[fine.length - 1], cfg.lowerOrderFinal(), false);
        return solveAt(train, fineCfg, fine, coarse);
    }

    /** The {@link GridTeacher} states at the coarse times 1..steps (shared with DC-Solver fits on the same grid). */
    private static double[][] teacherTargets(FitContext train, double[] coarse, int total) {
        double[][] all = GridTeacher.states(train, coarse, total);
        return Arrays.copyOfRange(all, 1, all.length);
    }

    /** Runs {@code cfg} on every training row; the states at the coarse times 1..steps. */
    private static double[][] solveAt(FitContext train, SamplerConfig cfg, double[] fine, double[] coarse) {
        int steps = coarse.length - 1;
        int per = train.perSample();
        int rows = train.rows();
        // fine step index (0-based) that ends at each coarse time
        Map<Integer, Integer> at = new java.util.HashMap<>();
        int j = 0;
        for (int k = 1; k <= steps; k++) {
            while (fine[j] != coarse[k]) {
                j++;
            }
            at.put(j - 1, k - 1);
        }
        double[][] out = new double[steps][rows * per];
        forBatches(train, (from, to, fn, xT) -> {
            Sampler.sample(cfg, fn, xT, new StepListener() {
                @Override
                public void onStep(int index, double s, double t, NDArray x, NDArray modelOutputAtS) {
                    Integer k = at.get(index);
                    if (k != null) {
                        System.arraycopy(Nd.toDoubles(x), 0, out[k], from * per, (to - from) * per);
                    }
                }
            }).x().close();
        });
        return out;
    }

    /** One batch of training rows: {@code [from, to)} with its model function and initial state. */
    private interface BatchRun {
        void run(int from, int to, ModelFunction fn, NDArray xT);
    }

    private static void forBatches(FitContext train, BatchRun body) {
        int per = train.perSample();
        long[] sampleShape = train.sampleShape();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = 0; b0 < train.rows(); b0 += train.batch()) {
                int b1 = Math.min(train.rows(), b0 + train.batch());
                long[] shape = new long[sampleShape.length + 1];
                shape[0] = b1 - b0;
                System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                try (NDManager bm = m.newSubManager()) {
                    NDArray xT = Nd.create(bm, Arrays.copyOfRange(train.initial(), b0 * per, b1 * per),
                            new Shape(shape), train.dtype());
                    long[] seeds = Arrays.copyOfRange(train.seeds(), b0, b1);
                    ModelFunction fn = new ModelFunction(train.model(), train.guidance(),
                            train.guidance().rowLabels(seeds, train.model().numClasses()));
                    body.run(b0, b1, fn, xT);
                }
            }
        }
    }

    /** Sums of one step over the rows seen so far: {@code <D,r>, <D,D>, <r,r>, <x,x>}, elements. */
    private static final class Sums {
        double dr;
        double dd;
        double rr;
        double xx;
        long n;
        boolean direction;

        void add(double[] xBase, double[] delta, double[] target, int offset) {
            for (int e = 0; e < xBase.length; e++) {
                double r = target[offset + e] - xBase[e];
                rr += r * r;
                xx += xBase[e] * xBase[e];
                if (delta != null) {
                    dr += delta[e] * r;
                    dd += delta[e] * delta[e];
                }
            }
            direction |= delta != null;
            n += xBase.length;
        }
    }

    /** Stops a fitting pass after the step it fits. */
    private static final class StopPass extends RuntimeException {
        StopPass() {
            super(null, null, false, false);
        }
    }

    private static CoefficientSet fitTo(FitContext train, SamplerConfig cfg, double[] coarse, int steps,
                                        Settings settings, double[][] targets, long t0) {
        int per = train.perSample();
        double[] lambdas = new double[steps];
        double[] after = new double[steps];
        double[] before = new double[steps];
        List<String> warnings = new ArrayList<>();
        Sums[] sums = new Sums[steps];
        boolean onePass = train.rows() <= train.batch();
        // in one pass every step is solved as soon as its sums are complete; otherwise pass i solves step i only
        for (int pass = 0; pass < (onePass ? 1 : steps); pass++) {
            final int fitting = pass;
            for (int k = onePass ? 0 : pass; k <= (onePass ? steps - 1 : pass); k++) {
                sums[k] = new Sums();
            }
            forBatches(train, (from, to, fn, xT) -> {
                DodeSolver.LambdaChooser chooser = (index, xBase, delta) -> {
                    if (!onePass && index < fitting) {
                        return lambdas[index];
                    }
                    sums[index].add(Nd.toDoubles(xBase), delta == null ? null : Nd.toDoubles(delta), targets[index],
                            from * per);
                    if (onePass) {
                        lambdas[index] = solve(sums[index], settings.ridge(), index, warnings);
                        return lambdas[index];
                    }
                    throw new StopPass();
                };
                try {
                    DodeSolver.sample(cfg, fn, xT, chooser, StepListener.NONE).x().close();
                } catch (StopPass stop) {
                    // the pass has what it needs
                }
            });
            if (!onePass) {
                lambdas[pass] = solve(sums[pass], settings.ridge(), pass, warnings);
            }
            train.progress().report("dode fit", onePass ? steps : pass + 1, steps, "");
        }
        for (int i = 0; i < steps; i++) {
            Sums s = sums[i];
            double l = lambdas[i];
            before[i] = s.rr / s.n;
            after[i] = Math.max(0.0, s.rr - 2 * l * s.dr + l * l * s.dd) / s.n;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double[][] values = new double[steps][];
        for (int i = 0; i < steps; i++) {
            values[i] = new double[] {lambdas[i]};
        }
        int[] iterations = new int[steps];
        Arrays.fill(iterations, 1);
        CoefficientSet.FitReport report = new CoefficientSet.FitReport(train.rows(), after, before, iterations,
                seconds, List.copyOf(warnings));
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DODE, cfg.solver(),
                cfg.spacing(), steps, steps, coarse, List.of("lambda"), values, report, null,
                train.provenanceWith(settings.asMap()));
    }

    /** The closed form, with the degenerate-direction guard. */
    private static double solve(Sums s, double ridge, int index, List<String> warnings) {
        if (!s.direction) {
            return 0.0; // first step of a data-prediction base: nothing to extrapolate from
        }
        if (!(s.dd > DEGENERATE * s.xx) || !Double.isFinite(s.dr)) {
            warnings.add("step " + index + ": the extrapolation direction vanishes (<D,D> = " + s.dd
                    + "); lambda set to 0");
            return 0.0;
        }
        return s.dr / (s.dd + s.n * ridge);
    }
}
