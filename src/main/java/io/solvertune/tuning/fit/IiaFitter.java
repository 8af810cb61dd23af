package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.iia.Iia;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.iia.IiaRun;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.iia.Iia.Form;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * Fits IIA coefficients (Zhang, Niwa, Kleijn, ICLR 2024) by the paper's per-step MMSE: along the already-corrected
 * path, for each step {@code i} in order,
 * {@code c_i = argmin_c sum_rows || z_{i+1}^fine(z_i) - base(z_i) - sum_k c_k g_{i,k}(z_i) ||^2}, where
 * {@code z_{i+1}^fine} is the same base solver run with {@code M} sub-steps from the same state {@code z_i} over
 * {@code [t_i, t_{i+1}]} (sub-steps placed by the same spacing inside the interval; DPM-Solver++(2M) restarts there
 * with its own first-order warm-up, Heun takes M Heun sub-steps), and {@code g_{i,k}} are the step's gradient
 * vectors ({@link Iia}). The rows then advance with the fitted step, so step {@code i + 1} is fitted on
 * the states the tuned sampler will actually visit.
 *
 * <p>Solve: the normal equations {@code (G + lambda I) c = b}, {@code G_kl = <g_k, g_l>}, {@code b_k = <g_k, e>},
 * {@code e = fine - base}, accumulated in double over all rows, solved by SVD (Commons Math) with
 * {@code lambda = ridge * trace(G)/m}. Singular values below {@code s_max / conditionLimit} are dropped (truncated
 * SVD) and reported; a solution whose terms {@code c_k g_k}, summed in size, are larger than {@code maxCorrection}
 * times the base step's own increment {@code base - z_i} (norms over all rows) is an explosion (large terms that
 * cancel on the training rows): the weakest kept singular direction is dropped until it is not (down to neutral),
 * and that is reported too.
 */
public final class IiaFitter {

    /**
     * @param samples        training rows used (the first ones of the context)
     * @param fineSubsteps   M, sub-steps of the fine target per coarse step
     * @param r              recent steps whose gradients enter, {@code null} for the form's default (IIA 1, BIIA 0)
     * @param ridge          Tikhonov term relative to the Gram matrix's mean diagonal (0 = none)
     * @param conditionLimit largest accepted ratio of the Gram matrix's singular values
     * @param maxCorrection  largest accepted summed size of the correction terms relative to the base step's increment
     */
    public record Settings(int samples, int fineSubsteps, Integer r, double ridge, double conditionLimit,
                           double maxCorrection) {
        public Settings {
            if (samples < 1) {
                throw new IllegalArgumentException("iia fit: samples must be >= 1, got " + samples);
            }
            if (fineSubsteps < 2) {
                throw new IllegalArgumentException("iia fit: fineSubsteps must be >= 2, got " + fineSubsteps);
            }
            if (r != null && (r < 0 || r > 8)) {
                throw new IllegalArgumentException("iia fit: r must be in [0, 8], got " + r);
            }
            if (!(ridge >= 0) || Double.isInfinite(ridge)) {
                throw new IllegalArgumentException("iia fit: ridge must be finite and >= 0, got " + ridge);
            }
            if (!(conditionLimit > 1)) {
                throw new IllegalArgumentException("iia fit: conditionLimit must be > 1, got " + conditionLimit);
            }
            if (!(maxCorrection > 0)) {
                throw new IllegalArgumentException("iia fit: maxCorrection must be > 0, got " + maxCorrection);
            }
        }

        /** 128 samples, M = 10, the form's r, ridge 1e-10, condition limit 1e10, terms at most 10x the step. */
        public static Settings defaults() {
            return new Settings(128, 10, null, 1e-10, 1e10, 10.0);
        }

        public Settings withMaxCorrection(double v) {
            return new Settings(samples, fineSubsteps, r, ridge, conditionLimit, v);
        }

        public Settings withConditionLimit(double v) {
            return new Settings(samples, fineSubsteps, r, ridge, v, maxCorrection);
        }

        public Settings withSamples(int n) {
            return new Settings(n, fineSubsteps, r, ridge, conditionLimit, maxCorrection);
        }

        public Settings withR(Integer v) {
            return new Settings(samples, fineSubsteps, v, ridge, conditionLimit, maxCorrection);
        }

        public Settings withRidge(double v) {
            return new Settings(samples, fineSubsteps, r, v, conditionLimit, maxCorrection);
        }

        public Settings withFineSubsteps(int m) {
            return new Settings(samples, m, r, ridge, conditionLimit, maxCorrection);
        }
    }

