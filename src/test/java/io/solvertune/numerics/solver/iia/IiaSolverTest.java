package io.solvertune.numerics.solver.iia;

import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.iia.Iia.Form;
import io.solvertune.testing.ReferenceProblem;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * IIA samplers: neutral coefficients reproduce the base solver bit for bit; non-zero coefficients add exactly the
 * documented gradient vectors (checked against a host-side re-derivation of every form); the stepped fitting run
 * equals the sampler; shapes are validated.
 */
class IiaSolverTest {
    static NDManager manager;
    static ReferenceProblem problem;
    static GaussianMixtureDenoiser model;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
        problem = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        model = problem.model();
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    static SampleResult run(SolverSpec spec, TimestepSpacing spacing, int steps, DataType dt) {
        NpyArray xT = problem.get("x_T");
        NDArray x = Nd.create(manager, xT.doubles(), new Shape(xT.shape()), dt);
        SamplerConfig cfg = new SamplerConfig(spec, spacing, steps, problem.tStart, problem.tEnd, true, false);
        return Sampler.sample(cfg, new ModelFunction(model, problem.guidance), x);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void neutralCoefficientsReproduceTheBaseSolverBitForBit(Form form) {
        TimestepSpacing tu = new TimestepSpacing.TimeUniform();
        TimestepSpacing ls = new TimestepSpacing.LogSnr();
        // (dtype, spacing, steps, r): one step, the 2M lower-order-final rule below and above 10 steps, float32
        Object[][] cases = {
            {DataType.FLOAT64, tu, 1, 1}, {DataType.FLOAT64, ls, 3, 0}, {DataType.FLOAT64, ls, 5, 2},
            {DataType.FLOAT64, tu, 12, 1}, {DataType.FLOAT32, ls, 5, 1}};
        for (Object[] k : cases) {
            DataType dt = (DataType) k[0];
            TimestepSpacing spacing = (TimestepSpacing) k[1];
            int steps = (Integer) k[2];
            int r = (Integer) k[3];
            SampleResult base = run(form.base(), spacing, steps, dt);
            SampleResult iia = run(Iia.neutral(form, r, steps), spacing, steps, dt);
            String what = form + " " + spacing.id() + " steps " + steps + " r " + r + " " + dt;
            assertArrayEquals(Nd.toDoubles(base.x()), Nd.toDoubles(iia.x()), what);
            assertEquals(base.nfe(), iia.nfe(), what);
            assertEquals((long) steps * form.nfePerStep(), iia.nfe(), what);
            base.x().close();
            iia.x().close();
        }
    }

    /** Random coefficients for every step of a run. */
    static double[][] planted(Form form, int r, int steps, long seed) {
        Random rnd = new Random(seed);
        double[][] c = new double[steps][];
        for (int i = 0; i < steps; i++) {
            c[i] = new double[form.columns(r, i)];
            for (int k = 0; k < c[i].length; k++) {
                c[i][k] = 0.2 * rnd.nextGaussian();
            }
        }
        return c;
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void coefficientsAddTheDocumentedGradientVectors(Form form) {
        int steps = 4;
        int r = 2;
        double[][] c = planted(form, r, steps, 11);
        TimestepSpacing spacing = new TimestepSpacing.LogSnr();
        SampleResult ours = run(new Iia(form, r, c, null), spacing, steps, DataType.FLOAT64);
        double[] expected = hostReference(form, r, c, spacing, steps);
        double[] got = Nd.toDoubles(ours.x());
        double worst = 0;
        for (int j = 0; j < got.length; j++) {
            worst = Math.max(worst, Math.abs(got[j] - expected[j]) / Math.max(1, Math.abs(expected[j])));
        }
        assertTrue(worst < 1e-11, form + ": worst scaled difference to the host re-derivation " + worst);
        // and the coefficients matter
        SampleResult base = run(form.base(), spacing, steps, DataType.FLOAT64);
        double moved = 0;
        double[] b = Nd.toDoubles(base.x());
        for (int j = 0; j < got.length; j++) {
            moved = Math.max(moved, Math.abs(got[j] - b[j]));
        }
        assertTrue(moved > 1e-3, form + ": planted coefficients changed the samples by only " + moved);
        ours.x().close();
        base.x().close();
    }

    /**
     * The IIA update re-derived on host arrays, one model call at a time, straight from the formulas in the javadoc
     * of {@link IiaSolver} (no Combo, no history).
     */
    static double[] hostReference(Form form, int r, double[][] c, TimestepSpacing spacing, int steps) {
        NoiseSchedule ns = model.schedule();
        double[] grid = spacing.times(ns, problem.tStart, problem.tEnd, steps);
        NpyArray xT = problem.get("x_T");
        ModelFunction fn = new ModelFunction(model, problem.guidance);
        Shape shape = new Shape(xT.shape());
        double[] z = xT.doubles();
        int n = z.length;
        double[][] zs = new double[steps][];
        double[][] x0s = new double[steps][];
        double[][] dps = new double[steps][]; // D'_{j+1}
        for (int i = 0; i < steps; i++) {
            double s = grid[i];
            double t = grid[i + 1];
            double[] x0 = data(fn, z, shape, s);
            zs[i] = z;
            x0s[i] = x0;
            double at = ns.alpha(t);
            double st = ns.sigma(t);
            double as = ns.alpha(s);
            double ss = ns.sigma(s);
            double[] next = new double[n];
            if (form.nfePerStep() == 1) {
                if (form == Form.IIA_DDIM || i == 0 || (steps < 10 && i == steps - 1)) {
                    // DDIM == DPM-Solver++(1); the 2M plan: first step first order, last step first order when steps < 10
                    double h = ns.lambda(t) - ns.lambda(s);
                    for (int j = 0; j < n; j++) {
                        next[j] = (st / ss) * z[j] - at * Math.expm1(-h) * x0[j];
                    }
                } else {
                    double h = ns.lambda(t) - ns.lambda(s);
                    double r0 = (ns.lambda(s) - ns.lambda(grid[i - 1])) / h;
                    double phi1 = Math.expm1(-h);
                    for (int j = 0; j < n; j++) {
                        double d1 = (x0[j] - x0s[i - 1][j]) / r0;
                        next[j] = (st / ss) * z[j] - at * phi1 * x0[j] - 0.5 * at * phi1 * d1;
                    }
                }
                int col = 0;
                for (int k = 1; k <= Math.min(i, r); k++) {
                    double ak = ns.alpha(grid[i - k]);
                    double sk = ns.sigma(grid[i - k]);
                    for (int j = 0; j < n; j++) {
                        double eps0 = (z[j] - as * x0[j]) / ss;
                        double epsk = (zs[i - k][j] - ak * x0s[i - k][j]) / sk;
                        next[j] += c[i][col] * at * (x0[j] - x0s[i - k][j]) + c[i][col + 1] * st * (eps0 - epsk);
                    }
                    col += 2;
                }
            } else {
                double sgs = ss / as;
                double sgt = st / at;
                double[] pred = new double[n];
                for (int j = 0; j < n; j++) {
                    double d = (z[j] / as - x0[j]) / sgs;
                    pred[j] = at * (z[j] / as + (sgt - sgs) * d);
                }
                double[] dp = data(fn, pred, shape, t);
                dps[i] = dp;
                for (int j = 0; j < n; j++) {
                    double d = (z[j] / as - x0[j]) / sgs;
                    double d2 = (pred[j] / at - dp[j]) / sgt;
                    next[j] = at * (z[j] / as + (sgt - sgs) * 0.5 * (d + d2));
                }
                for (int k = 0; k <= Math.min(i, r); k++) {
                    int jj = i - k;
                    double a = ns.alpha(grid[jj]);
                    double sa = ns.sigma(grid[jj]) / a;
                    double sb = ns.sigma(grid[jj + 1]) / ns.alpha(grid[jj + 1]);
                    for (int j = 0; j < n; j++) {
                        double xt = zs[jj][j] / a;
                        if (form == Form.IIA_EDM) {
                            next[j] += c[i][2 * k] * at * (xt - x0s[jj][j]) + c[i][2 * k + 1] * at * (dps[jj][j] - x0s[jj][j]);
                        } else {
                            double d = (xt - x0s[jj][j]) / sa;
                            double d2 = (xt + (sb - sa) * d - dps[jj][j]) / sb;
                            next[j] += c[i][k] * at * 0.5 * (d + d2);
                        }
                    }
                }
            }
            z = next;
        }
        return z;
    }

    static double[] data(ModelFunction fn, double[] x, Shape shape, double t) {
        try (NDManager m = manager.newSubManager()) {
            return Nd.toDoubles(fn.data(m.create(x, shape), t));
        }
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void steppedFittingRunEqualsTheSamplerBitForBit(Form form) {
        int steps = 5;
        int r = 1;
        double[][] c = planted(form, r, steps, 5);
        TimestepSpacing spacing = new TimestepSpacing.TimeUniform();
        SampleResult viaSampler = run(new Iia(form, r, c, null), spacing, steps, DataType.FLOAT64);
        NpyArray xT = problem.get("x_T");
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
            ModelFunction fn = new ModelFunction(model, problem.guidance);
            SamplerConfig cfg = new SamplerConfig(form.base(), spacing, steps, problem.tStart, problem.tEnd, true, false);
            try (IiaRun run = new IiaRun(form, r, cfg, fn, x)) {
                assertEquals(steps, run.steps());
                for (int i = 0; i < steps; i++) {
                    IiaRun.Prepared p = run.prepare();
                    assertEquals(form.columns(r, i), p.vectors().size());
                    run.advance(c[i]);
                }
                assertArrayEquals(Nd.toDoubles(viaSampler.x()), Nd.toDoubles(run.state()));
                assertEquals(viaSampler.nfe(), fn.nfe());
                assertThrows(IllegalStateException.class, run::prepare);
            }
            assertArrayEquals(xT.doubles(), Nd.toDoubles(x), "the initial state is not modified");
        }
        viaSampler.x().close();
    }

    @Test
    void explicitTimesAreTheGrid() {
        double[] times = new TimestepSpacing.LogSnr().times(model.schedule(), problem.tStart, problem.tEnd, 4);
        Iia spec = new Iia(Form.IIA_DDIM, 1, planted(Form.IIA_DDIM, 1, 4, 3), times);
        // run with another spacing: the explicit grid wins
        SampleResult a = run(spec, new TimestepSpacing.TimeUniform(), 4, DataType.FLOAT64);
        SampleResult b = run(new Iia(Form.IIA_DDIM, 1, spec.coefficients(), null), new TimestepSpacing.LogSnr(),
                4, DataType.FLOAT64);
        assertArrayEquals(times, a.grid());
        assertArrayEquals(Nd.toDoubles(b.x()), Nd.toDoubles(a.x()));
        a.x().close();
        b.x().close();
    }

    @Test
    void shapesAreValidatedWithClearMessages() {
        // r = 1: DDIM rows 0, 2, 2, ...; EDM rows 2, 4, 4, ...; BIIA r = 0: rows 1, 1, ...
        assertEquals(0, Form.IIA_DDIM.columns(1, 0));
        assertEquals(2, Form.IIA_DDIM.columns(1, 5));
        assertEquals(4, Form.IIA_DPMSOLVER_2M.columns(2, 3));
        assertEquals(2, Form.IIA_EDM.columns(1, 0));
        assertEquals(4, Form.IIA_EDM.columns(1, 1));
        assertEquals(1, Form.BIIA_EDM.columns(0, 7));
        assertEquals(java.util.List.of("first_0", "second_0", "first_1", "second_1"), Form.IIA_EDM.columnNames(1));
        assertEquals(java.util.List.of("dx0_1", "deps_1"), Form.IIA_DDIM.columnNames(1));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Iia(Form.IIA_DDIM, 1, new double[][] {{}, {0.1}}, null));
        assertTrue(e.getMessage().contains("coefficients[1] must have 2 entries"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Iia(Form.IIA_EDM, 1, new double[][] {{0, 0, 0}}, null));
        assertTrue(e.getMessage().contains("coefficients[0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Iia(null, 1, new double[][] {{}}, null));
        assertTrue(e.getMessage().contains("form"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Iia(Form.IIA_DDIM, -1, new double[][] {{}}, null));
        assertTrue(e.getMessage().contains("r must"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Iia(Form.BIIA_EDM, 0, new double[][] {{Double.NaN}}, null));
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Iia(Form.BIIA_EDM, 0, new double[][] {{0}}, new double[] {1.0}));
        assertTrue(e.getMessage().contains("times"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Iia(Form.BIIA_EDM, 0, new double[][] {{0}}, new double[] {0.5, 0.7}));
        assertTrue(e.getMessage().contains("decreasing"), e.getMessage());
        // rows vs the run's steps
        e = assertThrows(IllegalArgumentException.class,
                () -> run(Iia.neutral(Form.IIA_DDIM, 1, 3), new TimestepSpacing.TimeUniform(), 4, DataType.FLOAT64));
        assertTrue(e.getMessage().contains("coefficients have 3 rows but the run has 4 steps"), e.getMessage());
    }

    @Test
    void specJsonRoundTrip() throws Exception {
        ObjectMapper om = new ObjectMapper();
        SolverSpec spec = new Iia(Form.IIA_EDM, 1, planted(Form.IIA_EDM, 1, 3, 2), new double[] {1.0, 0.5, 0.1, 0.01});
        String json = om.writeValueAsString(spec);
        assertTrue(json.contains("\"solver\":\"iia\""), json);
        SolverSpec back = om.readValue(json, SolverSpec.class);
        assertEquals(spec, back);
        assertEquals(spec.hashCode(), back.hashCode());
        assertFalse(spec.equals(Iia.neutral(Form.IIA_EDM, 1, 3)));
        assertEquals("iia-edm r1", spec.label());
    }
}
