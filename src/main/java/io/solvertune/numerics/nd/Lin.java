package io.solvertune.numerics.nd;

import ai.djl.ndarray.NDArray;

/**
 * Linear combinations of NDArrays with {@code double} coefficients, closing every temporary. The result is a new
 * array attached to the manager of the first array. Coefficients stay on the host: one scalar per term, no tensor
 * algebra for them.
 */
public final class Lin {
    private Lin() {
    }

    /** {@code a x}. */
    public static NDArray scale(double a, NDArray x) {
        return x.mul(a);
    }

    /** {@code a x + b y}. */
    public static NDArray of(double a, NDArray x, double b, NDArray y) {
        NDArray r = x.mul(a);
        try (NDArray t = y.mul(b)) {
            r.addi(t);
        }
        return r;
    }

    /** {@code a x + b y + c z}. */
    public static NDArray of(double a, NDArray x, double b, NDArray y, double c, NDArray z) {
        NDArray r = x.mul(a);
        try (NDArray t = y.mul(b)) {
            r.addi(t);
        }
        try (NDArray t = z.mul(c)) {
            r.addi(t);
        }
        return r;
    }

    /** {@code a x + b y + c z + d w}. */
    public static NDArray of(double a, NDArray x, double b, NDArray y, double c, NDArray z, double d, NDArray w) {
        NDArray r = of(a, x, b, y, c, z);
        try (NDArray t = w.mul(d)) {
            r.addi(t);
        }
        return r;
    }

    /** {@code sum_i c[i] xs[i]} (at least one term). */
    public static NDArray sum(double[] c, NDArray[] xs) {
        if (c.length != xs.length || c.length == 0) {
            throw new IllegalArgumentException("need as many coefficients as arrays, and at least one");
        }
        NDArray r = xs[0].mul(c[0]);
        for (int i = 1; i < c.length; i++) {
            try (NDArray t = xs[i].mul(c[i])) {
                r.addi(t);
            }
        }
        return r;
    }

    /** {@code acc += c x} in place; returns {@code acc}. */
    public static NDArray addScaled(NDArray acc, double c, NDArray x) {
        try (NDArray t = x.mul(c)) {
            return acc.addi(t);
        }
    }

    /** {@code (x - y) * c} as a new array. */
    public static NDArray diffScaled(NDArray x, NDArray y, double c) {
        NDArray r = x.sub(y);
        return r.muli(c);
    }

    /** {@code (x - y) / c} as a new array. */
    public static NDArray diffDiv(NDArray x, NDArray y, double c) {
        NDArray r = x.sub(y);
        return r.divi(c);
    }
}
