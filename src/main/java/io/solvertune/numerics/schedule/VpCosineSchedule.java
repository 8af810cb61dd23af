package io.solvertune.numerics.schedule;

/**
 * Continuous VP cosine schedule (iDDPM) as in the UniPC / DPM-Solver-v3 copies of {@code NoiseScheduleVP}:
 * {@code log alpha_t = log cos((t+s)/(1+s) π/2) - log cos(s/(1+s) π/2)}, s = 0.008, T = 0.9946.
 */
public final class VpCosineSchedule extends VpSchedule {
    private static final double S = 0.008;
    private static final double LOG_ALPHA_0 = Math.log(Math.cos(S / (1.0 + S) * Math.PI / 2.0));

    @Override
    public double logAlpha(double t) {
        return Math.log(Math.cos((t + S) / (1.0 + S) * Math.PI / 2.0)) - LOG_ALPHA_0;
    }

    @Override
    protected double dLogAlphaDt(double t) {
        double u = (t + S) / (1.0 + S) * Math.PI / 2.0;
        return -Math.tan(u) * Math.PI / (2.0 * (1.0 + S));
    }

    @Override
    protected double timeOfLogAlpha(double logAlpha) {
        return Math.acos(Math.exp(logAlpha + LOG_ALPHA_0)) * 2.0 * (1.0 + S) / Math.PI - S;
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
