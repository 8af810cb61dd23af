package io.solvertune.tuning.job;

/**
 * Upper bounds on what one job spec may ask for, so that no submitter can make the planner, the database or the
 * workers allocate without limit. The service reads them from {@code solvertune.limits.*}; the command line uses
 * {@link #DEFAULTS}. Every example job under {@code tuning-jobs/} stays well inside them.
 *
 * @param maxSeeds          training plus held-out seeds of one job (each also bounds {@code ems.samples} and
 *                          {@code teacher.checkSeeds})
 * @param maxShardsPerSplit teacher shards of one split (training or held-out) per guidance scale: {@code shardSize}
 *                          must be at least {@code ceil(seeds / maxShardsPerSplit)}
 * @param maxStages         stages of the whole plan (shards, merges, baseline, fits, validation, publish)
 * @param maxNfeValues      entries of the {@code nfe} list
 * @param maxGuidanceValues entries of the {@code guidance} list
 * @param maxGuidance       largest guidance scale (the smallest is {@value #MIN_GUIDANCE})
 * @param maxTeacherSteps   largest {@code teacher.steps}
 * @param maxBatch          largest {@code batch} (rows of one sampling batch, held in memory at once)
 */
public record JobLimits(int maxSeeds, int maxShardsPerSplit, int maxStages, int maxNfeValues, int maxGuidanceValues,
                        double maxGuidance, int maxTeacherSteps, int maxBatch) {

    /** Smallest guidance scale: below it the scale is noise, and its stage-name label would grow without bound. */
    public static final double MIN_GUIDANCE = 1e-3;
    /** Largest NFE of one entry of the {@code nfe} list (fast samplers; not a resource limit). */
    public static final int MAX_NFE = 50;

    /** The defaults (also those of {@code application.properties}). */
    public static final JobLimits DEFAULTS = new JobLimits(100_000, 256, 2_000, 16, 8, 100.0, 100_000, 4_096);

    public JobLimits {
        if (maxSeeds < 6 || maxShardsPerSplit < 1 || maxStages < 1 || maxNfeValues < 1 || maxGuidanceValues < 1
                || !(maxGuidance >= MIN_GUIDANCE) || !Double.isFinite(maxGuidance) || maxTeacherSteps < 2
                || maxBatch < 1) {
            throw new IllegalArgumentException("job limits out of range: " + this);
        }
    }
}