    /** The fit's regression target for one batch of rows at one step. */
    @FunctionalInterface
    public interface Target {
        /**
         * The target state at {@code t} of training rows {@code [from, from + B)} whose state at {@code s} is
         * {@code z} ({@code [B, ...]}, not to be modified or closed); a new array the caller closes.
         *
         * @param step  0-based coarse step
         * @param model the batch's model function (row labels set)
         */
        NDArray at(int step, double s, double t, int from, NDArray z, ModelFunction model);
    }

    private IiaFitter() {
    }

    /**
     * The paper's target: the base solver with {@code substeps} sub-steps over {@code [s, t]} from {@code z}, placed by
     * the spacing's inner rule ({@link TimestepSpacing#innerSpacing}: the same spacing, or logSNR inside the intervals
     * of an explicit (learned) grid).
     */
    public static Target fineTarget(SolverSpec base, TimestepSpacing spacing, int substeps) {
        TimestepSpacing inner = spacing.innerSpacing();
        return (step, s, t, from, z, model) -> {
            SamplerConfig cfg = new SamplerConfig(base, inner, substeps, s, t, true, false);
            SampleResult r = Sampler.sample(cfg, model, z);
            return r.x();
        };
    }

    /**
     * Our extension (as D-ODE's {@code dode-teacher}): the target of step {@code i} is the high-accuracy
     * {@link GridTeacher} state at exactly the coarse time {@code t_{i+1}} of the same row, independent of the state the
     * tuned sampler reached. The paper's target corrects each step towards the exact local flow from wherever the
     * sampler is; this one also pulls the path back towards the true trajectory, so a step can compensate the errors
     * of the uncorrectable steps before it (IIA's first step has no vectors). The teacher is solved once per grid from
     * the context's rows ({@code grid} must be the fit's coarse grid, {@code rows} the fitted row count).
     */
    public static Target teacherTarget(FitContext ctx, double[] grid, int rows, int teacherSteps) {
        double[][][] states = new double[1][][];
        return (step, s, t, from, z, model) -> {
            if (states[0] == null) {
                states[0] = GridTeacher.states(ctx.first(rows), grid, teacherSteps);
            }
            if (s != grid[step] || t != grid[step + 1]) {
                throw new IllegalStateException("iia teacher target: step " + step + " is [" + s + ", " + t
                        + "], the teacher's grid has [" + grid[step] + ", " + grid[step + 1] + "]");
            }
            int per = ctx.perSample();
            int b = (int) z.getShape().get(0);
            double[] v = Arrays.copyOfRange(states[0][step + 1], from * per, (from + b) * per);
            return Nd.create(z.getManager(), v, z.getShape(), z.getDataType());
        };
    }

    /** Fits with the teacher target ({@link #teacherTarget}) on the coarse grid of {@code spacing} at {@code nfe}. */
    public static CoefficientSet fitToTeacher(FitContext ctx, Form form, TimestepSpacing spacing, int nfe,
                                              Settings settings, int teacherSteps) {
        if (settings == null) {
            settings = Settings.defaults();
        }
        int steps = steps(form, nfe);
        int rows = Math.min(settings.samples(), ctx.rows());
        SamplerConfig cfg = new SamplerConfig(form.base(), spacing, steps, ctx.tStart(), ctx.tEnd(), true, false);
        double[] grid = cfg.solver().create().grid(ctx.model().schedule(), cfg, ctx.tStart(), ctx.tEnd());
        return fit(ctx, form, spacing, nfe, settings, teacherTarget(ctx, grid, rows, teacherSteps),
                "grid-teacher dpmsolver++ multistep o3, about " + teacherSteps + " logSNR-uniform steps, at the coarse "
                        + "times");
    }

