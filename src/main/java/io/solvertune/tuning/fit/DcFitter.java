package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.dc.Dc;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dc.DcStepper;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.StepListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.apache.commons.math3.exception.TooManyEvaluationsException;
import org.apache.commons.math3.optim.MaxEval;
import org.apache.commons.math3.optim.nonlinear.scalar.GoalType;
import org.apache.commons.math3.optim.univariate.BrentOptimizer;
import org.apache.commons.math3.optim.univariate.SearchInterval;
import org.apache.commons.math3.optim.univariate.UnivariateObjectiveFunction;

/**
 * Fits DC-Solver's per-step compensation ratios ({@link Dc}) against a high-accuracy teacher at exactly
 * the student's grid times ({@link GridTeacher}), derivative-free.
 *
 * <p>{@link Objective#NEXT_STEP} (the official search, with Brent instead of AdamW through the network): greedy along
 * the compensated path; for each step {@code i} from the third on, a bounded Brent search of
 * {@code rho_i = argmin MSE(x_{i+1}(rho), x_teacher(t_{i+1}))}, where {@code x_{i+1}(rho)} is the DC step from the
 * current state (compensation, predictor, and the corrector with its model call at the predicted point — exactly the
 * sampler's step); a ratio that does not lower the objective below its value at {@code rho = 1} is reset to 1
 * (warning). The run then advances with the chosen ratio. {@link Objective#FINAL}: starting from the NEXT_STEP
 * result (or from neutral ratios when those give the lower training final-state MSE), cyclic coordinate Brent
 * searches on the final-state MSE (full runs), a coordinate moving only if it lowers the objective, so the final
 * objective never exceeds its start nor the base solver's; bounded by {@code finalSweeps} and {@code maxFinalRuns}.
 * Both objectives warn when the fitted ratios raise the training final-state MSE above the base solver's.
 *
 * <p>Report: NEXT_STEP residuals are the next-step MSE with the fitted ratio and with {@code rho = 1} from the same
 * state; FINAL residuals are the MSE at every grid time of the tuned run and of the base run (last = the objective).
 * Iterations are objective evaluations per step.
 */
public final class DcFitter {

    /** What the ratios minimise. */
    public enum Objective { NEXT_STEP, FINAL }

