package io.solvertune.numerics.schedule;

/**
 * EDM / variance-exploding parameterisation: {@code alpha = 1}, {@code sigma = t}, so time is the noise level and
 * {@code lambda = -log t}. Sampling runs from {@code sigmaMax} to {@code sigmaMin}.
 */
public final class EdmSchedule implements NoiseSchedule {
    private final double sigmaMin;
    private final double sigmaMax;

    public EdmSchedule(double sigmaMin, double sigmaMax) {
        if (!(sigmaMin > 0.0) || !(sigmaMax > sigmaMin)) {
            throw new IllegalArgumentException("edm needs 0 < sigmaMin < sigmaMax, got " + sigmaMin + ", " + sigmaMax);
        }
        this.sigmaMin = sigmaMin;
        this.sigmaMax = sigmaMax;
    }

    /** The EDM defaults (0.002, 80). */
    public static EdmSchedule standard() {
        return new EdmSchedule(0.002, 80.0);
    }

    @Override
    public double logAlpha(double t) {
        return 0.0;
    }

    @Override
    public double alpha(double t) {
        return 1.0;
    }

    @Override
    public double sigma(double t) {
        return t;
    }

    @Override
    public double logSigma(double t) {
        return Math.log(t);
    }

    @Override
    public double lambda(double t) {
        return -Math.log(t);
    }

    @Override
    public double inverseLambda(double lambda) {
        return Math.exp(-lambda);
    }

    @Override
    public double dAlphaDt(double t) {
        return 0.0;
    }

    @Override
    public double dSigmaDt(double t) {
        return 1.0;
    }

    @Override
    public double tMax() {
        return sigmaMax;
    }

    @Override
    public double defaultTEnd() {
        return sigmaMin;
    }

    @Override
    public ScheduleSpec spec() {
        return new ScheduleSpec.Edm(sigmaMin, sigmaMax);
    }
}
