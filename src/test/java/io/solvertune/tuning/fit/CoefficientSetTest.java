package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoefficientSetTest {

    static CoefficientSet sample() {
        SolverSpec base = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);
        CoefficientSet.FitReport fit = new CoefficientSet.FitReport(128, new double[] {0.1, 0.05, 0.01},
                new double[] {0.1, 0.06, 0.02}, new int[] {0, 14, 17}, 2.5, List.of("step 1: fixed to 1"));
        CoefficientSet.Provenance p = new CoefficientSet.Provenance("abc123", null, Guidance.perSeed(7.5), null,
                new long[] {0, 1, 2}, "0.1.0+deadbeef", "2026-11-28T00:00:00Z", Map.of("samples", 128, "objective", "NEXT_STEP"));
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC, base,
                new TimestepSpacing.TimeUniform(), 3, 3, new double[] {1.0, 0.6, 0.3, 1e-3}, List.of("ratio"),
                new double[][] {{1.0}, {1.0}, {0.93}}, fit, null, p);
    }

    @Test
    void jsonRoundTripIsExact() {
        CoefficientSet s = sample();
        CoefficientSet back = CoefficientSet.fromJson(s.toJson());
        assertEquals(s, back);
        assertEquals(s.toJson(), back.toJson());
        assertArrayEquals(s.times(), back.times(), 0.0);
        assertEquals(0.93, back.values()[2][0], 0.0);
        assertEquals(s.base(), back.base());
    }

    @Test
    void validationIsAddedWithoutChangingTheValues() {
        CoefficientSet s = sample();
        CoefficientSet.Validation v = new CoefficientSet.Validation(1024, 0.01, 0.001, 0.02, 0.002,
                CoefficientSet.Verdict.BEATS, "unipc data bh2 o3 time_uniform", 0.015, CoefficientSet.Verdict.TIE);
        CoefficientSet w = s.withValidation(v);
        assertTrue(w.validation().publishable());
        assertFalse(new CoefficientSet.Validation(1024, 0.02, 0.001, 0.02, 0.002, CoefficientSet.Verdict.TIE, null,
                null, null).publishable());
        assertEquals(CoefficientSet.fromJson(w.toJson()), w);
        assertArrayEquals(s.values()[2], w.values()[2], 0.0);
    }

    @Test
    void badInputNamesTheField() {
        CoefficientSet s = sample();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CoefficientSet(1,
                CoefficientSet.Method.DC, s.base(), s.spacing(), 3, 3, new double[] {1, 0.5, 1e-3}, s.columns(),
                s.values(), null, null, null));
        assertTrue(e.getMessage().contains("times"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CoefficientSet(1, CoefficientSet.Method.DC,
                s.base(), s.spacing(), 3, 3, s.times(), s.columns(), new double[][] {{1}, {Double.NaN}, {1}}, null,
                null, null));
        assertTrue(e.getMessage().contains("values[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CoefficientSet.fromJson(
                s.toJson().replaceFirst("\\{", "{\"bogus\":2,")));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
    }

    @Test
    void isImmutable() {
        CoefficientSet s = sample();
        s.values()[2][0] = 5.0;
        s.times()[0] = 7.0;
        assertEquals(0.93, s.values()[2][0], 0.0);
        assertEquals(1.0, s.times()[0], 0.0);
    }
}
