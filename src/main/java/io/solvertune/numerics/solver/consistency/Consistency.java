package io.solvertune.numerics.solver.consistency;

import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * ConsistencySolver (Wang et al., arXiv 2512.13592; the unofficial reference G-U-N/consolver, {@code PPOScheduler}):
 * at step {@code i} the newest {@code k = min(i + 1, order)} model outputs {@code m_0 (newest) .. m_{k-1}} are
 * combined, {@code m_eff = sum_j c_j m_j} with {@code sum_j c_j = 1}, and the first-order step of the form is taken with
 * {@code m_eff} in place of {@code m_0}. The free parameters of a step are the reference's actions
 * {@code a_0 .. a_{k-2}}: {@code c_0 = 1 + a_0}, {@code c_j = a_j} ({@code 0 < j < k - 1}),
 * {@code c_{k-1} = 1 - (c_0 + .. + c_{k-2})} (the reference's {@code set_default_coefficients}). Step 0 has no free
 * parameter (plain DDIM / Euler); all-zero parameters are neutral and reproduce the base solver bit for bit.
 *
 * @param form         which model output is combined, and which first-order step follows
 * @param order        how many outputs are combined at most (the reference's {@code order_dim}, 4), 1..4
 * @param coefficients one row per step, row {@code i} with exactly {@link #columns(int, int) columns(order, i)}
 *                     entries {@code a_0 ..}; {@code null} = neutral at any number of steps (the base solver)
 * @param times        the exact {@code steps + 1} grid times the coefficients belong to, or {@code null} for the
 *                     config's grid
 */
public record Consistency(Form form, int order, double[][] coefficients, double[] times) implements SolverSpec {

    /** The largest order (history length) the reference uses and this record accepts. */
    public static final int MAX_ORDER = 4;

    /** Which model output is combined and which first-order step follows. */
    public enum Form {
        /**
         * Noise prediction (the reference): combined {@code eps}, then DDIM in noise form, computed as DPM-Solver-1
         * ({@code x_t = (alpha_t/alpha_s) x - sigma_t expm1(h) eps_eff}); neutral = {@code dpmsolver multistep o1}.
         */
        NOISE(PredictionType.NOISE),
        /**
         * Data prediction: combined {@code x0}, then DDIM in data form exactly as {@code ddim}
         * ({@code x_t = (sigma_t/sigma_s) x + (alpha_t - alpha_s sigma_t/sigma_s) x0_eff}); neutral = {@code ddim}.
         */
        DATA(PredictionType.DATA),
        /**
         * Flow velocity (the reference's FLUX variant): combined {@code u = dx/dt}, then an Euler step
         * {@code x_t = x + (t - s) u_eff}; neutral = Euler on the velocity (equal to DDIM on a rectified-flow schedule
         * up to round-off; no other solver of the project takes this step).
         */
        FLOW_VELOCITY(PredictionType.FLOW_VELOCITY);

        private final PredictionType prediction;

        Form(PredictionType prediction) {
            this.prediction = prediction;
        }

        /** The model output this form combines. */
        public PredictionType prediction() {
            return prediction;
        }

        /** Lower-case id, e.g. {@code flow_velocity}. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The untuned solver the neutral coefficients reproduce bit for bit: {@code ddim} (data), DPM-Solver-1 in
         * noise form (noise), the neutral flow form itself (flow velocity).
         */
        public SolverSpec base(int order) {
            return switch (this) {
                case DATA -> new Ddim();
                case NOISE -> new DpmSolver(PredictionType.NOISE, DpmSolver.Method.MULTISTEP, 1,
                        DpmSolver.SolverType.DPMSOLVER);
                case FLOW_VELOCITY -> new Consistency(this, order, null, null);
            };
        }

        /** The form whose {@link #base} is {@code base}, or {@code null}. */
        public static Form ofBase(SolverSpec base) {
            if (base instanceof Ddim) {
                return DATA;
            }
            if (base instanceof DpmSolver d && d.prediction() == PredictionType.NOISE && d.order() == 1
                    && d.method() == DpmSolver.Method.MULTISTEP) {
                return NOISE;
            }
            if (base instanceof Consistency c && c.coefficients == null) {
                return c.form;
            }
            return null;
        }
    }

    public Consistency {
        if (form == null) {
            throw new IllegalArgumentException("consistency: form is required");
        }
        if (order < 1 || order > MAX_ORDER) {
            throw new IllegalArgumentException("consistency: order must be in [1, " + MAX_ORDER + "], got " + order);
        }
        if (coefficients != null) {
            if (coefficients.length < 1) {
                throw new IllegalArgumentException("consistency: coefficients must have one row per step, got none");
            }
            double[][] copy = new double[coefficients.length][];
            for (int i = 0; i < coefficients.length; i++) {
                int want = columns(order, i);
                if (coefficients[i] == null || coefficients[i].length != want) {
                    throw new IllegalArgumentException("consistency: coefficients[" + i + "] must have " + want
                            + " entries " + columnNames(order).subList(0, want) + " at order " + order + ", got "
                            + (coefficients[i] == null ? "none" : coefficients[i].length));
                }
                for (double v : coefficients[i]) {
                    if (!Double.isFinite(v)) {
                        throw new IllegalArgumentException("consistency: coefficients[" + i + "] is not finite");
                    }
                }
                copy[i] = coefficients[i].clone();
            }
            coefficients = copy;
        }
        if (times != null) {
            if (coefficients == null) {
                throw new IllegalArgumentException("consistency: times need coefficients (one row per step)");
            }
            if (times.length != coefficients.length + 1) {
                throw new IllegalArgumentException("consistency: times must have steps + 1 = "
                        + (coefficients.length + 1) + " entries, got " + times.length);
            }
            for (int i = 0; i + 1 < times.length; i++) {
                if (!(times[i] > times[i + 1]) || !(times[i + 1] > 0)) {
                    throw new IllegalArgumentException("consistency: times must be positive and strictly decreasing");
                }
            }
            times = times.clone();
        }
    }

    /** Free parameters of step {@code i} (0-based) at {@code order}: {@code min(i, order - 1)}. */
    public static int columns(int order, int i) {
        return Math.min(i, order - 1);
    }

    /** Names of the free parameters of a full row: {@code a0, a1, ..}. */
    public static List<String> columnNames(int order) {
        List<String> names = new ArrayList<>();
        for (int j = 0; j < order - 1; j++) {
            names.add("a" + j);
        }
        return names;
    }

    /** All-zero (neutral) coefficients for {@code steps} steps: the base solver. */
    public static Consistency neutral(Form form, int order, int steps) {
        double[][] c = new double[steps][];
        for (int i = 0; i < steps; i++) {
            c[i] = new double[columns(order, i)];
        }
        return new Consistency(form, order, c, null);
    }

    /**
     * The combination weights {@code c_0 .. c_{k-1}} of {@code k} outputs (newest first) from the free parameters
     * {@code a} (at least {@code k - 1} of them; extra ones are ignored), in the reference's order of operations.
     */
    public static double[] weights(double[] a, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("consistency: at least one output is combined, got " + k);
        }
        double[] c = new double[k];
        if (k == 1) {
            c[0] = 1.0;
            return c;
        }
        c[0] = a[0] + 1.0;
        double sum = c[0];
        for (int j = 1; j < k - 1; j++) {
            c[j] = a[j];
            sum += c[j];
        }
        c[k - 1] = 1.0 - sum;
        return c;
    }

    /**
     * The solver of a materialised table: {@code base} names the form ({@link Form#ofBase}), the rows are the free
     * parameters per step, {@code order} = columns + 1.
     */
    public static Consistency fromTable(SolverSpec base, int order, double[][] values, double[] times) {
        Form form = Form.ofBase(base);
        if (form == null) {
            throw new IllegalArgumentException("consistency: base " + (base == null ? "null" : base.label())
                    + " is not the base of a form (ddim, dpmsolver multistep o1 in noise form, or the neutral flow form)");
        }
        return new Consistency(form, order, values, times);
    }

    /** The same solver on an exact grid. */
    public Consistency withTimes(double[] t) {
        return new Consistency(form, order, coefficients, t);
    }

    /** Number of steps the coefficients cover, or 0 for the neutral form at any number of steps. */
    public int steps() {
        return coefficients == null ? 0 : coefficients.length;
    }

    @Override
    public double[][] coefficients() {
        if (coefficients == null) {
            return null;
        }
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

    @Override
    public Solver create() {
        return new ConsistencySolver(form, order, coefficients, times);
    }

    @Override
    public String label() {
        return "consistency " + form.id() + " o" + order + (coefficients == null ? " neutral" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Consistency v && form == v.form && order == v.order
                && Arrays.deepEquals(coefficients, v.coefficients) && Arrays.equals(times, v.times);
    }

    @Override
    public int hashCode() {
        return Objects.hash(form, order, Arrays.deepHashCode(coefficients), Arrays.hashCode(times));
    }

    @Override
    public String toString() {
        return "Consistency[form=" + form + ", order=" + order + ", coefficients="
                + Arrays.deepToString(coefficients) + ", times=" + Arrays.toString(times) + "]";
    }
}
