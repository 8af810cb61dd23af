package io.solvertune.numerics.schedule;

/**
 * Rectified flow / flow matching (SD3, Flux): {@code alpha = 1 - t}, {@code sigma = t},
 * {@code lambda = log(1 - t) - log t}. The SD3/Flux {@code shift} warps time-based spacings:
 * a uniform time {@code u} is sampled at {@code t = shift u / (1 + (shift - 1) u)} (logSNR and Karras spacings,
 * which are defined by noise levels, are not warped). The network receives {@code t} (multiply by 1000 in the
 * model adapter if it was trained on 0..1000).
 */
public final class RectifiedFlowSchedule implements NoiseSchedule {
    private final double shift;

    public RectifiedFlowSchedule(double shift) {
        if (!(shift > 0.0) || Double.isInfinite(shift)) {
            throw new IllegalArgumentException("rectified_flow shift must be a positive number, got " + shift);
        }
        this.shift = shift;
    }

    public double shift() {
        return shift;
    }

    @Override
    public double logAlpha(double t) {
        return Math.log1p(-t);
    }

    @Override
    public double alpha(double t) {
        return 1.0 - t;
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
    public double inverseLambda(double lambda) {
        // t = 1 / (1 + e^lambda), evaluated without overflow.
        return lambda >= 0 ? Math.exp(-lambda) / (1.0 + Math.exp(-lambda)) : 1.0 / (1.0 + Math.exp(lambda));
    }

    @Override
    public double dAlphaDt(double t) {
        return -1.0;
    }

    @Override
    public double dSigmaDt(double t) {
        return 1.0;
    }

    @Override
    public double tMax() {
        return 1.0;
    }

    @Override
    public double defaultTEnd() {
        return 1e-3;
    }

    @Override
    public double warpUniformTime(double u) {
        return shift * u / (1.0 + (shift - 1.0) * u);
    }

    @Override
    public double unwarpUniformTime(double t) {
        return t / (shift - (shift - 1.0) * t);
    }

    @Override
    public ScheduleSpec spec() {
        return new ScheduleSpec.RectifiedFlow(shift);
    }
}
