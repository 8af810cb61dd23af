package io.solvertune.exports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.fit.CoefficientSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A learned grid (a {@code TIMESTEPS} set: the base solver on an explicit grid) goes to the consumers that take custom
 * sigma lists or timesteps as exactly that grid (ComfyUI refuses a discrete model's off-integer times), and a coefficient set on a learned grid is judged by the same rules as on a named
 * spacing (refused unless neutral).
 */
class LearnedGridExportsTest {

    static CoefficientSet learned(CoefficientSet.Method method, List<String> columns, double[][] values) {
        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        NoiseSchedule s = p.schedule();
        double[] base = new TimestepSpacing.LogSnr().times(s, s.defaultTStart(), s.defaultTEnd(), 5);
        double[] grid = base.clone();
        grid[1] = 0.5 * (base[1] + base[0]);   // a grid no named spacing gives
        grid[3] = 0.7 * base[3] + 0.3 * base[4];
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, method, DpmSolver.plusPlusMultistep(2),
                new TimestepSpacing.Explicit(grid), 5, 5, grid, columns, values, null, null, null,
                new TimestepSpacing.LogSnr());
    }

    static ExportSubject subject(CoefficientSet set) {
        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        return ExportSubject.coefficients(set, false, p.schedule(), PredictionType.NOISE, false, 1.0);
    }

    @Test
    void kDiffusionAndComfyUiGetTheLearnedSigmas() {
        CoefficientSet set = learned(CoefficientSet.Method.TIMESTEPS, List.of(), new double[5][0]);
        assertTrue(set.isNeutral());
        ExportSubject s = subject(set);
        double[] want = ExportRules.sigmas(s.schedule(), set.times());
        ExportSupport k = ExportRules.decide(ExportFormat.K_DIFFUSION, s);
        assertTrue(k.isSupported(), k.message());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> calls = (List<Map<String, Object>>) k.call().arguments().get("calls");
        List<Double> got = new ArrayList<>();
        for (Map<String, Object> c : calls) {
            for (double v : (double[]) c.get("sigmas")) {
                if (got.isEmpty() || got.get(got.size() - 1) != v) {
                    got.add(v);
                }
            }
        }
        assertEquals(want.length, got.size(), "sigmas " + got);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got.get(i), 1e-12 * want[i], "sigma " + i);
        }
        // diffusers takes the grid as explicit timesteps; ComfyUI would round a discrete model's time to the nearest
        // integer timestep, which a learned grid is not on: refused, naming why and the formats that work
        ExportSupport d = ExportRules.decide(ExportFormat.DIFFUSERS, s);
        assertTrue(d.isSupported(), d.message());
        ExportSupport c = ExportRules.decide(ExportFormat.COMFYUI, s);
        assertTrue(!c.isSupported());
        assertTrue(c.reason().contains("integer timestep"), c.reason());
        assertTrue(c.alternatives().contains(ExportFormat.K_DIFFUSION));
        assertNotNull(d.call().code());
    }

    @Test
    void coefficientsOnALearnedGridAreRefusedInStockConsumers() {
        double[][] v = new double[5][];
        for (int i = 0; i < 5; i++) {
            v[i] = new double[] {i == 3 ? 1.1 : 1.0};
        }
        ExportSubject s = subject(learned(CoefficientSet.Method.DC, List.of("ratio"), v));
        assertTrue(!ExportRules.decide(ExportFormat.K_DIFFUSION, s).isSupported());
        assertTrue(ExportRules.decide(ExportFormat.JSON, s).isSupported());
    }
}
