package io.solvertune.numerics.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Closed forms of the continuous schedules, written out independently here: VP linear (ScoreSDE), VP cosine (iDDPM
 * as in UniPC / DPM-Solver-v3's {@code NoiseScheduleVP('cosine')}), EDM and rectified flow (incl. the SD3 shift).
 * Tolerances: the formulas are evaluated with the same elementary functions but different arithmetic order, so a
 * few ulp (1e-14 relative, or absolute for O(1) values) is the honest bound.
 */
class ClosedFormSchedulesTest {
    static final double TOL = 1e-14;

    @Test
    void vpLinearClosedForm() {
        double b0 = 0.1;
        double b1 = 20.0;
        VpLinearSchedule s = VpLinearSchedule.standard();
        for (double t : new double[] {1e-4, 1e-3, 0.1, 0.5, 0.9, 1.0}) {
            double la = -(b1 - b0) * t * t / 4.0 - b0 * t / 2.0;
            assertEquals(la, s.logAlpha(t), TOL * Math.max(1, Math.abs(la)));
            // sigma = sqrt(1 - alpha^2), with expm1 so that small t keeps full relative precision
            assertEquals(Math.sqrt(-Math.expm1(2 * la)), s.sigma(t), TOL * s.sigma(t));
            // d alpha/dt = alpha * d log alpha/dt = alpha * (-(b1-b0) t/2 - b0/2)
            double dla = -(b1 - b0) * t / 2.0 - b0 / 2.0;
            assertEquals(Math.exp(la) * dla, s.dAlphaDt(t), TOL * Math.max(1, Math.abs(Math.exp(la) * dla)));
        }
        assertEquals(1.0, s.tMax());
        assertEquals(1e-3, s.defaultTEnd());
        assertThrows(IllegalArgumentException.class, () -> new VpLinearSchedule(0.0, 20.0));
        assertThrows(IllegalArgumentException.class, () -> new VpLinearSchedule(1.0, 0.5));
    }

    @Test
    void vpCosineClosedForm() {
        double sOff = 0.008;
        VpCosineSchedule s = new VpCosineSchedule();
        double la0 = Math.log(Math.cos(sOff / (1 + sOff) * Math.PI / 2));
        for (double t : new double[] {1e-4, 1e-3, 0.2, 0.5, 0.9, 0.9946}) {
            double la = Math.log(Math.cos((t + sOff) / (1 + sOff) * Math.PI / 2)) - la0;
            assertEquals(la, s.logAlpha(t), TOL * Math.max(1, Math.abs(la)));
        }
        assertEquals(0.9946, s.tMax());
        // alpha(0) = 1 exactly by construction of the offset
        assertEquals(0.0, s.logAlpha(0.0), 0.0);
    }

    @Test
    void edmClosedForm() {
        EdmSchedule s = EdmSchedule.standard();
        for (double t : new double[] {0.002, 0.1, 1.0, 17.0, 80.0}) {
            assertEquals(1.0, s.alpha(t), 0.0);
            assertEquals(0.0, s.logAlpha(t), 0.0);
            assertEquals(t, s.sigma(t), 0.0);
            assertEquals(-Math.log(t), s.lambda(t), TOL * Math.max(1, Math.abs(Math.log(t))));
            assertEquals(t, s.inverseLambda(-Math.log(t)), TOL * t);
            assertEquals(0.0, s.dAlphaDt(t), 0.0);
            assertEquals(1.0, s.dSigmaDt(t), 0.0);
            assertEquals(t, s.modelInputTime(t), 0.0);
        }
        assertEquals(80.0, s.tMax());
        assertEquals(0.002, s.defaultTEnd());
        assertEquals(80.0, s.defaultTStart());
        assertThrows(IllegalArgumentException.class, () -> new EdmSchedule(0.0, 80.0));
        assertThrows(IllegalArgumentException.class, () -> new EdmSchedule(1.0, 1.0));
    }

    @Test
    void rectifiedFlowClosedForm() {
        RectifiedFlowSchedule s = new RectifiedFlowSchedule(1.0);
        for (double t : new double[] {1e-4, 1e-3, 0.25, 0.5, 0.75, 0.999}) {
            assertEquals(1.0 - t, s.alpha(t), 0.0);
            assertEquals(t, s.sigma(t), 0.0);
            double lam = Math.log((1.0 - t) / t);
            assertEquals(lam, s.lambda(t), TOL * Math.max(1, Math.abs(lam)));
            assertEquals(-1.0, s.dAlphaDt(t), 0.0);
            assertEquals(1.0, s.dSigmaDt(t), 0.0);
            // t = 1 / (1 + e^lambda) = sigmoid(-lambda)
            assertEquals(t, s.inverseLambda(lam), 1e-14 * t);
        }
        assertEquals(0.5, s.inverseLambda(0.0), 0.0);
        // no overflow for extreme lambda
        assertEquals(Math.exp(-800.0), s.inverseLambda(800.0), 1e-14 * Math.exp(-800.0));
        assertEquals(1.0, s.inverseLambda(-800.0), 0.0);
        assertEquals(Double.NEGATIVE_INFINITY, s.lambda(1.0));
        assertEquals(1.0, s.tMax());
    }

    @Test
    void rectifiedFlowShiftWarpAndInverse() {
        for (double shift : new double[] {0.5, 1.0, 3.0, 7.5}) {
            RectifiedFlowSchedule s = new RectifiedFlowSchedule(shift);
            assertEquals(shift, s.shift());
            assertEquals(0.0, s.warpUniformTime(0.0), 0.0);
            assertEquals(1.0, s.warpUniformTime(1.0), 1e-15);
            for (int i = 0; i <= 100; i++) {
                double u = i / 100.0;
                // SD3 / diffusers FlowMatchEulerDiscreteScheduler: sigma = shift * s / (1 + (shift - 1) * s)
                double expected = shift * u / (1.0 + (shift - 1.0) * u);
                double t = s.warpUniformTime(u);
                assertEquals(expected, t, 1e-15);
                // the unwarp is the exact inverse (rational map, few ulp)
                assertEquals(u, s.unwarpUniformTime(t), 1e-15, "shift " + shift + " u " + u);
                assertEquals(t, s.warpUniformTime(s.unwarpUniformTime(t)), 1e-15);
            }
            if (shift > 1) {
                assertTrue(s.warpUniformTime(0.5) > 0.5, "shift > 1 moves time towards noise");
            }
        }
        // identity for non-flow schedules
        VpLinearSchedule v = VpLinearSchedule.standard();
        assertEquals(0.3, v.warpUniformTime(0.3), 0.0);
        assertEquals(0.3, v.unwarpUniformTime(0.3), 0.0);
        assertThrows(IllegalArgumentException.class, () -> new RectifiedFlowSchedule(0.0));
        assertThrows(IllegalArgumentException.class, () -> new RectifiedFlowSchedule(Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new RectifiedFlowSchedule(Double.NaN));
    }
}
