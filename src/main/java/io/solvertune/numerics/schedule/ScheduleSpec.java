package io.solvertune.numerics.schedule;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Serializable description of a {@link NoiseSchedule}: what model specs, provenance records and the REST API carry.
 * {@link #build()} validates and constructs the schedule.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ScheduleSpec.VpDiscrete.class, name = "vp_discrete"),
    @JsonSubTypes.Type(value = ScheduleSpec.VpLinear.class, name = "vp_linear"),
    @JsonSubTypes.Type(value = ScheduleSpec.VpCosine.class, name = "vp_cosine"),
    @JsonSubTypes.Type(value = ScheduleSpec.Edm.class, name = "edm"),
    @JsonSubTypes.Type(value = ScheduleSpec.RectifiedFlow.class, name = "rectified_flow"),
})
public sealed interface ScheduleSpec {

    /** Validates this description and builds the schedule. */
    NoiseSchedule build();

    /**
     * Discrete VP schedule: exactly one of {@code preset} (+ {@code numTrainTimesteps}, optional beta range),
     * {@code betas} or {@code alphasCumprod}. {@code clippedLambda} defaults to -5.1; use a very negative value to
     * disable clipping.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record VpDiscrete(String preset, Integer numTrainTimesteps, Double betaStart, Double betaEnd,
                      double[] betas, double[] alphasCumprod, Double clippedLambda) implements ScheduleSpec {

        /**
         * Longest discrete schedule built at all (a few arrays of this many doubles are allocated); servers accept
         * shorter ones only (their own limit).
         */
        public static final int MAX_LENGTH = 1_000_000;

        /** The field giving the schedule's length: numTrainTimesteps, betas or alphasCumprod. */
        @JsonIgnore
        public String lengthField() {
            return betas != null ? "betas" : alphasCumprod != null ? "alphasCumprod" : "numTrainTimesteps";
        }

        /** Number of training timesteps this spec describes (before lambda clipping). */
        @JsonIgnore
        public long length() {
            if (betas != null) {
                return betas.length;
            }
            if (alphasCumprod != null) {
                return alphasCumprod.length;
            }
            return numTrainTimesteps == null ? 1000 : numTrainTimesteps;
        }

        @Override
        public NoiseSchedule build() {
            double clip = clippedLambda == null ? VpDiscreteSchedule.DEFAULT_CLIPPED_LAMBDA : clippedLambda;
            int given = (preset != null ? 1 : 0) + (betas != null ? 1 : 0) + (alphasCumprod != null ? 1 : 0);
            if (given != 1) {
                throw new IllegalArgumentException(
                        "schedule: vp_discrete needs exactly one of 'preset', 'betas' or 'alphasCumprod'");
            }
            if (length() > MAX_LENGTH) {
                throw new IllegalArgumentException("schedule." + lengthField() + ": at most " + MAX_LENGTH
                        + " timesteps, got " + length());
            }
            if (betas != null) {
                return VpDiscreteSchedule.fromBetas(betas, clip);
            }
            if (alphasCumprod != null) {
                return VpDiscreteSchedule.fromAlphasCumprod(alphasCumprod, clip);
            }
            BetaSchedule b;
            try {
                b = BetaSchedule.fromId(preset);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("schedule.preset: " + e.getMessage(), e);
            }
            int n = numTrainTimesteps == null ? 1000 : numTrainTimesteps;
            if (n < 2) {
                throw new IllegalArgumentException("schedule.numTrainTimesteps: must be at least 2, got " + n);
            }
            double lo = betaStart == null ? b.defaultBetaStart() : betaStart;
            double hi = betaEnd == null ? b.defaultBetaEnd() : betaEnd;
            if (b != BetaSchedule.SQUAREDCOS_CAP_V2 && !(lo > 0 && hi > lo && hi < 1)) {
                throw new IllegalArgumentException("schedule: need 0 < betaStart < betaEnd < 1, got " + lo + ", " + hi);
            }
            return VpDiscreteSchedule.preset(b, n, lo, hi, clip);
        }

        @JsonIgnore
        public boolean isPreset() {
            return preset != null;
        }
    }

    /** Continuous VP linear (ScoreSDE) with {@code beta0}, {@code beta1}. */
    record VpLinear(double beta0, double beta1) implements ScheduleSpec {
        @Override
        public NoiseSchedule build() {
            return new VpLinearSchedule(beta0, beta1);
        }
    }

    /** Continuous VP cosine (iDDPM). */
    record VpCosine() implements ScheduleSpec {
        @Override
        public NoiseSchedule build() {
            return new VpCosineSchedule();
        }
    }

    /** EDM / VE: alpha = 1, sigma = t in [sigmaMin, sigmaMax]. */
    record Edm(double sigmaMin, double sigmaMax) implements ScheduleSpec {
        @Override
        public NoiseSchedule build() {
            return new EdmSchedule(sigmaMin, sigmaMax);
        }
    }

    /** Rectified flow with the SD3/Flux shift (1 = no shift). */
    record RectifiedFlow(double shift) implements ScheduleSpec {
        @Override
        public NoiseSchedule build() {
            return new RectifiedFlowSchedule(shift);
        }
    }

    static ScheduleSpec discreteBetas(double[] betas, double clippedLambda) {
        return new VpDiscrete(null, null, null, null, betas, null, clippedLambda);
    }

    static ScheduleSpec discreteAlphasCumprod(double[] ac, double clippedLambda) {
        return new VpDiscrete(null, null, null, null, null, ac, clippedLambda);
    }

    static ScheduleSpec discretePreset(BetaSchedule preset, int n, double betaStart, double betaEnd,
                                       double clippedLambda) {
        return new VpDiscrete(preset.id(), n, betaStart, betaEnd, null, null, clippedLambda);
    }
}
