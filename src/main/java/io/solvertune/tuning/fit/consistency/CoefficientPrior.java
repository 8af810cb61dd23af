package io.solvertune.tuning.fit.consistency;

import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.consistency.MultistepPrior;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the trainer's coefficients start from: the network's head is an offset added to the prior's coefficients of
 * each step (Gaussian mean = prior + head), so the zero-initialised head starts training at the prior solver.
 *
 * @param kind  {@link Kind#NONE} (the reference: zero head = the form's first-order step, DDIM) or
 *              {@link Kind#MULTISTEP} (DPM-Solver++ / DPM-Solver multistep of {@code order}, {@link MultistepPrior})
 * @param order the multistep solver's order, 2 or 3 (0 with {@code NONE})
 */
public record CoefficientPrior(Kind kind, int order) {

    /** The prior families. */
    public enum Kind {
        /** No prior: the coefficients are the head (the reference). */
        NONE,
        /** The multistep DPM-Solver(++) of the form, with the official warm-up and lower-order final steps. */
        MULTISTEP
    }

    /** The prior order when none is given (measured in BENCHMARKS.md, "Multistep prior"). */
    public static final int DEFAULT_ORDER = 3;

    /** The official lower-order final steps, as the project's untuned multistep solvers run by default. */
    public static final boolean LOWER_ORDER_FINAL = true;

    public CoefficientPrior {
        if (kind == null) {
            throw new IllegalArgumentException("prior: is required (none or multistep)");
        }
        if (kind == Kind.NONE && order != 0) {
            throw new IllegalArgumentException("priorOrder: only with prior multistep, got " + order);
        }
        if (kind == Kind.MULTISTEP && (order < MultistepPrior.MIN_ORDER || order > MultistepPrior.MAX_ORDER)) {
            throw new IllegalArgumentException("priorOrder: must be 2 or 3, got " + order);
        }
    }

    /** No prior. */
    public static CoefficientPrior none() {
        return new CoefficientPrior(Kind.NONE, 0);
    }

    /** The multistep prior of {@code order}. */
    public static CoefficientPrior multistep(int order) {
        return new CoefficientPrior(Kind.MULTISTEP, order);
    }

    public boolean isNone() {
        return kind == Kind.NONE;
    }

    /** Refuses a prior the trainer's settings cannot take, naming the field. */
    public void check(TrainerSettings st) {
        if (isNone()) {
            return;
        }
        if (st.form() != Consistency.Form.DATA && st.form() != Consistency.Form.NOISE) {
            throw new IllegalArgumentException("prior: the multistep prior needs the data or noise form (DPM-Solver++ or"
                    + " DPM-Solver multistep), got form " + st.form().id());
        }
        if (order > st.order()) {
            throw new IllegalArgumentException("priorOrder: " + order + " is above the solver's order " + st.order()
                    + " (the prior combines priorOrder outputs)");
        }
        if (st.policy() != TrainerSettings.PolicyKind.GAUSSIAN) {
            throw new IllegalArgumentException("prior: the multistep prior needs the Gaussian policy (the categorical "
                    + "policy's bins are the reference's fixed ranges, not offsets around a prior)");
        }
    }

    /**
     * The prior's free coefficients of steps 1..steps-1 over {@code grid}, padded to {@code dims} per step (the unused
     * columns 0): {@code [steps - 1][dims]}, all zero for {@code NONE}.
     */
    double[][] offsets(Consistency.Form form, int order, NoiseSchedule ns, double[] grid, int dims) {
        int steps = grid.length - 1;
        double[][] out = new double[Math.max(0, steps - 1)][dims];
        if (isNone()) {
            return out;
        }
        double[][] a = MultistepPrior.coefficients(form, order, this.order, ns, grid, LOWER_ORDER_FINAL);
        for (int i = 1; i < steps; i++) {
            System.arraycopy(a[i], 0, out[i - 1], 0, a[i].length);
        }
        return out;
    }

    /** For provenance and the checkpoint key. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.name().toLowerCase(Locale.ROOT));
        if (!isNone()) {
            m.put("order", order);
            m.put("lowerOrderFinal", LOWER_ORDER_FINAL);
        }
        return m;
    }
}
