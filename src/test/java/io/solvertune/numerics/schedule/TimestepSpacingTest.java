package io.solvertune.numerics.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every spacing returns {@code steps + 1} strictly decreasing times from exactly {@code tStart} to exactly
 * {@code tEnd}, and is uniform in its defining coordinate (time, lambda, sqrt(time), Karras' sigma^(1/rho)).
 */
class TimestepSpacingTest {
    static final int[] STEPS = {1, 2, 5, 10, 25, 100, 999};

    /**
     * Uniformity of the defining coordinate: consecutive differences equal the mean difference to 1e-12 relative to
     * the coordinate's magnitude. The coordinate is recomputed from returned times through the schedule (lambda) or
     * elementary functions (sqrt, exp), each a few ulp; differences of O(1) values lose nothing beyond that, so 1e-12
     * relative to max(1, |coordinate|) holds with a margin of ~100.
     */
    static final double UNIFORM_TOL = 1e-12;

    record Case(String name, NoiseSchedule s, double tStart, double tEnd) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> scheduleCases() {
        VpDiscreteSchedule sd = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        VpDiscreteSchedule cos = VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, 1000);
        return List.of(
                new Case("vp_discrete scaled_linear", sd, 1.0, sd.defaultTEnd()),
                new Case("vp_discrete cosine (clipped)", cos, 1.0, cos.defaultTEnd()),
                new Case("vp_linear", VpLinearSchedule.standard(), 1.0, 1e-3),
                new Case("vp_linear inner interval", VpLinearSchedule.standard(), 0.731, 0.2),
                new Case("vp_cosine", new VpCosineSchedule(), 0.9946, 1e-3),
                new Case("edm", EdmSchedule.standard(), 80.0, 0.002),
                new Case("rectified_flow", new RectifiedFlowSchedule(1.0), 0.999, 1e-3),
                new Case("rectified_flow shift 3", new RectifiedFlowSchedule(3.0), 0.999, 1e-3));
    }

    static Stream<Arguments> all() {
        List<Arguments> out = new ArrayList<>();
        for (Case c : scheduleCases()) {
            for (TimestepSpacing sp : new TimestepSpacing[] {new TimestepSpacing.TimeUniform(),
                    new TimestepSpacing.LogSnr(), new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7.0),
                    new TimestepSpacing.Karras(1.5)}) {
                out.add(Arguments.of(c, sp));
            }
        }
        return out.stream();
    }

    /**
     * Exact ends: solvers chain grids (singlestep outer/inner grids, trajectories recorded and looked up by time), so
     * the first and last times must be bit-identical to the requested tStart / tEnd, not merely close.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("all")
    void exactEndpoints(Case c, TimestepSpacing sp) {
        for (int steps : STEPS) {
            double[] t = sp.times(c.s(), c.tStart(), c.tEnd(), steps);
            assertEquals(c.tStart(), t[0], 0.0, c + " " + sp + " steps=" + steps + ": first time must be tStart exactly");
            assertEquals(c.tEnd(), t[steps], 0.0, c + " " + sp + " steps=" + steps + ": last time must be tEnd exactly");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("all")
    void lengthAndStrictOrder(Case c, TimestepSpacing sp) {
        for (int steps : STEPS) {
            double[] t = sp.times(c.s(), c.tStart(), c.tEnd(), steps);
            assertEquals(steps + 1, t.length);
            // ends close (exactness is checked separately); 1e-12 relative is the round-trip accuracy that
            // ScheduleRoundTripTest demands of inverseLambda, which logSNR ends go through
            assertEquals(c.tStart(), t[0], 1e-12 * c.tStart());
            assertEquals(c.tEnd(), t[steps], 1e-12 * c.tEnd());
            for (int i = 1; i <= steps; i++) {
                if (!(t[i] < t[i - 1])) {
                    fail(c + " " + sp + " steps=" + steps + ": not strictly decreasing at " + i + ": " + t[i - 1]
                            + " -> " + t[i]);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("all")
    void uniformInTheDefiningCoordinate(Case c, TimestepSpacing sp) {
        NoiseSchedule s = c.s();
        DoubleUnaryOperator coord;
        if (sp instanceof TimestepSpacing.TimeUniform) {
            coord = s::unwarpUniformTime;
        } else if (sp instanceof TimestepSpacing.LogSnr) {
            coord = s::lambda;
        } else if (sp instanceof TimestepSpacing.TimeQuadratic) {
            coord = t -> Math.sqrt(s.unwarpUniformTime(t));
        } else {
            double rho = ((TimestepSpacing.Karras) sp).rho();
            coord = t -> Math.exp(-s.lambda(t) / rho); // (sigma/alpha)^(1/rho)
        }
        for (int steps : new int[] {3, 10, 50}) {
            double[] t = sp.times(s, c.tStart(), c.tEnd(), steps);
            double first = coord.applyAsDouble(t[0]);
            double last = coord.applyAsDouble(t[steps]);
            double step = (last - first) / steps;
            double scale = Math.max(1.0, Math.max(Math.abs(first), Math.abs(last)));
            for (int i = 0; i <= steps; i++) {
                double expected = first + i * step;
                double got = coord.applyAsDouble(t[i]);
                assertEquals(expected, got, UNIFORM_TOL * scale, c + " " + sp + " steps=" + steps + " point " + i);
            }
        }
    }

    @Test
    void rectifiedFlowShiftWarpsTimeBasedSpacingsOnly() {
        RectifiedFlowSchedule plain = new RectifiedFlowSchedule(1.0);
        RectifiedFlowSchedule shifted = new RectifiedFlowSchedule(3.0);
        double[] u = new TimestepSpacing.TimeUniform().times(plain, 1.0, 1e-3, 8);
        double[] w = new TimestepSpacing.TimeUniform().times(shifted, 1.0, 1e-3, 8);
        for (int i = 1; i < 8; i++) {
            // the shifted grid is the warp of the uniform grid in unwarped time
            double ui = shifted.unwarpUniformTime(1.0) + i * (shifted.unwarpUniformTime(1e-3)
                    - shifted.unwarpUniformTime(1.0)) / 8;
            assertEquals(shifted.warpUniformTime(ui), w[i], 1e-15);
            assertTrue(w[i] > u[i], "shift 3 spends more steps at high noise");
        }
        // logSNR is defined by noise levels and is not warped
        assertArrayEquals(new TimestepSpacing.LogSnr().times(plain, 0.9, 1e-3, 8),
                new TimestepSpacing.LogSnr().times(shifted, 0.9, 1e-3, 8), 0.0);
    }

    @Test
    void logSnrRejectsInfiniteLambdaAtTheEnds() {
        // rectified flow at t = 1 has lambda = -infinity
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TimestepSpacing.LogSnr().times(new RectifiedFlowSchedule(1.0), 1.0, 1e-3, 10));
        assertTrue(e.getMessage().contains("lambda"), e.getMessage());
    }

    /**
     * Karras spacing from the rectified-flow start t = 1 (the schedule's default tStart, lambda = -infinity, infinite
     * VE noise level): it must either be rejected like logSNR, or give finite, strictly decreasing times. It must not
     * silently return NaN times.
     */
    @Test
    void karrasFromInfiniteNoiseLevelIsRejectedOrFinite() {
        RectifiedFlowSchedule rf = new RectifiedFlowSchedule(1.0);
        double[] t;
        try {
            t = new TimestepSpacing.Karras(7.0).times(rf, rf.defaultTStart(), rf.defaultTEnd(), 10);
        } catch (IllegalArgumentException expected) {
            return;
        }
        for (int i = 0; i < t.length; i++) {
            assertTrue(Double.isFinite(t[i]), "karras time " + i + " is " + t[i] + " (all: " + java.util.Arrays.toString(t) + ")");
            if (i > 0) {
                assertTrue(t[i] < t[i - 1]);
            }
        }
    }

    @Test
    void argumentChecks() {
        NoiseSchedule s = VpLinearSchedule.standard();
        for (TimestepSpacing sp : new TimestepSpacing[] {new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr(),
                new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7)}) {
            assertThrows(IllegalArgumentException.class, () -> sp.times(s, 1.0, 1e-3, 0), sp + " steps 0");
            assertThrows(IllegalArgumentException.class, () -> sp.times(s, 1e-3, 1.0, 5), sp + " reversed");
            assertThrows(IllegalArgumentException.class, () -> sp.times(s, 1.0, 0.0, 5), sp + " tEnd 0");
            assertThrows(IllegalArgumentException.class, () -> sp.times(s, 0.5, 0.5, 5), sp + " empty");
        }
        assertThrows(IllegalArgumentException.class, () -> new TimestepSpacing.Karras(0.0));
        assertThrows(IllegalArgumentException.class, () -> TimestepSpacing.named("cosine", 7));
        assertEquals(new TimestepSpacing.LogSnr(), TimestepSpacing.named("logSNR", 7));
        assertEquals(new TimestepSpacing.Karras(5.0), TimestepSpacing.named("edm", 5.0));
    }

    @Test
    void explicitListValidation() {
        TimestepSpacing.Explicit ok = new TimestepSpacing.Explicit(new double[] {1.0, 0.5, 0.1});
        assertArrayEquals(new double[] {1.0, 0.5, 0.1}, ok.times(VpLinearSchedule.standard(), 1.0, 0.1, 2), 0.0);
        assertEquals(new TimestepSpacing.LogSnr(), ok.innerSpacing());
        // defensive copies
        double[] src = {1.0, 0.5, 0.1};
        TimestepSpacing.Explicit e = new TimestepSpacing.Explicit(src);
        src[1] = 7;
        e.timesteps()[2] = 9;
        assertArrayEquals(new double[] {1.0, 0.5, 0.1}, e.timesteps(), 0.0);

        assertMessage("at least 2", () -> new TimestepSpacing.Explicit(new double[] {1.0}));
        assertMessage("at least 2", () -> new TimestepSpacing.Explicit(null));
        assertMessage("index 1", () -> new TimestepSpacing.Explicit(new double[] {1.0, 1.0, 0.1}));
        assertMessage("index 2", () -> new TimestepSpacing.Explicit(new double[] {1.0, 0.5, 0.7}));
        assertMessage("index 2", () -> new TimestepSpacing.Explicit(new double[] {1.0, 0.5, 0.0}));
        assertMessage("index 1", () -> new TimestepSpacing.Explicit(new double[] {1.0, Double.NaN, 0.1}));
        assertMessage("index 0", () -> new TimestepSpacing.Explicit(new double[] {Double.POSITIVE_INFINITY, 0.1}));
        assertMessage("2 steps", () -> ok.times(VpLinearSchedule.standard(), 1.0, 0.1, 3));
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable ex) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
    }

    @Test
    void spacingsSurviveJson() throws Exception {
        var mapper = io.solvertune.numerics.spec.ModelSpec.MAPPER;
        for (TimestepSpacing sp : new TimestepSpacing[] {new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr(),
                new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7.0),
                new TimestepSpacing.Explicit(new double[] {0.9, 0.4, 0.01})}) {
            String json = mapper.writeValueAsString(sp);
            assertEquals(sp, mapper.readValue(json, TimestepSpacing.class), json);
        }
    }
}