    /** Steps of {@code form} in a run of {@code nfe} model calls; refuses an NFE the form cannot spend. */
    private static int steps(Form form, int nfe) {
        if (nfe < form.nfePerStep() || nfe % form.nfePerStep() != 0) {
            throw new IllegalArgumentException("iia fit: nfe must be a positive multiple of " + form.nfePerStep()
                    + " for " + form.id() + ", got " + nfe);
        }
        return nfe / form.nfePerStep();
    }

    /** Fits with the paper's fine target ({@link #fineTarget}). */
    public static CoefficientSet fit(FitContext ctx, Form form, TimestepSpacing spacing, int nfe, Settings settings) {
        return fit(ctx, form, spacing, nfe, settings, null);
    }

    /**
     * Fits {@code form} on the context's first {@code settings.samples()} rows for a run of {@code nfe} model calls
     * ({@code nfe / form.nfePerStep()} steps) on {@code spacing}; {@code target} replaces the fine target (tests),
     * {@code null} for the paper's.
     */
    public static CoefficientSet fit(FitContext ctx, Form form, TimestepSpacing spacing, int nfe, Settings settings,
                                     Target target) {
        return fit(ctx, form, spacing, nfe, settings, target, target == null ? null : "injected");
    }

    private static CoefficientSet fit(FitContext ctx, Form form, TimestepSpacing spacing, int nfe, Settings settings,
                                      Target target, String targetName) {
        if (ctx == null) {
            throw new IllegalArgumentException("iia fit: context is required");
        }
        if (form == null) {
            throw new IllegalArgumentException("iia fit: form is required");
        }
        if (spacing == null) {
            throw new IllegalArgumentException("iia fit: spacing is required");
        }
        if (settings == null) {
            settings = Settings.defaults();
        }
        int steps = steps(form, nfe);
        long t0 = System.nanoTime();
        int r = settings.r() != null ? settings.r() : form.defaultR();
        FitContext c = ctx.first(settings.samples());
        boolean injected = target != null;
        Target tgt = injected ? target : fineTarget(form.base(), spacing, settings.fineSubsteps());
        SamplerConfig cfg = new SamplerConfig(form.base(), spacing, steps, c.tStart(), c.tEnd(), true, false);
        int per = c.perSample();
        int rows = c.rows();
        double count = (double) rows * per;

        double[][] values = new double[steps][];
        double[] residuals = new double[steps];
        double[] baseResiduals = new double[steps];
        int[] iterations = new int[steps];
        List<String> warnings = new ArrayList<>();
        double[] grid;
        try (NDManager m = NDManager.newBaseManager()) {
            List<Batch> batches = new ArrayList<>();
            try {
                for (int from = 0; from < rows; from += c.batch()) {
                    int to = Math.min(rows, from + c.batch());
                    long[] shape = new long[c.sampleShape().length + 1];
                    shape[0] = to - from;
                    System.arraycopy(c.sampleShape(), 0, shape, 1, c.sampleShape().length);
                    NDArray xT = Nd.create(m, Arrays.copyOfRange(c.initial(), from * per, to * per), new Shape(shape),
                            c.dtype());
                    long[] seeds = Arrays.copyOfRange(c.seeds(), from, to);
                    ModelFunction fn = new ModelFunction(c.model(), c.guidance(),
                            c.guidance().rowLabels(seeds, c.model().numClasses()));
                    batches.add(new Batch(from, fn, new IiaRun(form, r, cfg, fn, xT)));
                    xT.close();
                }
                grid = batches.get(0).run.grid();
                for (int i = 0; i < steps; i++) {
                    int cols = form.columns(r, i);
                    double[][] gram = new double[cols][cols];
                    double[] rhs = new double[cols];
                    double baseSq = 0;
                    double incSq = 0;
                    double[][] targets = new double[batches.size()][];
                    for (int bi = 0; bi < batches.size(); bi++) {
                        Batch b = batches.get(bi);
                        IiaRun.Prepared p = b.run.prepare();
                        double[] fine;
                        try (NDArray tNd = tgt.at(i, grid[i], grid[i + 1], b.from, p.state(), b.fn)) {
                            fine = Nd.toDoubles(tNd);
                        }
                        double[] base = Nd.toDoubles(p.base());
                        double[] z = Nd.toDoubles(p.state());
                        double[][] g = new double[cols][];
                        for (int k = 0; k < cols; k++) {
                            g[k] = Nd.toDoubles(p.vectors().get(k));
                        }
                        for (int j = 0; j < fine.length; j++) {
                            double e = fine[j] - base[j];
                            double inc = base[j] - z[j];
                            baseSq += e * e;
                            incSq += inc * inc;
                            for (int k = 0; k < cols; k++) {
                                rhs[k] += g[k][j] * e;
                                for (int l = 0; l <= k; l++) {
                                    gram[k][l] += g[k][j] * g[l][j];
                                }
                            }
                        }
                        targets[bi] = fine;
                    }
                    for (int k = 0; k < cols; k++) {
                        for (int l = 0; l < k; l++) {
                            gram[l][k] = gram[k][l];
                        }
                    }
                    Solution sol = solve(gram, rhs, settings.ridge(), settings.conditionLimit(),
                            settings.maxCorrection() * Math.sqrt(incSq));
                    if (sol.warning() != null) {
                        warnings.add("step " + i + ": " + sol.warning());
                    }
                    values[i] = sol.c();
                    iterations[i] = 1;
                    double afterSq = 0;
                    for (int bi = 0; bi < batches.size(); bi++) {
                        Batch b = batches.get(bi);
                        b.run.advance(sol.c());
                        double[] z = Nd.toDoubles(b.run.state());
                        double[] fine = targets[bi];
                        for (int j = 0; j < z.length; j++) {
                            double d = z[j] - fine[j];
                            afterSq += d * d;
                        }
                    }
                    residuals[i] = afterSq / count;
                    baseResiduals[i] = baseSq / count;
                    c.progress().report("iia", i + 1, steps, String.format(Locale.ROOT,
                            "%s step %d: residual %.4g -> %.4g, c = %s", form.id(), i, baseResiduals[i], residuals[i],
                            Arrays.toString(values[i])));
                }
            } finally {
                for (Batch b : batches) {
                    b.run.close();
                }
            }
        }
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("form", form.id());
        st.put("r", r);
        st.put("samples", rows);
        st.put("fineSubsteps", settings.fineSubsteps());
        st.put("ridge", settings.ridge());
        st.put("conditionLimit", settings.conditionLimit());
        st.put("maxCorrection", settings.maxCorrection());
        st.put("target", injected ? targetName : "base solver, " + settings.fineSubsteps() + " sub-steps per step");
        st.put("objective", "per-step MSE to the target along the corrected path (normal equations, SVD)");
        CoefficientSet.FitReport report = new CoefficientSet.FitReport(rows, residuals, baseResiduals, iterations,
                (System.nanoTime() - t0) / 1e9, List.copyOf(warnings));
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION,
                form == Form.BIIA_EDM ? CoefficientSet.Method.BIIA : CoefficientSet.Method.IIA, form.base(), spacing,
                steps, nfe, grid, form.columnNames(r), values, report, null, c.provenanceWith(st));
    }

    /** The tuned sampler of a fitted IIA / BIIA set (its exact grid times included). */
    public static SolverSpec spec(CoefficientSet set) {
        Form form = formOf(set);
        int r = -1;
        for (int k = 0; k <= 8 && r < 0; k++) {
            if (form.columnNames(k).equals(set.columns())) {
                r = k;
            }
        }
        if (r < 0) {
            throw new IllegalArgumentException("iia: columns " + set.columns() + " do not belong to " + form.id());
        }
        return new Iia(form, r, set.values(), set.times());
    }

    /** The form a set was fitted with (from its method and base solver). */
    public static Form formOf(CoefficientSet set) {
        if (set.method() == CoefficientSet.Method.BIIA) {
            return Form.BIIA_EDM;
        }
        if (set.method() != CoefficientSet.Method.IIA) {
            throw new IllegalArgumentException("iia: set method must be IIA or BIIA, got " + set.method());
        }
        SolverSpec b = set.base();
        if (b instanceof Ddim) {
            return Form.IIA_DDIM;
        }
        if (b instanceof EdmHeun) {
            return Form.IIA_EDM;
        }
        if (b.equals(DpmSolver.plusPlusMultistep(2))) {
            return Form.IIA_DPMSOLVER_2M;
        }
        throw new IllegalArgumentException("iia: no IIA form has base solver " + b.label());
    }

    private record Batch(int from, ModelFunction fn, IiaRun run) {
    }

    /** A solved step: coefficients, kept rank, condition number of the Gram matrix, and what was done. */
    record Solution(double[] c, int rank, double condition, String warning) {
    }

    /**
     * Solves {@code (G + lambda I) c = b} by SVD, truncating singular values below {@code s_max / conditionLimit},
     * then dropping the weakest kept direction while the terms' summed sizes {@code sum_k |c_k| sqrt(G_kk)} exceed
     * {@code maxTermSum} (an explosion: large terms cancelling on the training rows).
     */
    static Solution solve(double[][] gram, double[] rhs, double ridge, double conditionLimit, double maxTermSum) {
        int m = rhs.length;
        if (m == 0) {
            return new Solution(new double[0], 0, 1.0, null);
        }
        for (double[] row : gram) {
            for (double v : row) {
                if (!Double.isFinite(v)) {
                    return new Solution(new double[m], 0, Double.NaN, "non-finite gradient vectors; step left neutral");
                }
            }
        }
        RealMatrix g = new Array2DRowRealMatrix(gram);
        SingularValueDecomposition svd = new SingularValueDecomposition(g);
        double[] sv = svd.getSingularValues();
        RealMatrix u = svd.getU();
        RealMatrix v = svd.getV();
        double smax = sv[0];
        if (!(smax > 0)) {
            return new Solution(new double[m], 0, Double.POSITIVE_INFINITY,
                    "all gradient vectors are zero; step left neutral");
        }
        double condition = sv[m - 1] > 0 ? smax / sv[m - 1] : Double.POSITIVE_INFINITY;
        double lambda = ridge * g.getTrace() / m;
        int rank = 0;
        while (rank < m && sv[rank] * conditionLimit >= smax) {
            rank++;
        }
        List<String> notes = new ArrayList<>();
        if (rank < m) {
            notes.add(String.format(Locale.ROOT, "ill-conditioned gradient vectors (singular value ratio %.3g > %.3g): "
                    + "truncated SVD keeps %d of %d directions", condition, conditionLimit, rank, m));
        }
        double[] c = new double[m];
        while (rank > 0) {
            c = new double[m];
            for (int k = 0; k < rank; k++) {
                double proj = 0;
                for (int j = 0; j < m; j++) {
                    proj += u.getEntry(j, k) * rhs[j];
                }
                double w = proj / (sv[k] + lambda);
                for (int j = 0; j < m; j++) {
                    c[j] += w * v.getEntry(j, k);
                }
            }
            double terms = 0;
            for (int k = 0; k < m; k++) {
                terms += Math.abs(c[k]) * Math.sqrt(gram[k][k]);
            }
            if (terms <= maxTermSum) {
                break;
            }
            notes.add(String.format(Locale.ROOT, "coefficient explosion with %d directions (summed term sizes %.3g "
                    + "above the limit %.3g): dropping the weakest direction", rank, terms, maxTermSum));
            rank--;
        }
        if (rank == 0) {
            c = new double[m];
            notes.add("step left neutral");
        }
        return new Solution(c, rank, condition, notes.isEmpty() ? null : String.join("; ", notes));
    }
}
