package io.solvertune.numerics.schedule;

/**
 * A diffusion forward process {@code x_t = alpha(t) x_0 + sigma(t) eps} on a continuous time axis.
 *
 * <p>Time runs from {@link #tMax()} (pure noise) down towards 0 (data). Everything is in {@code double}: the
 * solvers' coefficient algebra is done here, on the host, never in tensors. {@code lambda(t) = log alpha - log sigma}
 * is the half log-SNR; it increases as {@code t} decreases.
 */
public interface NoiseSchedule {

    /** {@code log alpha(t)}. */
    double logAlpha(double t);

    /** {@code alpha(t)}. */
    default double alpha(double t) {
        return Math.exp(logAlpha(t));
    }

    /** {@code sigma(t)}. */
    double sigma(double t);

    /** {@code log sigma(t)}. */
    default double logSigma(double t) {
        return Math.log(sigma(t));
    }

    /** Half log-SNR {@code lambda(t) = log alpha(t) - log sigma(t)}. */
    default double lambda(double t) {
        return logAlpha(t) - logSigma(t);
    }

    /** The time whose half log-SNR is {@code lambda}. */
    double inverseLambda(double lambda);

    /** {@code d alpha / dt}, used to convert flow-velocity predictions. */
    double dAlphaDt(double t);

    /** {@code d sigma / dt}, used to convert flow-velocity predictions. */
    double dSigmaDt(double t);

    /** Largest time of the process (where sampling starts by default). */
    double tMax();

    /** Default end time of sampling (the smallest time a model was trained on). */
    double defaultTEnd();

    /** Default start time of sampling. */
    default double defaultTStart() {
        return tMax();
    }

    /**
     * Maps continuous time to the time value a network of this schedule receives. Discrete VP models receive
     * their training index {@code n = N t - 1}; continuous models receive {@code t}.
     */
    default double modelInputTime(double t) {
        return t;
    }

    /**
     * Time reparameterisation applied to time-based spacings (time_uniform, time_quadratic): a point {@code u}
     * of the uniform grid is sampled at {@code warpUniformTime(u)}. Identity except for shifted flow schedules.
     */
    default double warpUniformTime(double u) {
        return u;
    }

    /** Inverse of {@link #warpUniformTime(double)}. */
    default double unwarpUniformTime(double t) {
        return t;
    }

    /** Serializable description of this schedule (for specs and provenance). */
    ScheduleSpec spec();
}
