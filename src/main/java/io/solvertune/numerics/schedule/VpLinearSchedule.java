package io.solvertune.numerics.schedule;

/** Continuous VP "linear" schedule of ScoreSDE: {@code log alpha_t = -(beta1 - beta0) t^2 / 4 - beta0 t / 2}. */
public final class VpLinearSchedule extends VpSchedule {
    private final double beta0;
    private final double beta1;

    public VpLinearSchedule(double beta0, double beta1) {
        if (!(beta0 > 0.0) || !(beta1 > beta0)) {
            throw new IllegalArgumentException("vp_linear needs 0 < beta0 < beta1, got beta0=" + beta0 + ", beta1=" + beta1);
        }
        this.beta0 = beta0;
        this.beta1 = beta1;
    }

    /** ScoreSDE defaults (0.1, 20). */
    public static VpLinearSchedule standard() {
        return new VpLinearSchedule(0.1, 20.0);
    }

    @Override
    public double logAlpha(double t) {
        return -0.25 * t * t * (beta1 - beta0) - 0.5 * t * beta0;
    }

    @Override
    protected double dLogAlphaDt(double t) {
        return -0.5 * t * (beta1 - beta0) - 0.5 * beta0;
    }

    @Override
    protected double timeOfLogAlpha(double logAlpha) {
        // Solve (beta1-beta0)/4 t^2 + beta0/2 t + logAlpha = 0 for the positive root, in the cancellation-free form
        // of the official code: t = tmp / (sqrt(beta0^2 + tmp) + beta0) / (beta1 - beta0), tmp = -4 (beta1-beta0) logAlpha.
        double tmp = -4.0 * (beta1 - beta0) * logAlpha;
        double delta = beta0 * beta0 + tmp;
        return tmp / (Math.sqrt(delta) + beta0) / (beta1 - beta0);
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
    public ScheduleSpec spec() {
        return new ScheduleSpec.VpLinear(beta0, beta1);
    }
}
