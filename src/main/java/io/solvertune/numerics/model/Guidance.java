package io.solvertune.numerics.model;

/**
 * Conditioning of a sampling run and the classifier-free guidance scale ({@code 1} = plain conditional model, one
 * model call per evaluation). The class is either one label for every row ({@code classLabel}), or per seed
 * ({@code perSeedClass}: the row of seed s gets class {@code s mod numClasses}, so a seed set covers all classes), or
 * none (unconditional sampling).
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
public record Guidance(Integer classLabel, double scale, boolean perSeedClass) {

    public Guidance {
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("guidance scale must be finite, got " + scale);
        }
        if (classLabel != null && classLabel < 0) {
            throw new IllegalArgumentException("class label must be >= 0, got " + classLabel);
        }
        if (perSeedClass && classLabel != null) {
            throw new IllegalArgumentException("guidance: give either classLabel or perSeedClass, not both");
        }
    }

    /** One class for every row (or none). */
    public Guidance(Integer classLabel, double scale) {
        this(classLabel, scale, false);
    }

    /** JSON form: {@code {"classLabel": 3, "scale": 5.0}} or {@code {"perSeedClass": true, "scale": 5.0}}. */
    @com.fasterxml.jackson.annotation.JsonCreator
    static Guidance fromJson(@com.fasterxml.jackson.annotation.JsonProperty("classLabel") Integer classLabel,
                             @com.fasterxml.jackson.annotation.JsonProperty("scale") Double scale,
                             @com.fasterxml.jackson.annotation.JsonProperty("perSeedClass") Boolean perSeedClass) {
        return new Guidance(classLabel, scale == null ? 1.0 : scale, perSeedClass != null && perSeedClass);
    }

    /** Class of seed s is {@code s mod numClasses}, guidance {@code scale}. */
    public static Guidance perSeed(double scale) {
        return new Guidance(null, scale, true);
    }

    /** The class labels of rows with these seeds ({@code null} unless {@link #perSeedClass}). */
    public long[] rowLabels(long[] seeds, int numClasses) {
        if (!perSeedClass) {
            return null;
        }
        long[] l = new long[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            l[i] = Math.floorMod(seeds[i], (long) numClasses);
        }
        return l;
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
        return classLabel != null || perSeedClass;
    }

    /** Whether an evaluation needs the [uncond, cond] pair. */
    public boolean needsPair() {
        return conditional() && scale != 1.0;
    }
}
