package io.solvertune.numerics.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Inverse-consistency of every schedule: {@code lambda -> t -> lambda} over the whole lambda range a sampler uses,
 * {@code t -> lambda -> t} where {@code lambda} is invertible, VP identities and the time derivatives.
 */
class ScheduleRoundTripTest {
    /** Number of sample points per range (plus both ends). */
    static final int SAMPLES = 2001;

    /**
     * A schedule with the time range {@code [tLo, tHi]} on which lambda is finite and strictly monotone; the lambda
     * range of the test is {@code [lambda(tHi), lambda(tLo)]}.
     */
    record Case(String name, NoiseSchedule schedule, double tLo, double tHi) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        VpDiscreteSchedule ddpm = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000);
        VpDiscreteSchedule sd = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        VpDiscreteSchedule cos = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, 1000);
        return Stream.of(
                new Case("vp_discrete linear", ddpm, ddpm.defaultTEnd(), 1.0),
                new Case("vp_discrete scaled_linear", sd, sd.defaultTEnd(), 1.0),
                new Case("vp_discrete squaredcos_cap_v2", cos, cos.defaultTEnd(), 1.0),
                new Case("vp_linear", VpLinearSchedule.standard(), 1e-4, 1.0),
                new Case("vp_cosine", new VpCosineSchedule(), 1e-4, 0.9946),
                new Case("edm", EdmSchedule.standard(), 0.002, 80.0),
                // rectified flow: lambda = -inf at t = 1; [1e-4, 1 - 1e-4] covers |lambda| <= 9.2
                new Case("rectified_flow", new RectifiedFlowSchedule(1.0), 1e-4, 1.0 - 1e-4),
                new Case("rectified_flow shift 3", new RectifiedFlowSchedule(3.0), 1e-4, 1.0 - 1e-4))
                .map(Arguments::of);
    }

    /**
     * lambda -> t -> lambda to 1e-12 relative to max(1, |lambda|). The inverse maps are exact up to rounding
     * (piecewise-linear interpolation and its exact inverse for discrete schedules, closed forms otherwise); the
     * conditioning d lambda / d log-alpha = 1 / sigma^2 <= 1e4 amplifies ~1e-17 absolute errors of log alpha near
     * t = 1/N to ~1e-13, below the tolerance.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lambdaToTimeToLambda(Case c) {
        NoiseSchedule s = c.schedule();
        double lHi = s.lambda(c.tLo());
        double lLo = s.lambda(c.tHi());
        assertTrue(lHi > lLo, c + ": lambda must decrease with t");
        double worst = 0;
        for (int i = 0; i < SAMPLES; i++) {
            double lambda = lLo + (lHi - lLo) * i / (SAMPLES - 1);
            if (i == SAMPLES - 1) {
                lambda = lHi;
            }
            double t = s.inverseLambda(lambda);
            double back = s.lambda(t);
            double err = Math.abs(back - lambda) / Math.max(1.0, Math.abs(lambda));
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-12, c + ": lambda " + lambda + " -> t " + t + " -> " + back + " (scaled err " + err + ")");
        }
        System.out.printf("lambda round trip %-32s worst %.2e%n", c, worst);
    }

    /**
     * t -> lambda -> t to 1e-12 relative to t. On these ranges d lambda / dt is bounded away from 0, so a
     * well-conditioned inverse recovers t to a few ulp (~1e-15 relative); 1e-12 leaves ample margin.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void timeToLambdaToTime(Case c) {
        NoiseSchedule s = c.schedule();
        double worst = 0;
        for (int i = 0; i < SAMPLES; i++) {
            // geometric spacing reaches the small-t end densely, where the inverses are most delicate
            double t = c.tLo() * Math.pow(c.tHi() / c.tLo(), i / (SAMPLES - 1.0));
            if (i == SAMPLES - 1) {
                t = c.tHi();
            }
            double back = s.inverseLambda(s.lambda(t));
            double err = Math.abs(back - t) / t;
            worst = Math.max(worst, err);
            assertTrue(err <= 1e-12, c + ": t " + t + " -> lambda -> " + back + " (rel err " + err + ")");
        }
        System.out.printf("time round trip   %-32s worst %.2e%n", c, worst);
    }

    /** alpha^2 + sigma^2 = 1 for VP schedules: two roundings of O(1) numbers, so 4 ulp of 1. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void vpIdentityAndLambdaDefinition(Case c) {
        NoiseSchedule s = c.schedule();
        for (int i = 0; i <= 200; i++) {
            double t = c.tLo() + (c.tHi() - c.tLo()) * i / 200.0;
            double a = s.alpha(t);
            double sg = s.sigma(t);
            if (s instanceof VpSchedule) {
                assertEquals(1.0, a * a + sg * sg, 1e-15, c + ": alpha^2 + sigma^2 at t=" + t);
            }
            assertEquals(Math.log(a), s.logAlpha(t), 1e-14 * Math.max(1, Math.abs(s.logAlpha(t))));
            assertEquals(Math.log(sg), s.logSigma(t), 1e-13 * Math.max(1, Math.abs(s.logSigma(t))));
            // lambda = log alpha - log sigma; 1e-13 scaled: the direct route log(a) - log(sg) loses a few ulp
            double lam = Math.log(a) - Math.log(sg);
            assertEquals(lam, s.lambda(t), 1e-13 * Math.max(1, Math.abs(lam)), c + ": lambda at t=" + t);
        }
    }

    /**
     * dAlphaDt and dSigmaDt against central differences with step h = 1e-6 (relative to the time scale): truncation
     * error ~h^2 f''' ~ 1e-12·|f'''| and cancellation ~1e-16/h ~ 1e-10, so 1e-7 relative to max(1, |f'|) is a
     * safe bound that still catches any factor/sign error. (sigma is strongly curved at small t, sigma''' ~ 5e3 at
     * t = 0.025 on DDPM, which is why h must be this small: h = 1e-4 already gives 1e-5 truncation error.) Discrete
     * schedules are evaluated at segment midpoints, with h far inside the segment (log alpha is linear there).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void derivativesMatchFiniteDifferences(Case c) {
        NoiseSchedule s = c.schedule();
        double scale = c.tHi();
        for (int i = 1; i < 40; i++) {
            double t = c.tLo() + (c.tHi() - c.tLo()) * i / 40.0;
            double h = 1e-6 * scale;
            if (s instanceof VpDiscreteSchedule d) {
                int n = d.gridSize();
                t = (Math.floor(t * n) + 0.5) / n; // centre of a segment [k/N', (k+1)/N']
                h = 1e-6; // far inside the segment (width 1/N' ~ 1e-3), so no kink is straddled
                if (t - h < 1.0 / n || t + h > 1.0) {
                    continue;
                }
            }
            double fdA = (s.alpha(t + h) - s.alpha(t - h)) / (2 * h);
            double fdS = (s.sigma(t + h) - s.sigma(t - h)) / (2 * h);
            assertEquals(fdA, s.dAlphaDt(t), 1e-7 * Math.max(1, Math.abs(fdA)), c + ": dAlphaDt at t=" + t);
            assertEquals(fdS, s.dSigmaDt(t), 1e-7 * Math.max(1, Math.abs(fdS)), c + ": dSigmaDt at t=" + t);
        }
    }
}
