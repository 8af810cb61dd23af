package io.solvertune.numerics.model;

/** A model returned NaN or infinity. */
public final class NonFiniteModelOutputException extends ArithmeticException {
    private static final long serialVersionUID = 1L;
    private final double time;

    public NonFiniteModelOutputException(double time) {
        super("the model returned NaN or infinite values at t=" + time);
        this.time = time;
    }

    public double time() {
        return time;
    }
}
