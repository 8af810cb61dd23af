package io.solvertune.numerics.solver.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.testing.ReferenceProblem;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The multistep prior: ConsistencySolver with the prior's coefficients is the project's DPM-Solver++ multistep (data
 * form) / DPM-Solver multistep (noise form) of order 2 and 3 — warm-up and lower-order final steps included — on the
 * analytic mixtures, at NFE 5, 6, 8 on two spacings, to round-off; at every ConsistencySolver order that holds the
 * prior's outputs.
 */
class MultistepPriorTest {
    static double[] run(ReferenceProblem p, SamplerConfig cfg) {
        return p.sample(cfg);
    }

    @Test
    void priorCoefficientsReproduceTheMultistepSolver() {
        int compared = 0;
        for (String name : List.of("public_gmm_sd_d32_cfg5", "public_gmm_sd_d8")) {
            ReferenceProblem p = ReferenceProblem.load(name);
            NoiseSchedule ns;
            try (GaussianMixtureDenoiser m = p.model()) {
                ns = m.schedule();
            }
            for (TimestepSpacing sp : List.of(new TimestepSpacing.TimeUniform(), new TimestepSpacing.Karras(7.0))) {
                for (int steps : new int[] {5, 6, 8}) {
                    SamplerConfig any = ConsistencySolverTest.config(new Ddim(), sp, steps, p);
                    double[] grid = sp.times(ns, any.tStart(), any.tEnd(), steps);
                    double[] ddim = run(p, any);
                    for (Form form : new Form[] {Form.DATA, Form.NOISE}) {
                        for (int k : new int[] {2, 3}) {
                            DpmSolver dpm = MultistepPrior.solver(form, k);
                            assertEquals(form.prediction(), dpm.prediction());
                            assertEquals(k, dpm.order());
                            double[] want = run(p, ConsistencySolverTest.config(dpm, sp, steps,
                                    p));
                            for (int order = k; order <= Consistency.MAX_ORDER; order++) {
                                double[][] a = MultistepPrior.coefficients(form, order, k, ns, grid, true);
                                Consistency c = new Consistency(form, order, a, grid);
                                double[] got = run(p, ConsistencySolverTest.config(c, sp, steps,
                                        p));
                                String what = name + " " + sp.id() + " NFE " + steps + " " + form + " prior o" + k
                                        + " consistency o" + order;
                                double scale = 0;
                                double diffToDdim = 0;
                                for (int i = 0; i < want.length; i++) {
                                    scale = Math.max(scale, Math.abs(want[i]));
                                    diffToDdim = Math.max(diffToDdim, Math.abs(want[i] - ddim[i]));
                                }
                                for (int i = 0; i < want.length; i++) {
                                    assertEquals(want[i], got[i], 1e-10 * Math.max(1, scale), what + " [" + i + "]");
                                }
                                // the comparison is not vacuous: the multistep solver is far from DDIM here
                                assertTrue(diffToDdim > 1e-4 * Math.max(1, scale), what + ": " + diffToDdim);
                                compared++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals(2 * 2 * 3 * 2 * (3 + 2), compared);
    }

    @Test
    void priorCoefficientsFollowTheStepSizes() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        NoiseSchedule ns;
        try (GaussianMixtureDenoiser m = p.model()) {
            ns = m.schedule();
        }
        double[] grid = new TimestepSpacing.LogSnr().times(ns, p.tStart, p.tEnd, 6);
        double[][] a = MultistepPrior.coefficients(Form.DATA, 4, 2, ns, grid, true);
        // 2M: c_0 = 1 + 1/(2r), c_1 = -1/(2r), r = h_prev / h; equal lambda steps: r = 1
        assertEquals(0, a[0].length);
        for (int i = 1; i < 5; i++) {
            double h = ns.lambda(grid[i + 1]) - ns.lambda(grid[i]);
            double hPrev = ns.lambda(grid[i]) - ns.lambda(grid[i - 1]);
            double r = hPrev / h;
            // the last step is first order (lower-order final below 10 steps)
            double want = i == 5 ? 0 : 0.5 / r;
            assertEquals(want, a[i][0], 1e-12, "step " + i);
            if (a[i].length > 1) {
                assertEquals(i == 5 ? 0 : -0.5 / r, a[i][1], 1e-12);
            }
            if (a[i].length > 2) {
                assertEquals(0.0, a[i][2], 0.0);
            }
        }
        assertEquals(0.5, a[2][0], 1e-9);
        // without lower-order final steps the last step is second order too
        double[][] b = MultistepPrior.coefficients(Form.DATA, 4, 2, ns, grid, false);
        assertEquals(0.5, b[5][0], 1e-9);
        // the third order reaches further back
        double[][] c = MultistepPrior.coefficients(Form.NOISE, 3, 3, ns, grid, true);
        assertTrue(c[2][1] != 0 && c[2][0] != 0.5, java.util.Arrays.toString(c[2]));
    }

    @Test
    void badInputNamesTheField() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        NoiseSchedule ns;
        try (GaussianMixtureDenoiser m = p.model()) {
            ns = m.schedule();
        }
        double[] grid = new TimestepSpacing.TimeUniform().times(ns, p.tStart, p.tEnd, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MultistepPrior.coefficients(Form.DATA, 2, 3, ns, grid, true));
        assertTrue(e.getMessage().startsWith("priorOrder:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultistepPrior.coefficients(Form.DATA, 4, 4, ns, grid,
                true));
        assertTrue(e.getMessage().startsWith("priorOrder:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultistepPrior.coefficients(Form.FLOW_VELOCITY, 4, 2,
                ns, grid, true));
        assertTrue(e.getMessage().startsWith("prior:"), e.getMessage());
    }
}
