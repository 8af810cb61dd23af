package io.solvertune.numerics.schedule;

import java.util.Arrays;

/**
 * A discrete-time VP schedule (DDPM / Stable Diffusion) in DPM-Solver's continuous-time convention.
 *
 * <ul>
 *   <li>{@code log alpha_n = 0.5 cumsum(log(1 - beta))} (or {@code 0.5 log(alphas_cumprod)}), n = 0..N-1;</li>
 *   <li>the tail where {@code lambda < clippedLambda} (default -5.1, as in the current official
 *       {@code dpm_solver_pytorch.py}) is dropped, which shortens the grid to N' points;</li>
 *   <li>continuous time {@code t_n = (n + 1) / N'}; {@code log alpha(t)} is piecewise linear in {@code t} between
 *       grid points and linearly extrapolated outside;</li>
 *   <li>a network receives its training index {@code n = N' t - 1} — computed with the true grid length, not the
 *       hard-coded 1000 of the upstream wrapper (LuChengTHU/dpm-solver issue #60).</li>
 * </ul>
 */
public final class VpDiscreteSchedule extends VpSchedule {

    /** Official default clipping level of the half log-SNR. */
    public static final double DEFAULT_CLIPPED_LAMBDA = -5.1;

    private final double[] tGrid;
    private final double[] logAlphaGrid;
    private final double[] slopes;
    private final int trainSteps;
    private final ScheduleSpec spec;

    private VpDiscreteSchedule(double[] logAlphas, double clippedLambda, ScheduleSpec spec) {
        if (logAlphas.length < 2) {
            throw new IllegalArgumentException("a discrete schedule needs at least 2 timesteps");
        }
        for (int i = 0; i < logAlphas.length; i++) {
            double la = logAlphas[i];
            if (!(la < 0.0) || Double.isNaN(la)) {
                throw new IllegalArgumentException("alphas_cumprod must lie in (0, 1); index " + i + " gives log alpha " + la);
            }
            if (i > 0 && !(la < logAlphas[i - 1])) {
                throw new IllegalArgumentException("alphas_cumprod must decrease strictly; it does not at index " + i);
            }
        }
        this.trainSteps = logAlphas.length;
        double[] kept = clip(logAlphas, clippedLambda);
        int n = kept.length;
        this.logAlphaGrid = kept;
        this.tGrid = new double[n];
        for (int i = 0; i < n; i++) {
            tGrid[i] = (double) (i + 1) / n;
        }
        this.slopes = new double[n - 1];
        for (int i = 0; i < n - 1; i++) {
            slopes[i] = (logAlphaGrid[i + 1] - logAlphaGrid[i]) / (tGrid[i + 1] - tGrid[i]);
        }
        this.spec = spec;
    }

    /** Drops the tail whose half log-SNR lies below {@code clippedLambda} (no clipping if it is -infinity). */
    private static double[] clip(double[] logAlphas, double clippedLambda) {
        int drop = 0;
        for (double la : logAlphas) {
            double lambda = la - 0.5 * Math.log(-Math.expm1(2.0 * la));
            if (lambda < clippedLambda) {
                drop++;
            }
        }
        if (drop > logAlphas.length - 2) {
            throw new IllegalArgumentException("lambda clipping at " + clippedLambda + " would leave fewer than 2 timesteps");
        }
        return Arrays.copyOf(logAlphas, logAlphas.length - drop);
    }

    /** From betas. */
    public static VpDiscreteSchedule fromBetas(double[] betas) {
        return fromBetas(betas, DEFAULT_CLIPPED_LAMBDA);
    }

