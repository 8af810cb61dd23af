package io.solvertune.numerics.solver.iia;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * IIA, improved integration approximation (Zhang, Niwa, Kleijn, ICLR 2024, arXiv 2304.11328): each step is the
 * base solver's step plus fitted multiples of the solver's own "gradient" vectors at the current and the {@code r}
 * most recent steps, {@code x_{i+1} = base(x_i) + sum_k c_{i,k} g_{i,k}} (see {@link IiaSolver} and
 * {@code docs/methods/iia.md} for the vectors of each form). All-zero coefficients are neutral: the run is the
 * base solver's, bit for bit. Fitted by {@code io.solvertune.tuning.fit.IiaFitter}.
 *
 * @param form         base solver and gradient vectors
 * @param r            recent steps whose gradients enter besides the current step's (IIA default 1, BIIA 0)
 * @param coefficients one row per step; row {@code i} has exactly {@code form.columns(r, i)} entries (fewer for
 *                     the first steps, which have fewer past gradients; none at step 0 of the DDIM / DPM-Solver
 *                     forms)
 * @param times        the exact {@code steps + 1} grid times the coefficients belong to (then the config's
 *                     spacing and time range are ignored; its {@code steps} must match), or {@code null} for the
 *                     config's grid
 */
public record Iia(Form form, int r, double[][] coefficients, double[] times) implements SolverSpec {

    /** Which base solver is corrected, and with which gradient vectors. */
    public enum Form {
        /** DDIM; vectors {@code alpha_t (x0_i - x0_{i-k})}, {@code sigma_t (eps_i - eps_{i-k})}, k = 1..r. */
        IIA_DDIM(1, 2, false),
        /** DPM-Solver++(2M) multistep; the same vectors as {@link #IIA_DDIM}. */
        IIA_DPMSOLVER_2M(1, 2, false),
        /** Heun in EDM form; "first" {@code x~_j - D_j} and "second" {@code D'_{j+1} - D_j}, j = i-r..i. */
        IIA_EDM(2, 2, true),
        /** Heun in EDM form; the step's averaged gradient {@code (d_j + d'_{j+1})/2}, j = i-r..i. */
        BIIA_EDM(2, 1, true);

        private final int nfePerStep;
        private final int perStep;
        private final boolean includesCurrent;

        Form(int nfePerStep, int perStep, boolean includesCurrent) {
            this.nfePerStep = nfePerStep;
            this.perStep = perStep;
            this.includesCurrent = includesCurrent;
        }

        /** Model evaluations per step (Heun: 2). */
        public int nfePerStep() {
            return nfePerStep;
        }

        /** The untuned solver this form corrects. */
        public SolverSpec base() {
            return switch (this) {
                case IIA_DDIM -> new Ddim();
                case IIA_DPMSOLVER_2M -> DpmSolver.plusPlusMultistep(2);
                case IIA_EDM, BIIA_EDM -> new EdmHeun();
            };
        }

        /** The paper's default r: 1, except BIIA-EDM (0). */
        public int defaultR() {
            return this == BIIA_EDM ? 0 : 1;
        }

        /** Coefficients of step {@code i} (0-based) with {@code r} recent steps. */
        public int columns(int r, int i) {
            int past = Math.min(i, r);
            return perStep * (includesCurrent ? past + 1 : past);
        }

        /** Names of the {@link #columns(int, int) columns} of a full row, current step first. */
        public java.util.List<String> columnNames(int r) {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (int k = includesCurrent ? 0 : 1; k <= r; k++) {
                switch (this) {
                    case IIA_DDIM, IIA_DPMSOLVER_2M -> {
                        names.add("dx0_" + k);
                        names.add("deps_" + k);
                    }
                    case IIA_EDM -> {
                        names.add("first_" + k);
                        names.add("second_" + k);
                    }
                    case BIIA_EDM -> names.add("avg_" + k);
                }
            }
            return names;
        }

        /** Lower-case id, e.g. {@code iia_edm}. */
        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Iia {
        if (form == null) {
            throw new IllegalArgumentException("iia: form is required");
        }
        if (r < 0 || r > 8) {
            throw new IllegalArgumentException("iia: r must be in [0, 8], got " + r);
        }
        if (coefficients == null) {
            throw new IllegalArgumentException("iia: coefficients are required (one row per step)");
        }
        if (coefficients.length < 1) {
            throw new IllegalArgumentException("iia: coefficients must have one row per step, got none");
        }
        double[][] copy = new double[coefficients.length][];
        for (int i = 0; i < coefficients.length; i++) {
            int want = form.columns(r, i);
            if (coefficients[i] == null || coefficients[i].length != want) {
                throw new IllegalArgumentException("iia: coefficients[" + i + "] must have " + want + " entries "
                        + form.columnNames(r).subList(0, want) + " for " + form.id() + " with r = " + r + ", got "
                        + (coefficients[i] == null ? "none" : coefficients[i].length));
            }
            for (double v : coefficients[i]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("iia: coefficients[" + i + "] is not finite");
                }
            }
            copy[i] = coefficients[i].clone();
        }
        coefficients = copy;
        if (times != null) {
            if (times.length != coefficients.length + 1) {
                throw new IllegalArgumentException("iia: times must have steps + 1 = " + (coefficients.length + 1)
                        + " entries, got " + times.length);
            }
            for (int i = 0; i + 1 < times.length; i++) {
                if (!(times[i] > times[i + 1]) || !(times[i + 1] > 0)) {
                    throw new IllegalArgumentException("iia: times must be positive and strictly decreasing");
                }
            }
            times = times.clone();
        }
    }

    /** All-zero (neutral) coefficients for {@code steps} steps: the base solver. */
    public static Iia neutral(Form form, int r, int steps) {
        double[][] c = new double[steps][];
        for (int i = 0; i < steps; i++) {
            c[i] = new double[form.columns(r, i)];
        }
        return new Iia(form, r, c, null);
    }

    /** Number of steps the coefficients cover. */
    public int steps() {
        return coefficients.length;
    }

    @Override
    public double[][] coefficients() {
        double[][] c = new double[coefficients.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = coefficients[i].clone();
        }
        return c;
    }

    @Override
    public double[] times() {
        return times == null ? null : times.clone();
    }

    /** Row {@code i} (not copied; package use). */
    double[] row(int i) {
        return coefficients[i];
    }

    @Override
    public Solver create() {
        return new IiaSolver(form, r, coefficients, times);
    }

    @Override
    public String label() {
        return form.id().replace('_', '-') + " r" + r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Iia v && form == v.form && r == v.r
                && java.util.Arrays.deepEquals(coefficients, v.coefficients) && java.util.Arrays.equals(times, v.times);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(form, r, java.util.Arrays.deepHashCode(coefficients),
                java.util.Arrays.hashCode(times));
    }

    @Override
    public String toString() {
        return "Iia[form=" + form + ", r=" + r + ", coefficients=" + java.util.Arrays.deepToString(coefficients)
                + ", times=" + java.util.Arrays.toString(times) + "]";
    }
}
