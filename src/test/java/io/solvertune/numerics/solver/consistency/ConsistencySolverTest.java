package io.solvertune.numerics.solver.consistency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.Json;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ConsistencySolver: neutral coefficients reproduce the base solver bit for bit (DDIM for the data form, DPM-Solver-1
 * in noise form for the noise form); planted coefficients give the step computed independently on the host (in
 * double, from the model's outputs); the weights follow the reference's {@code set_default_coefficients}.
 */
class ConsistencySolverTest {
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static double[] run(ReferenceProblem p, SamplerConfig cfg) {
        return p.sample(cfg);
    }

    static SamplerConfig config(SolverSpec s, TimestepSpacing sp, int steps, ReferenceProblem p) {
        return new SamplerConfig(s, sp, steps, p.tStart, p.tEnd, true, false);
    }

    @Test
    void neutralCoefficientsReproduceTheBaseSolverBitForBit() {
        for (String name : ReferenceProblem.NAMES) {
            ReferenceProblem p = ReferenceProblem.load(name);
            for (TimestepSpacing sp : List.of(new TimestepSpacing.TimeUniform(), new TimestepSpacing.Karras(7.0))) {
                for (int steps : new int[] {1, 5, 8}) {
                    for (Form form : new Form[] {Form.DATA, Form.NOISE}) {
                        for (int order : new int[] {1, 2, Consistency.MAX_ORDER}) {
                            double[] base = run(p, config(form.base(order), sp, steps, p));
                            double[] neutral = run(p, config(Consistency.neutral(form, order, steps), sp, steps, p));
                            assertArrayEquals(base, neutral, 0.0, name + " " + form + " o" + order + " " + steps);
                            double[] any = run(p, config(new Consistency(form, order, null, null), sp, steps, p));
                            assertArrayEquals(base, any, 0.0);
                        }
                    }
                }
            }
            // the data form's base is DDIM itself
            double[] ddim = run(p, config(new Ddim(), new TimestepSpacing.TimeUniform(), 6, p));
            double[] neutral = run(p, config(Consistency.neutral(Form.DATA, 4, 6), new TimestepSpacing.TimeUniform(), 6,
                    p));
            assertArrayEquals(ddim, neutral, 0.0);
        }
    }

    @Test
    void plantedCoefficientsGiveTheStepComputedOnTheHost() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        int steps = 6;
        double[][] a = {{}, {0.5}, {0.8, -0.4}, {0.6, -1.2, 0.3}, {0.2, -0.3, 0.1}, {1.1, -0.9, -0.5}};
        for (Form form : new Form[] {Form.DATA, Form.NOISE, Form.FLOW_VELOCITY}) {
            Consistency c = new Consistency(form, 4, a, null);
            SamplerConfig cfg = config(c, new TimestepSpacing.LogSnr(), steps, p);
            double[] got = run(p, cfg);
            double[] want = host(p, form, a, cfg);
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], 1e-12 * Math.max(1, Math.abs(want[i])), form + " [" + i + "]");
            }
            double[] neutral = run(p, config(Consistency.neutral(form, 4, steps), new TimestepSpacing.LogSnr(), steps,
                    p));
            assertFalse(java.util.Arrays.equals(neutral, got));
        }
    }

    /** The solver's run recomputed in double on the host from single model calls. */
    static double[] host(ReferenceProblem p, Form form, double[][] a, SamplerConfig cfg) {
        NpyArray xT = p.get("x_T");
        try (NDManager m = manager.newSubManager(); GaussianMixtureDenoiser model = p.model()) {
            NoiseSchedule ns = model.schedule();
            double[] grid = cfg.spacing().times(ns, cfg.tStart(), cfg.tEnd(), cfg.steps());
            ModelFunction fn = new ModelFunction(model, p.guidance);
            double[] x = xT.doubles();
            java.util.List<double[]> hist = new java.util.ArrayList<>();
            for (int i = 0; i < cfg.steps(); i++) {
                double s = grid[i];
                double t = grid[i + 1];
                NDArray out = fn.eval(m.create(x, new Shape(xT.shape())), s, form.prediction());
                hist.add(0, out.toDoubleArray());
                int k = Math.min(hist.size(), 4);
                double[] c = new double[k];
                if (k == 1) {
                    c[0] = 1;
                } else {
                    c[0] = 1 + a[i][0];
                    double sum = c[0];
                    for (int j = 1; j < k - 1; j++) {
                        c[j] = a[i][j];
                        sum += c[j];
                    }
                    c[k - 1] = 1 - sum;
                }
                double[] eff = new double[x.length];
                for (int j = 0; j < k; j++) {
                    for (int q = 0; q < x.length; q++) {
                        eff[q] += c[j] * hist.get(j)[q];
                    }
                }
                double[] next = new double[x.length];
                for (int q = 0; q < x.length; q++) {
                    next[q] = switch (form) {
                        // x0 = eff: x_t = alpha_t x0 + sigma_t (x - alpha_s x0)/sigma_s
                        case DATA -> ns.alpha(t) * eff[q] + ns.sigma(t) * (x[q] - ns.alpha(s) * eff[q]) / ns.sigma(s);
                        // eps = eff: x_t = alpha_t (x - sigma_s eps)/alpha_s + sigma_t eps
                        case NOISE -> ns.alpha(t) * (x[q] - ns.sigma(s) * eff[q]) / ns.alpha(s) + ns.sigma(t) * eff[q];
                        case FLOW_VELOCITY -> x[q] + (t - s) * eff[q];
                    };
                }
                x = next;
            }
            return x;
        }
    }

    @Test
    void flowFormIsDdimOnRectifiedFlowUpToRoundOff() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        NpyArray w = p.get("w");
        NoiseSchedule rf = new RectifiedFlowSchedule(1.0);
        try (GaussianMixtureDenoiser model = new GaussianMixtureDenoiser(rf, w.asDoubles(), p.get("mu").asMatrix(),
                p.get("s").asDoubles(), null);
             NDManager m = manager.newSubManager()) {
            NpyArray xT = p.get("x_T");
            double tStart = 0.98; // alpha(1) = 0: the mixture's data prediction is singular there
            double tEnd = rf.defaultTEnd();
            double[][] out = new double[2][];
            SolverSpec[] specs = {new Ddim(), Consistency.neutral(Form.FLOW_VELOCITY, 4, 7)};
            for (int k = 0; k < 2; k++) {
                NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
                SamplerConfig cfg = new SamplerConfig(specs[k], new TimestepSpacing.TimeUniform(), 7, tStart, tEnd,
                        true, false);
                out[k] = Sampler.sample(cfg, new ModelFunction(model, Guidance.none()), x).x().toDoubleArray();
            }
            for (int i = 0; i < out[0].length; i++) {
                assertEquals(out[0][i], out[1][i], 1e-10 * Math.max(1, Math.abs(out[0][i])));
            }
        }
    }

    @Test
    void weightsFollowTheReference() {
        assertArrayEquals(new double[] {1}, Consistency.weights(new double[] {}, 1), 0);
        assertArrayEquals(new double[] {1.5, -0.5}, Consistency.weights(new double[] {0.5, 9, 9}, 2), 0);
        assertArrayEquals(new double[] {1.8, -0.4, -0.4}, Consistency.weights(new double[] {0.8, -0.4, 9}, 3), 1e-15);
        double[] c = Consistency.weights(new double[] {0.6, -1.2, 0.3}, 4);
        assertArrayEquals(new double[] {1.6, -1.2, 0.3, 0.3}, c, 1e-15);
        assertEquals(1.0, c[0] + c[1] + c[2] + c[3], 1e-15);
        assertArrayEquals(new double[] {1, 0, 0, 0}, Consistency.weights(new double[] {0, 0, 0}, 4), 0);
    }

    @Test
    void badInputNamesTheFieldAndJsonRoundTrips() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Consistency(Form.DATA, 4, new double[][] {{}, {0.1, 0.2}}, null));
        assertTrue(e.getMessage().contains("coefficients[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Consistency(Form.DATA, 5, null, null));
        assertTrue(e.getMessage().contains("order"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Consistency(Form.NOISE, 2, new double[][] {{}, {Double.NaN}}, null));
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        SamplerConfig cfg = config(Consistency.neutral(Form.DATA, 4, 4), new TimestepSpacing.TimeUniform(), 5, p);
        e = assertThrows(IllegalArgumentException.class, () -> run(p, cfg));
        assertTrue(e.getMessage().contains("4 rows but the run has 5 steps"), e.getMessage());
        Consistency c = new Consistency(Form.NOISE, 3, new double[][] {{}, {0.5}, {0.2, -0.1}},
                new double[] {1.0, 0.5, 0.2, 0.01});
        String json = Json.canonical(c);
        assertTrue(json.contains("\"solver\":\"consistency\""), json);
        assertEquals(c, Json.MAPPER.readValue(json, SolverSpec.class));
        assertEquals(Form.NOISE, Consistency.fromTable(Form.NOISE.base(4), 4, null, null).form());
        assertEquals(Form.FLOW_VELOCITY, Form.ofBase(Form.FLOW_VELOCITY.base(4)));
        assertThrows(IllegalArgumentException.class, () -> Consistency.fromTable(
                new io.solvertune.numerics.solver.edm.EdmEuler(), 4, null, null));
        assertTrue(PredictionType.NOISE == Form.NOISE.prediction());
    }
}