    /**
     * Fit settings.
     *
     * @param samples           training rows used (the first of the context)
     * @param lower             lower bound of every ratio (must be < 1)
     * @param upper             upper bound of every ratio (must be > 1)
     * @param objective         NEXT_STEP (greedy, official) or FINAL (final-state MSE, starting from NEXT_STEP)
     * @param teacherSteps      total fine steps of the {@link GridTeacher} solve
     * @param relativeTolerance Brent's relative tolerance on the ratio
     * @param absoluteTolerance Brent's absolute tolerance on the ratio
     * @param maxEvaluations    objective evaluations per 1-D search
     * @param finalSweeps       FINAL: cyclic sweeps over the free ratios
     * @param maxFinalRuns      FINAL: total trial runs (each continues a shared prefix from the step searched)
     * @param finalTolerance    FINAL: absolute tolerance on a ratio in the coordinate searches (the final-state MSE
     *                          of a few hundred samples does not resolve ratios finer than about 1e-3)
     */
    public record Settings(int samples, double lower, double upper, Objective objective, int teacherSteps,
                           double relativeTolerance, double absoluteTolerance, int maxEvaluations, int finalSweeps,
                           int maxFinalRuns, double finalTolerance) {
        public Settings {
            if (samples < 1) {
                throw new IllegalArgumentException("dc fit: samples must be >= 1, got " + samples);
            }
            if (!(lower < 1.0) || !(upper > 1.0) || !Double.isFinite(lower) || !Double.isFinite(upper)) {
                throw new IllegalArgumentException("dc fit: bounds must satisfy lower < 1 < upper (finite), got ["
                        + lower + ", " + upper + "]");
            }
            if (objective == null) {
                throw new IllegalArgumentException("dc fit: objective is required");
            }
            if (teacherSteps < 1) {
                throw new IllegalArgumentException("dc fit: teacherSteps must be >= 1, got " + teacherSteps);
            }
            if (!(relativeTolerance > 0) || !(absoluteTolerance > 0)) {
                throw new IllegalArgumentException("dc fit: relativeTolerance and absoluteTolerance must be > 0");
            }
            if (maxEvaluations < 3) {
                throw new IllegalArgumentException("dc fit: maxEvaluations must be >= 3, got " + maxEvaluations);
            }
            if (finalSweeps < 0 || maxFinalRuns < 1) {
                throw new IllegalArgumentException("dc fit: finalSweeps must be >= 0 and maxFinalRuns >= 1");
            }
            if (!(finalTolerance > 0) || !Double.isFinite(finalTolerance)) {
                throw new IllegalArgumentException("dc fit: finalTolerance must be > 0, got " + finalTolerance);
            }
        }

        /**
         * Defaults: 128 samples, [0.5, 1.5] (the official tanh bound), FINAL, 500 teacher steps (chosen on gmm-sd-d32,
         * UniPC bh2 o3, NFE 5-10, guidance 1 and 7.5: with 16 samples FINAL overfits; 128 held out as well as 256;
         * FINAL was held-out best or tied in most cells, NEXT_STEP is the cheap alternative).
         */
        public static Settings defaults() {
            return new Settings(128, 0.5, 1.5, Objective.FINAL, GridTeacher.DEFAULT_STEPS, 1e-6, 1e-9, 50, 3, 400, 1e-3);
        }

        public Settings withSamples(int n) {
            return new Settings(n, lower, upper, objective, teacherSteps, relativeTolerance, absoluteTolerance,
                    maxEvaluations, finalSweeps, maxFinalRuns, finalTolerance);
        }

        public Settings withObjective(Objective o) {
            return new Settings(samples, lower, upper, o, teacherSteps, relativeTolerance, absoluteTolerance,
                    maxEvaluations, finalSweeps, maxFinalRuns, finalTolerance);
        }

        public Settings withBounds(double lo, double hi) {
            return new Settings(samples, lo, hi, objective, teacherSteps, relativeTolerance, absoluteTolerance,
                    maxEvaluations, finalSweeps, maxFinalRuns, finalTolerance);
        }

        public Settings withTolerances(double rel, double abs) {
            return new Settings(samples, lower, upper, objective, teacherSteps, rel, abs, maxEvaluations, finalSweeps,
                    maxFinalRuns, finalTolerance);
        }

        Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("lower", lower);
            m.put("upper", upper);
            m.put("objective", objective.name());
            m.put("teacherSteps", teacherSteps);
            m.put("relativeTolerance", relativeTolerance);
            m.put("absoluteTolerance", absoluteTolerance);
            m.put("maxEvaluations", maxEvaluations);
            m.put("finalSweeps", finalSweeps);
            m.put("maxFinalRuns", maxFinalRuns);
            m.put("finalTolerance", finalTolerance);
            return m;
        }
    }

    /**
     * A fit with the training final-state MSE at the start and end of the FINAL stage (both the greedy result's for
     * NEXT_STEP) and with neutral ratios.
     */
    record Outcome(CoefficientSet set, double startFinalMse, double finalMse, double baseFinalMse) {
    }

    /** 0-based index of the first free ratio. */
    static final int FREE_FROM = 2;

    private DcFitter() {
    }

    /**
     * Fits the ratios of {@code base} on the context's first {@code settings.samples()} rows at {@code nfe} model
     * calls (= steps for UniPC and DPM-Solver++ multistep) against a {@link GridTeacher} solve.
     */
    public static CoefficientSet fit(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe,
                                     Settings settings) {
        long t0 = System.nanoTime();
        FitContext c = trainingRows(ctx, settings);
        double[] grid = grid(c, base, spacing, nfe);
        double[][] targets = GridTeacher.states(c, grid, settings.teacherSteps());
        Map<String, Object> extra = Map.of("targets", "grid-teacher dpmsolver++ multistep o3, about "
                + settings.teacherSteps() + " logSNR-uniform steps");
        return run(c, base, spacing, nfe, settings, targets, t0, extra).set();
    }

    /**
     * As {@link #fit(FitContext, SolverSpec, TimestepSpacing, int, Settings)} with given targets: {@code targets[k]}
     * holds the reference states of the training rows ({@code [rows * perSample]}) at exactly the student's grid
     * time {@code k = 0..nfe} (row 0 is not used).
     */
    public static CoefficientSet fit(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe,
                                     Settings settings, double[][] targets) {
        return fitDetailed(ctx, base, spacing, nfe, settings, targets).set();
    }

    static Outcome fitDetailed(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe, Settings settings,
                               double[][] targets) {
        FitContext c = trainingRows(ctx, settings);
        return run(c, base, spacing, nfe, settings, targets, System.nanoTime(), Map.of("targets", "injected"));
    }

    /** The tuned solver of a fitted set. */
    public static SolverSpec spec(CoefficientSet set) {
        if (set.method() != CoefficientSet.Method.DC) {
            throw new IllegalArgumentException("dc: the coefficient set is a " + set.method() + " set, not DC");
        }
        int col = set.columns().indexOf("ratio");
        if (col < 0) {
            throw new IllegalArgumentException("dc: the coefficient set has no 'ratio' column " + set.columns());
        }
        double[][] v = set.values();
        double[] ratios = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            ratios[i] = v[i][col];
        }
        return new Dc(set.base(), ratios);
    }

    private static FitContext trainingRows(FitContext ctx, Settings settings) {
        if (settings.samples() > ctx.rows()) {
            throw new IllegalArgumentException("dc fit: samples (" + settings.samples() + ") exceeds the context's "
                    + ctx.rows() + " rows");
        }
        return ctx.first(settings.samples());
    }

    private static SamplerConfig config(FitContext c, Dc dc, TimestepSpacing spacing, int steps) {
        return new SamplerConfig(dc, spacing, steps, c.tStart(), c.tEnd(), true, false);
    }

    private static double[] grid(FitContext c, SolverSpec base, TimestepSpacing spacing, int nfe) {
        if (nfe < 1) {
            throw new IllegalArgumentException("dc fit: nfe must be >= 1, got " + nfe);
        }
        Dc neutral = Dc.neutral(base, nfe);
        SamplerConfig cfg = config(c, neutral, spacing, nfe);
        return cfg.solver().create().grid(c.model().schedule(), cfg, c.tStart(), c.tEnd());
    }

    private static Outcome run(FitContext c, SolverSpec base, TimestepSpacing spacing, int nfe, Settings st,
                               double[][] targets, long t0, Map<String, Object> extra) {
        double[] grid = grid(c, base, spacing, nfe);
        int steps = nfe;
        int n = c.rows() * c.perSample();
        if (targets == null || targets.length != steps + 1) {
            throw new IllegalArgumentException("dc fit: targets must have one row per grid time (" + (steps + 1) + ")");
        }
        for (int k = 1; k <= steps; k++) {
            if (targets[k] == null || targets[k].length != n) {
                throw new IllegalArgumentException("dc fit: targets[" + k + "] must hold " + n + " values (rows x "
                        + "perSample)");
            }
        }
        List<String> warnings = new ArrayList<>();
        if (steps <= FREE_FROM) {
            warnings.add("only " + steps + " steps: no free ratio (the first " + FREE_FROM + " are fixed to 1)");
        }
        double[] residual = new double[steps];
        double[] baseResidual = new double[steps];
        int[] evaluations = new int[steps];
        double[] ratios = nextStep(c, base, spacing, steps, st, targets, residual, baseResidual, evaluations, warnings);
        double[] neutralRatios = Dc.neutral(base, steps).ratios();
        double baseFinal = finalMse(c, base, spacing, neutralRatios, targets, null);
        double greedyFinal = finalMse(c, base, spacing, ratios, targets, null);
        double startFinal = greedyFinal;
        double endFinal = greedyFinal;
        if (st.objective() == Objective.NEXT_STEP && greedyFinal > baseFinal) {
            warnings.add(String.format("the greedy ratios raise the training final-state MSE (%.6g vs %.6g with"
                    + " neutral ratios)", greedyFinal, baseFinal));
        }
        if (st.objective() == Objective.FINAL) {
            if (baseFinal < greedyFinal) {
                warnings.add(String.format("final objective: started from neutral ratios (final MSE %.6g), the greedy"
                        + " ratios give %.6g", baseFinal, greedyFinal));
                ratios = neutralRatios.clone();
                startFinal = baseFinal;
            }
            double[][] tuned = new double[steps + 1][];
            double[][] plain = new double[steps + 1][];
            ratios = finalStage(c, base, spacing, steps, st, targets, ratios, startFinal, evaluations, warnings);
            endFinal = finalMse(c, base, spacing, ratios, targets, tuned);
            finalMse(c, base, spacing, neutralRatios, targets, plain);
            for (int i = 0; i < steps; i++) {
                residual[i] = mse(tuned[i + 1], targets[i + 1]);
                baseResidual[i] = mse(plain[i + 1], targets[i + 1]);
            }
        }
        double[][] values = new double[steps][];
        for (int i = 0; i < steps; i++) {
            values[i] = new double[] {ratios[i]};
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        CoefficientSet.FitReport report = new CoefficientSet.FitReport(c.rows(), residual, baseResidual, evaluations,
                secs, List.copyOf(warnings));
        Map<String, Object> settings = st.asMap();
        settings.putAll(extra);
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC, base, spacing,
                steps, nfe, grid, List.of("ratio"), values, report, null, c.provenanceWith(settings));
        return new Outcome(set, startFinal, endFinal, baseFinal);
    }

    /** The greedy next-step search; fills the per-step report arrays. */
    private static double[] nextStep(FitContext c, SolverSpec base, TimestepSpacing spacing, int steps, Settings st,
                                     double[][] targets, double[] residual, double[] baseResidual, int[] evaluations,
                                     List<String> warnings) {
        double[] ratios = Dc.neutral(base, steps).ratios();
        try (Prefix runs = new Prefix(c, base, spacing, steps)) {
            for (int i = 0; i < steps; i++) {
                double[] target = targets[i + 1];
                int step = i;
                int[] count = new int[1];
                DoubleUnaryOperator f = rho -> {
                    count[0]++;
                    return runs.nextStepMse(rho, target);
                };
                double neutral = f.applyAsDouble(1.0);
                baseResidual[i] = neutral;
                residual[i] = neutral;
                if (i >= FREE_FROM) {
                    double[] best = minimize(f, st.lower(), st.upper(), 1.0, neutral, st, st.maxEvaluations(),
                            warnings, "step " + (i + 1));
                    if (best[1] < neutral) {
                        ratios[i] = best[0];
                        residual[i] = best[1];
                        boundWarning(st, best[0], "step " + (i + 1), warnings);
                    } else {
                        warnings.add("step " + (step + 1) + ": no ratio in [" + st.lower() + ", " + st.upper()
                                + "] lowers the next-step MSE below its value at 1 (" + neutral + "); kept 1");
                    }
                }
                evaluations[i] = count[0];
                runs.advance(ratios[i]);
                c.progress().report("dc-fit", i + 1, steps, String.format("step %d: ratio %.5f, MSE %.4g (%.4g at 1)",
                        i + 1, ratios[i], residual[i], baseResidual[i]));
            }
        }
        return ratios;
    }

    /**
     * Cyclic coordinate Brent on the final-state MSE, moving a coordinate only when it lowers the objective. The
     * search over ratio {@code i} continues one shared prefix (the run up to step {@code i} with the current ratios,
     * computed once) instead of re-running the whole solve per trial.
     */
    private static double[] finalStage(FitContext c, SolverSpec base, TimestepSpacing spacing, int steps, Settings st,
                                       double[][] targets, double[] start, double startMse, int[] evaluations,
                                       List<String> warnings) {
        double[] cur = start.clone();
        double fcur = startMse;
        int[] runs = {1};
        Settings search = st.withTolerances(st.relativeTolerance(), Math.max(st.absoluteTolerance(),
                st.finalTolerance()));
        for (int sweep = 0; sweep < st.finalSweeps(); sweep++) {
            double fsweep = fcur;
            try (Prefix prefix = new Prefix(c, base, spacing, steps)) {
                for (int j = 0; j < FREE_FROM && j < steps; j++) {
                    prefix.advance(cur[j]);
                }
                for (int i = FREE_FROM; i < steps; i++) {
                    int left = st.maxFinalRuns() - runs[0];
                    if (left < 3) {
                        warnings.add("final objective: stopped after " + runs[0] + " trial runs (maxFinalRuns)");
                        return cur;
                    }
                    int coord = i;
                    double[] trial = cur.clone();
                    int[] count = new int[1];
                    DoubleUnaryOperator f = rho -> {
                        count[0]++;
                        runs[0]++;
                        trial[coord] = rho;
                        return prefix.finalMse(trial, targets[steps]);
                    };
                    double[] best = minimize(f, st.lower(), st.upper(), cur[i], fcur, search,
                            Math.min(st.maxEvaluations(), left), warnings, "final objective, step " + (i + 1));
                    evaluations[i] += count[0];
                    if (best[1] < fcur) {
                        cur[i] = best[0];
                        fcur = best[1];
                    }
                    prefix.advance(cur[i]);
                }
            }
            c.progress().report("dc-fit-final", sweep + 1, st.finalSweeps(), String.format("sweep %d: final MSE %.6g",
                    sweep + 1, fcur));
            if (!(fcur < fsweep * (1 - st.relativeTolerance()))) {
                break;
            }
        }
        for (int i = FREE_FROM; i < steps; i++) {
            boundWarning(st, cur[i], "final objective, step " + (i + 1), warnings);
        }
        return cur;
    }

    /**
     * The training rows' runs (one {@link DcStepper} per batch) advanced to a common step; {@link #nextStepMse} tries
     * a ratio for the next step (NEXT_STEP), {@link #finalMse} continues copies of them to the end (FINAL). The value equals {@link DcFitter#finalMse} of the full ratios bit for bit
     * (the stepper takes exactly the sampler's steps).
     */
    static final class Prefix implements AutoCloseable {
        private final FitContext c;
        private final NDManager manager = NDManager.newBaseManager();
        private final List<DcStepper> runs = new ArrayList<>();
        private final List<Integer> offsets = new ArrayList<>();

        Prefix(FitContext c, SolverSpec base, TimestepSpacing spacing, int steps) {
            this.c = c;
            SamplerConfig cfg = config(c, Dc.neutral(base, steps), spacing, steps);
            int per = c.perSample();
            try {
                for (int b0 = 0; b0 < c.rows(); b0 += c.batch()) {
                    int b1 = Math.min(c.rows(), b0 + c.batch());
                    try (NDArray xT = Nd.create(manager, Arrays.copyOfRange(c.initial(), b0 * per, b1 * per),
                            new Shape(GridTeacher.shape(c, b1 - b0)), c.dtype())) {
                        runs.add(DcStepper.start(cfg, GridTeacher.function(c, b0, b1), xT));
                    }
                    offsets.add(b0 * per);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** Index of the next step every run takes. */
        int index() {
            return runs.get(0).index();
        }

        /** Takes the next step with {@code ratio} for good. */
        void advance(double ratio) {
            for (DcStepper r : runs) {
                r.advance(ratio);
            }
        }

        /** MSE of the next state for {@code ratio} against {@code target}; the runs do not move. */
        double nextStepMse(double ratio, double[] target) {
            double se = 0;
            for (int b = 0; b < runs.size(); b++) {
                se += squaredError(runs.get(b).trial(ratio), target, offsets.get(b));
            }
            return se / target.length;
        }

        /** Final-state MSE of continuing every run with {@code ratios[index()..]}; the prefix does not move. */
        double finalMse(double[] ratios, double[] finalTarget) {
            double se = 0;
            for (int b = 0; b < runs.size(); b++) {
                try (DcStepper copy = runs.get(b).copy(manager)) {
                    for (int j = copy.index(); j < ratios.length; j++) {
                        copy.advance(ratios[j]);
                    }
                    se += squaredError(copy.state(), finalTarget, offsets.get(b));
                }
            }
            return se / (c.rows() * c.perSample());
        }

        @Override
        public void close() {
            for (DcStepper r : runs) {
                r.close();
            }
            manager.close();
        }
    }

    /**
     * Bounded Brent search from {@code start}; returns the best point evaluated and its value ({@code known} is the
     * value at {@code start} if already computed).
     */
    private static double[] minimize(DoubleUnaryOperator f, double lo, double hi, double start, double known,
                                     Settings st, int maxEval, List<String> warnings, String what) {
        double[] best = {start, known};
        UnivariateObjectiveFunction obj = new UnivariateObjectiveFunction(x -> {
            double v = x == start ? known : f.applyAsDouble(x);
            if (v < best[1]) {
                best[0] = x;
                best[1] = v;
            }
            return v;
        });
        try {
            new BrentOptimizer(st.relativeTolerance(), st.absoluteTolerance()).optimize(new MaxEval(maxEval), obj,
                    GoalType.MINIMIZE, new SearchInterval(lo, hi, Math.min(hi, Math.max(lo, start))));
        } catch (TooManyEvaluationsException e) {
            warnings.add(what + ": the search stopped at maxEvaluations (" + maxEval + "); best point kept");
        }
        return best;
    }

    private static void boundWarning(Settings st, double rho, String what, List<String> warnings) {
        double tol = 10 * (st.relativeTolerance() * Math.abs(rho) + st.absoluteTolerance());
        if (rho - st.lower() < tol || st.upper() - rho < tol) {
            warnings.add(what + ": ratio " + rho + " sits at the bound [" + st.lower() + ", " + st.upper() + "]");
        }
    }

    /**
     * Final-state MSE of full runs with {@code ratios} over the training rows; fills {@code states[k]} (every grid
     * time) when given.
     */
    static double finalMse(FitContext c, SolverSpec base, TimestepSpacing spacing, double[] ratios,
                           double[][] targets, double[][] states) {
        int steps = ratios.length;
        SamplerConfig cfg = config(c, new Dc(base, ratios), spacing, steps);
        int per = c.perSample();
        double se = 0;
        if (states != null) {
            for (int k = 0; k <= steps; k++) {
                states[k] = new double[c.rows() * per];
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = 0; b0 < c.rows(); b0 += c.batch()) {
                int b1 = Math.min(c.rows(), b0 + c.batch());
                int from = b0;
                try (NDManager bm = m.newSubManager()) {
                    NDArray xT = Nd.create(bm, Arrays.copyOfRange(c.initial(), b0 * per, b1 * per),
                            new Shape(GridTeacher.shape(c, b1 - b0)), c.dtype());
                    StepListener rec = states == null ? StepListener.NONE : new StepListener() {
                        @Override
                        public void onStart(double[] grid, NDArray x) {
                            double[] v = Nd.toDoubles(x);
                            System.arraycopy(v, 0, states[0], from * per, v.length);
                        }

                        @Override
                        public void onStep(int index, double s, double t, NDArray x, NDArray out) {
                            double[] v = Nd.toDoubles(x);
                            System.arraycopy(v, 0, states[index + 1], from * per, v.length);
                        }
                    };
                    SampleResult r = Sampler.sample(cfg, GridTeacher.function(c, b0, b1), xT, rec);
                    se += squaredError(Nd.toDoubles(r.x()), targets[steps], b0 * per);
                }
            }
        }
        return se / (c.rows() * per);
    }

    private static double squaredError(double[] x, double[] target, int offset) {
        double se = 0;
        for (int j = 0; j < x.length; j++) {
            double d = x[j] - target[offset + j];
            se += d * d;
        }
        return se;
    }

    private static double mse(double[] x, double[] target) {
        return squaredError(x, target, 0) / x.length;
    }
}