    /** From betas, with an explicit clipping level ({@code Double.NEGATIVE_INFINITY} disables clipping). */
    public static VpDiscreteSchedule fromBetas(double[] betas, double clippedLambda) {
        double[] la = new double[betas.length];
        double acc = 0.0;
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0.0 && betas[i] < 1.0)) {
                throw new IllegalArgumentException("betas must lie in (0, 1); index " + i + " is " + betas[i]);
            }
            acc += Math.log1p(-betas[i]);
            la[i] = 0.5 * acc;
        }
        return new VpDiscreteSchedule(la, clippedLambda,
                ScheduleSpec.discreteBetas(betas.clone(), clippedLambda));
    }

    /** From alphas_cumprod (diffusers' {@code alphas_cumprod}, DDPM's alpha-bar). */
    public static VpDiscreteSchedule fromAlphasCumprod(double[] alphasCumprod, double clippedLambda) {
        double[] la = new double[alphasCumprod.length];
        for (int i = 0; i < la.length; i++) {
            la[i] = 0.5 * Math.log(alphasCumprod[i]);
        }
        return new VpDiscreteSchedule(la, clippedLambda,
                ScheduleSpec.discreteAlphasCumprod(alphasCumprod.clone(), clippedLambda));
    }

    /** A named preset, e.g. {@code scaled_linear} with 1000 steps and the default beta range. */
    public static VpDiscreteSchedule preset(BetaSchedule preset, int n, double betaStart, double betaEnd,
                                            double clippedLambda) {
        double[] betas = preset.betas(n, betaStart, betaEnd);
        double[] la = new double[n];
        double acc = 0.0;
        for (int i = 0; i < n; i++) {
            acc += Math.log1p(-betas[i]);
            la[i] = 0.5 * acc;
        }
        return new VpDiscreteSchedule(la, clippedLambda,
                ScheduleSpec.discretePreset(preset, n, betaStart, betaEnd, clippedLambda));
    }

    /** A named preset with its default beta range and the default clipping. */
    public static VpDiscreteSchedule preset(BetaSchedule preset, int n) {
        return preset(preset, n, preset.defaultBetaStart(), preset.defaultBetaEnd(), DEFAULT_CLIPPED_LAMBDA);
    }

    /** Number of grid points kept after clipping (N'). */
    public int gridSize() {
        return logAlphaGrid.length;
    }

    /** Number of training timesteps before clipping (N). */
    public int trainSteps() {
        return trainSteps;
    }

    /** A copy of the kept {@code log alpha_n}. */
    public double[] logAlphaGrid() {
        return logAlphaGrid.clone();
    }

    /** {@code alphas_cumprod} of the kept grid. */
    public double[] alphasCumprod() {
        double[] out = new double[logAlphaGrid.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.exp(2.0 * logAlphaGrid[i]);
        }
        return out;
    }

    @Override
    public double logAlpha(double t) {
        int n = tGrid.length;
        int k; // segment [k, k+1]
        if (t <= tGrid[0]) {
            k = 0;
        } else if (t >= tGrid[n - 1]) {
            k = n - 2;
        } else {
            k = Arrays.binarySearch(tGrid, t);
            if (k >= 0) {
                return logAlphaGrid[k];
            }
            k = -k - 2;
        }
        return logAlphaGrid[k] + (t - tGrid[k]) * (logAlphaGrid[k + 1] - logAlphaGrid[k]) / (tGrid[k + 1] - tGrid[k]);
    }

    @Override
    protected double dLogAlphaDt(double t) {
        int n = tGrid.length;
        if (t <= tGrid[0]) {
            return slopes[0];
        }
        if (t >= tGrid[n - 1]) {
            return slopes[n - 2];
        }
        int k = Arrays.binarySearch(tGrid, t);
        if (k < 0) {
            k = -k - 2;
        }
        return slopes[Math.min(k, n - 2)];
    }

    @Override
    protected double timeOfLogAlpha(double logAlpha) {
        // log alpha decreases with n: interpolate t over the flipped (increasing) log-alpha grid.
        int n = logAlphaGrid.length;
        int k; // segment [k, k+1] in original order (logAlphaGrid[k] >= logAlpha >= logAlphaGrid[k+1])
        if (logAlpha >= logAlphaGrid[0]) {
            k = 0;
        } else if (logAlpha <= logAlphaGrid[n - 1]) {
            k = n - 2;
        } else {
            int lo = 0;
            int hi = n - 1; // invariant: grid[lo] > logAlpha > grid[hi]
            while (hi - lo > 1) {
                int mid = (lo + hi) >>> 1;
                double g = logAlphaGrid[mid];
                if (g == logAlpha) {
                    return tGrid[mid];
                }
                if (g > logAlpha) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            k = lo;
        }
        double x0 = logAlphaGrid[k + 1];
        double x1 = logAlphaGrid[k];
        double y0 = tGrid[k + 1];
        double y1 = tGrid[k];
        return y0 + (logAlpha - x0) * (y1 - y0) / (x1 - x0);
    }

    @Override
    public double tMax() {
        return 1.0;
    }

    @Override
    public double defaultTEnd() {
        return 1.0 / tGrid.length;
    }

    @Override
    public double modelInputTime(double t) {
        return t * tGrid.length - 1.0;
    }

    @Override
    public ScheduleSpec spec() {
        return spec;
    }
}
