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

}
