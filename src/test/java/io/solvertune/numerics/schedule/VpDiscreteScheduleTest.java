package io.solvertune.numerics.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Discrete VP schedules against diffusers' {@code alphas_cumprod} (recomputed independently in
 * {@link DiffusersReference}) and DPM-Solver's {@code NoiseScheduleVP('discrete')} conventions
 * (methods.md §0): grid {@code t_n = (n+1)/N'}, piecewise-linear log alpha with linear extrapolation,
 * lambda clipping at -5.1, network time {@code N' t - 1}.
 */
class VpDiscreteScheduleTest {
    static final int N = 1000;

    /**
     * alphas_cumprod is a product of 1000 factors; the schedule sums 1000 log1p terms instead. Each route has relative
     * rounding error of order N * 2^-53 ~ 1e-13, so 1e-12 relative leaves a 10x margin while still catching any
     * off-by-one in the grid (which changes alphas_cumprod by ~beta ~ 1e-4 relative at least).
     */
    static final double REL_TOL = 1e-12;

    static Stream<Arguments> presets() {
        return Stream.of(
                Arguments.of(BetaSchedule.LINEAR, DiffusersReference.linearBetas(1e-4, 0.02, N)),
                Arguments.of(BetaSchedule.SCALED_LINEAR, DiffusersReference.scaledLinearBetas(0.00085, 0.012, N)),
                Arguments.of(BetaSchedule.SQUAREDCOS_CAP_V2, DiffusersReference.squaredcosCapV2Betas(N)));
    }

    @ParameterizedTest
    @MethodSource("presets")
    void gridValuesEqualDiffusersAlphasCumprod(BetaSchedule preset, double[] betas) {
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(preset, N);
        double[] ac = DiffusersReference.alphasCumprod(betas);
        int kept = s.gridSize();
        for (int n = 0; n < kept; n++) {
            double t = (n + 1.0) / kept;
            double a2 = s.alpha(t) * s.alpha(t);
            assertEquals(ac[n], a2, REL_TOL * ac[n], preset + ": alpha(t_" + n + ")^2");
            // sigma^2 at the grid point equals 1 - alphas_cumprod (relative to sigma^2, which is >= 1e-4 here)
            double s2 = s.sigma(t) * s.sigma(t);
            assertEquals(1.0 - ac[n], s2, REL_TOL, preset + ": sigma(t_" + n + ")^2");
        }
        double[] acSchedule = s.alphasCumprod();
        assertEquals(kept, acSchedule.length);
        for (int n = 0; n < kept; n++) {
            assertEquals(ac[n], acSchedule[n], REL_TOL * ac[n], preset + ": alphasCumprod()[" + n + "]");
        }
    }

    @ParameterizedTest
    @MethodSource("presets")
    void logAlphaIsPiecewiseLinearInTimeWithLinearExtrapolation(BetaSchedule preset, double[] betas) {
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(preset, N);
        double[] ac = DiffusersReference.alphasCumprod(betas);
        int kept = s.gridSize();
        double[] la = new double[kept];
        for (int n = 0; n < kept; n++) {
            la[n] = 0.5 * Math.log(ac[n]);
        }
        // Midpoints and an off-centre point of every segment: linear interpolation of log alpha over t.
        for (int n = 0; n + 1 < kept; n++) {
            double t0 = (n + 1.0) / kept;
            double t1 = (n + 2.0) / kept;
            for (double w : new double[] {0.5, 0.173}) {
                double t = t0 + w * (t1 - t0);
                double expected = la[n] + (t - t0) / (t1 - t0) * (la[n + 1] - la[n]);
                // log alpha is O(1) at most (>= -3.4 for the kept grid); 1e-12 absolute is ~1e4 ulp of it
                assertEquals(expected, s.logAlpha(t), REL_TOL * Math.max(1.0, Math.abs(expected)),
                        preset + ": logAlpha inside segment " + n + " at w=" + w);
            }
        }
        // Below the first grid point 1/N': extrapolate the first segment (DPM-Solver's interpolate_fn).
        double slope0 = (la[1] - la[0]) * kept;
        for (double t : new double[] {0.75 / kept, 0.5 / kept, 0.25 / kept}) {
            double expected = la[0] + (t - 1.0 / kept) * slope0;
            // log alpha here is O(1e-4) with O(1e-16) rounding in both routes; a clamped (flat) extrapolation would be
            // off by |slope| * (1/N' - t) >= 1e-6, so 1e-14 separates the conventions by 8 orders of magnitude
            assertEquals(expected, s.logAlpha(t), 1e-14, preset + ": extrapolated logAlpha at t=" + t);
        }
        // Above t = 1: extrapolate the last segment.
        double slopeN = (la[kept - 1] - la[kept - 2]) * kept;
        double tAbove = 1.0 + 0.3 / kept;
        assertEquals(la[kept - 1] + 0.3 / kept * slopeN, s.logAlpha(tAbove), REL_TOL * Math.abs(la[kept - 1]));
    }

    /**
     * Absolute anchors computed with numpy (float64), independent of both Java implementations:
     * <pre>
     * import numpy as np, math
     * N = 1000
     * b = np.linspace(0.00085**0.5, 0.012**0.5, N) ** 2; ac = np.cumprod(1 - b)
     * ac[0], ac[499], ac[999]   # 0.99915, 0.27766965045646763, 0.004660098513077238
     * b = np.linspace(1e-4, 0.02, N); ac = np.cumprod(1 - b)
     * ac[0], ac[499], ac[999]   # 0.9999, 0.07858724288177824, 4.035829765375676e-05
     * abar = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
     * b = np.array([min(1 - abar((i + 1) / N) / abar(i / N), 0.999) for i in range(N)]); ac = np.cumprod(1 - b)
     * ac[0], ac[499]            # 0.999958715775178, 0.4938435904406382
     * lam = 0.5 * np.log(ac) - 0.5 * np.log(1 - ac); int((lam >= -5.1).sum())  # 996
     * lam[995], lam[996]        # -5.077755717125516, -5.365443457225311
     * </pre>
     */
    @Test
    void pinnedNumpyValues() {
        VpDiscreteSchedule sd = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, N);
        assertEquals(0.99915, a2(sd, 1), REL_TOL);
        assertEquals(0.27766965045646763, a2(sd, 500), REL_TOL * 0.28);
        assertEquals(0.004660098513077238, a2(sd, 1000), REL_TOL * 0.0047);

        VpDiscreteSchedule ddpm = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, N);
        assertEquals(0.9999, a2(ddpm, 1), REL_TOL);
        assertEquals(0.07858724288177824, a2(ddpm, 500), REL_TOL * 0.079);
        assertEquals(4.035829765375676e-05, a2(ddpm, 1000), REL_TOL * 4.04e-5);

        VpDiscreteSchedule cos = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, N);
        assertEquals(996, cos.gridSize());
        assertEquals(0.999958715775178, Math.exp(2 * cos.logAlpha(1.0 / 996)), REL_TOL);
        assertEquals(0.4938435904406382, Math.exp(2 * cos.logAlpha(500.0 / 996)), REL_TOL * 0.5);
        // lambda at the last kept grid point (t = 1); 1e-12 absolute: lambda is O(5) and computed from an O(1e-2)
        // alphas_cumprod whose own relative error is <= 1e-13
        assertEquals(-5.077755717125516, cos.lambda(1.0), 1e-12 * 5.1);
    }

    private static double a2(VpDiscreteSchedule s, int oneBasedIndex) {
        return Math.exp(2.0 * s.logAlpha(oneBasedIndex / (double) s.gridSize()));
    }

    @Test
    void cosinePresetIsClippedAtMinus5_1() {
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, N);
        double[] ac = DiffusersReference.alphasCumprod(DiffusersReference.squaredcosCapV2Betas(N));
        int kept = s.gridSize();
        assertTrue(kept < N, "the cosine preset reaches lambda < -5.1 and must be clipped; gridSize=" + kept);
        assertEquals(N, s.trainSteps());
        assertTrue(s.lambda(1.0) >= -5.1, "lambda at the last kept point: " + s.lambda(1.0));
        assertTrue(DiffusersReference.lambdaOf(ac[kept - 1]) >= -5.1);
        assertTrue(DiffusersReference.lambdaOf(ac[kept]) < -5.1,
                "the first dropped point would have had lambda " + DiffusersReference.lambdaOf(ac[kept]));
        // the kept count is exactly the number of points with lambda >= -5.1 (lambda decreases along the grid)
        int expectedKept = 0;
        for (double a : ac) {
            if (DiffusersReference.lambdaOf(a) >= -5.1) {
                expectedKept++;
            }
        }
        assertEquals(expectedKept, kept);
        // the grid is re-spaced: t = 1 is the last kept point, t = 1/N' the first
        assertEquals(ac[kept - 1], Math.exp(2 * s.logAlpha(1.0)), REL_TOL * ac[kept - 1]);
        assertEquals(ac[0], Math.exp(2 * s.logAlpha(1.0 / kept)), REL_TOL);
        assertEquals(1.0 / kept, s.defaultTEnd(), 0.0);
        // network input time with the true grid length N' (not the hard-coded 1000)
        assertEquals(kept - 1.0, s.modelInputTime(1.0), 1e-12);
        assertEquals(0.0, s.modelInputTime(1.0 / kept), 1e-12);
    }

    @Test
    void clippingCanBeDisabled() {
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, N, Double.NaN, Double.NaN,
                Double.NEGATIVE_INFINITY);
        assertEquals(N, s.gridSize());
        assertTrue(s.lambda(1.0) < -5.1);
        assertEquals(N - 1.0, s.modelInputTime(1.0), 1e-12);
    }

    @ParameterizedTest
    @MethodSource("presets")
    void sdAndDdpmAreNotClipped(BetaSchedule preset, double[] betas) {
        if (preset == BetaSchedule.SQUAREDCOS_CAP_V2) {
            return; // covered by cosinePresetIsClippedAtMinus5_1
        }
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(preset, N);
        assertEquals(N, s.gridSize(), preset + " must keep all 1000 points (lambda(1) = " + s.lambda(1.0) + ")");
        assertTrue(s.lambda(1.0) > -5.1);
    }

    @ParameterizedTest
    @MethodSource("presets")
    void modelInputTimeIsTrainingIndex(BetaSchedule preset, double[] betas) {
        VpDiscreteSchedule s = VpDiscreteSchedule.preset(preset, N);
        int kept = s.gridSize();
        // N' t - 1 at the grid points is the index n; the product N' (n+1)/N' is exact to 1 ulp of n
        for (int n = 0; n < kept; n += 37) {
            assertEquals(n, s.modelInputTime((n + 1.0) / kept), 1e-12 * Math.max(1, n), "index " + n);
        }
        assertEquals(kept - 1.0, s.modelInputTime(1.0), 0.0);
        assertEquals(0.0, s.modelInputTime(1.0 / kept), 1e-13);
        // between grid points the index is fractional and linear in t
        assertEquals(499.5, s.modelInputTime(500.5 / kept), 1e-12 * 500);
    }

    @Test
    void fromBetasAndFromAlphasCumprodAgreeWithPreset() {
        double[] betas = DiffusersReference.scaledLinearBetas(0.00085, 0.012, N);
        double[] ac = DiffusersReference.alphasCumprod(betas);
        VpDiscreteSchedule p = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, N);
        VpDiscreteSchedule b = VpDiscreteSchedule.fromBetas(betas);
        VpDiscreteSchedule a = VpDiscreteSchedule.fromAlphasCumprod(ac, VpDiscreteSchedule.DEFAULT_CLIPPED_LAMBDA);
        for (double t : new double[] {1e-3, 0.0123, 0.25, 0.5, 0.777, 1.0}) {
            // different but equivalent arithmetic (numpy vs torch linspace, log of product vs sum of logs): 1e-12
            assertEquals(p.lambda(t), b.lambda(t), 1e-12 * Math.max(1, Math.abs(p.lambda(t))), "betas at t=" + t);
            assertEquals(p.lambda(t), a.lambda(t), 1e-12 * Math.max(1, Math.abs(p.lambda(t))), "ac at t=" + t);
        }
    }

    @Test
    void invalidDiscreteInputsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VpDiscreteSchedule.fromBetas(new double[] {0.1, 1.0, 0.2}));
        assertTrue(e.getMessage().contains("betas") && e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> VpDiscreteSchedule.fromAlphasCumprod(new double[] {0.9, 0.95, 0.5}, -5.1));
        assertTrue(e.getMessage().contains("decrease") && e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> VpDiscreteSchedule.fromAlphasCumprod(new double[] {1.0, 0.5}, -5.1));
        assertTrue(e.getMessage().contains("(0, 1)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VpDiscreteSchedule.fromBetas(new double[] {0.1}));
        // clipping that leaves fewer than two points
        assertThrows(IllegalArgumentException.class, () -> VpDiscreteSchedule.preset(BetaSchedule.LINEAR, N, 1e-4,
                0.02, 100.0));
    }
}
