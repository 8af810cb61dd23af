package io.solvertune.numerics.schedule;

/**
 * Continuous VP cosine schedule (iDDPM) as in the UniPC / DPM-Solver-v3 copies of {@code NoiseScheduleVP}:
 * {@code log alpha_t = log cos((t+s)/(1+s) π/2) - log cos(s/(1+s) π/2)}, s = 0.008, T = 0.9946.
 */
public final class VpCosineSchedule extends VpSchedule {
    private static final double S = 0.008;
    private static final double U0 = S / (1.0 + S) * Math.PI / 2.0;
    private static final double TAN_U0 = Math.tan(U0);
    private static final double SIN_U0 = Math.sin(U0);
    private static final double COS_U0 = Math.cos(U0);

    /**
     * {@code log(cos(u0 + d)/cos(u0))} with {@code d = t/(1+s) π/2}, written as
     * {@code log1p(-2 sin^2(d/2) - tan(u0) sin d)} so that small t keeps full precision (the direct difference of
     * logs cancels).
     */
    @Override
    public double logAlpha(double t) {
        double d = t / (1.0 + S) * Math.PI / 2.0;
        double h = Math.sin(0.5 * d);
        return Math.log1p(-2.0 * h * h - TAN_U0 * Math.sin(d));
    }

    @Override
    protected double dLogAlphaDt(double t) {
        double u = (t + S) / (1.0 + S) * Math.PI / 2.0;
        return -Math.tan(u) * Math.PI / (2.0 * (1.0 + S));
    }

    @Override
    protected double timeOfLogAlpha(double logAlpha) {
        // cos u = cos(u0) e^{log alpha};  sin^2 u = sin^2 u0 - cos^2 u0 expm1(2 log alpha)  (no cancellation at small t)
        double sinU = Math.sqrt(SIN_U0 * SIN_U0 - COS_U0 * COS_U0 * Math.expm1(2.0 * logAlpha));
        double u = Math.atan2(sinU, COS_U0 * Math.exp(logAlpha));
        return (u - U0) * 2.0 * (1.0 + S) / Math.PI;
    }

    @Override
    public double tMax() {
        return 0.9946;
    }

    @Override
    public double defaultTEnd() {
        return 1e-3;
    }

    @Override
    public ScheduleSpec spec() {
        return new ScheduleSpec.VpCosine();
    }
}
