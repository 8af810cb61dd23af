package io.solvertune.numerics.nd;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * A linear combination of the arrays a step works with (the state and the model outputs in its history), held as
 * host-side {@code double} coefficients. Solvers write their update formulas on these — the same structure as the
 * official code, e.g. {@code D1_0 = (m0 - m1) / r0} — and {@link #apply} evaluates the final combination with one
 * multiply per non-zero term: the small coefficient algebra stays in double, the bulk work in a handful of tensor
 * ops.
 */
public final class Combo {
    private final double[] c;

    private Combo(double[] c) {
        this.c = c;
    }

    /** The {@code index}-th basis array of a basis of {@code size} arrays. */
    public static Combo basis(int size, int index) {
        double[] c = new double[size];
        c[index] = 1.0;
        return new Combo(c);
    }

    /** The zero combination over {@code size} arrays. */
    public static Combo zero(int size) {
        return new Combo(new double[size]);
    }

    /** {@code this + o}. */
    public Combo plus(Combo o) {
        double[] r = c.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] += o.c[i];
        }
        return new Combo(r);
    }

    /** {@code this - o}. */
    public Combo minus(Combo o) {
        double[] r = c.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] -= o.c[i];
        }
        return new Combo(r);
    }

    /** {@code s * this}. */
    public Combo times(double s) {
        double[] r = c.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] *= s;
        }
        return new Combo(r);
    }

    /** {@code this / s}. */
    public Combo div(double s) {
        double[] r = c.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] /= s;
        }
        return new Combo(r);
    }

    /** The coefficient of basis array {@code i}. */
    public double coefficient(int i) {
        return c[i];
    }

    /** A copy of the coefficients. */
    public double[] coefficients() {
        return c.clone();
    }

    /**
     * Evaluates {@code sum_i c_i terms[i]} as a new array (on the manager of the first term with a non-zero
     * coefficient). Terms with an exactly zero coefficient are skipped and may be {@code null}.
     */
    public NDArray apply(NDArray... terms) {
        if (terms.length != c.length) {
            throw new IllegalArgumentException("combination over " + c.length + " arrays applied to " + terms.length);
        }
        NDArray r = null;
        for (int i = 0; i < c.length; i++) {
            if (c[i] == 0.0) {
                continue;
            }
            if (r == null) {
                r = terms[i].mul(c[i]);
            } else if (c[i] == 1.0) {
                r.addi(terms[i]);
            } else if (c[i] == -1.0) {
                r.subi(terms[i]);
            } else {
                try (NDArray t = terms[i].mul(c[i])) {
                    r.addi(t);
                }
            }
        }
        if (r == null) {
            throw new IllegalStateException("all coefficients are zero");
        }
        return r;
    }

    @Override
    public String toString() {
        return "Combo" + Arrays.toString(c);
    }
}
