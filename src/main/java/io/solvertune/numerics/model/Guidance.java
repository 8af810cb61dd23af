package io.solvertune.numerics.model;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Conditioning of a sampling run and the classifier-free guidance scale ({@code 1} = plain conditional model, one
 * model call per evaluation). The class is either one label for every row ({@code classLabel}), or per seed
 * ({@code perSeedClass}: the row of seed s gets class {@code s mod numClasses}, so a seed set covers all classes), or
 * none (unconditional sampling).
 *
 * <p>JSON: {@code classLabel} is written whenever it is set (class 0 included: a class-0 run must not read back as
 * unconditional), {@code scale} always, {@code perSeedClass} only when true.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Guidance(Integer classLabel, double scale,
                       @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean perSeedClass) {

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

    /**
     * The class each data sample of these seeds must come from, for statistics fitted on clean data: per seed as
     * {@link #rowLabels}, the fixed {@link #classLabel} for every row, or {@code null} when the run is unconditional.
     * (The model function keeps taking {@link #rowLabels}: a fixed class is applied by the guidance itself.)
     */
    public long[] dataLabels(long[] seeds, int numClasses) {
        if (perSeedClass) {
            return rowLabels(seeds, numClasses);
        }
        if (classLabel == null) {
            return null;
        }
        if (numClasses > 0 && classLabel >= numClasses) {
            throw new IllegalArgumentException("class label " + classLabel + " is out of range for a model with "
                    + numClasses + " classes");
        }
        long[] l = new long[seeds.length];
        java.util.Arrays.fill(l, classLabel);
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
