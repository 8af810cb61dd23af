package io.solvertune.numerics.schedule;

/**
 * Variance-preserving schedules: {@code alpha^2 + sigma^2 = 1}. Subclasses only define {@code log alpha(t)},
 * its inverse in terms of {@code log alpha} and its derivative.
 */
public abstract class VpSchedule implements NoiseSchedule {

    @Override
    public final double sigma(double t) {
        return Math.sqrt(-Math.expm1(2.0 * logAlpha(t)));
    }

    @Override
    public final double logSigma(double t) {
        return 0.5 * Math.log(-Math.expm1(2.0 * logAlpha(t)));
    }

    @Override
    public final double lambda(double t) {
        double la = logAlpha(t);
        return la - 0.5 * Math.log(-Math.expm1(2.0 * la));
    }

    /** {@code log alpha} of the point with half log-SNR {@code lambda}: {@code -0.5 log(1 + e^{-2 lambda})}. */
    protected static double logAlphaOfLambda(double lambda) {
        return -0.5 * logAddExp(0.0, -2.0 * lambda);
    }

    @Override
    public final double inverseLambda(double lambda) {
        return timeOfLogAlpha(logAlphaOfLambda(lambda));
    }

    /** The time at which {@code log alpha(t) = logAlpha}. */
    protected abstract double timeOfLogAlpha(double logAlpha);

    /** {@code d log alpha / dt}. */
    protected abstract double dLogAlphaDt(double t);

    @Override
    public final double dAlphaDt(double t) {
        return alpha(t) * dLogAlphaDt(t);
    }

    @Override
    public final double dSigmaDt(double t) {
        double a2 = Math.exp(2.0 * logAlpha(t));
        return -a2 * dLogAlphaDt(t) / sigma(t);
    }

    /** Numerically stable {@code log(e^a + e^b)}. */
    static double logAddExp(double a, double b) {
        double m = Math.max(a, b);
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        return m + Math.log1p(Math.exp(-Math.abs(a - b)));
    }
}
