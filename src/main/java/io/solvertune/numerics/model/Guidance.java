package io.solvertune.numerics.model;

/**
 * Conditioning of a sampling run: one class label for every row (or {@code null} for unconditional sampling), and
 * the classifier-free guidance scale ({@code 1} = plain conditional model, one model call per evaluation).
 */
public record Guidance(Integer classLabel, double scale) {

    public Guidance {
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("guidance scale must be finite, got " + scale);
        }
        if (classLabel != null && classLabel < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + classLabel);
        }
    }

    /** JSON form: {@code {"classLabel": 3, "scale": 5.0}}; a missing scale means 1 (no guidance). */
    @com.fasterxml.jackson.annotation.JsonCreator
    static Guidance fromJson(@com.fasterxml.jackson.annotation.JsonProperty("classLabel") Integer classLabel,
                             @com.fasterxml.jackson.annotation.JsonProperty("scale") Double scale) {
        return new Guidance(classLabel, scale == null ? 1.0 : scale);
    }

    /** Unconditional sampling. */
    public static Guidance none() {
        return new Guidance(null, 1.0);
    }

    /** Class-conditional sampling with classifier-free guidance {@code scale}. */
    public static Guidance classifierFree(int classLabel, double scale) {
        return new Guidance(classLabel, scale);
    }

    public boolean conditional() {
        return classLabel != null;
    }

    /** Whether an evaluation needs the [uncond, cond] pair. */
    public boolean needsPair() {
        return classLabel != null && scale != 1.0;
    }
}
