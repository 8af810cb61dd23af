package io.solvertune.numerics.solver.dc;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * DC-Solver sampler: the official LDM {@code DCSolver} outputs of {@code dcfixn128_<problem>} are reproduced to
 * {@code 1e-9 max(1, |ref|)} given their ratios; neutral ratios give the base solver bit for bit; the stepper's
 * trial steps leave the run untouched and leak nothing.
 */
class DcSolverTest {
    static final double TOL = 1e-9;
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** {@code <tag>|unipc-bh1|o3|time_uniform|nfe5} with its ratios. */
    static SamplerConfig parse(String key, double[] ratios, ReferenceProblem p) {
        String[] k = key.split("\\|");
        UniPc.Variant v = UniPc.Variant.valueOf(k[1].substring("unipc-".length()).toUpperCase());
        int order = Integer.parseInt(k[2].substring(1));
        int steps = Integer.parseInt(k[4].substring(3));
        SolverSpec base = new UniPc(PredictionType.DATA, v, order);
        return new SamplerConfig(new Dc(base, ratios), TimestepSpacing.named(k[3], 7.0), steps, p.tStart,
                p.tEnd, true, false);
    }

    @TestFactory
    Stream<DynamicContainer> reproducesOfficialDcSolverOutputs() throws IOException {
        List<DynamicContainer> out = new ArrayList<>();
        for (String name : ReferenceProblem.NAMES) {
            ReferenceProblem p = ReferenceProblem.load(name);
            JsonNode meta = new ObjectMapper().readTree(ReferenceProblem.resource("dcfixn128_" + name + ".json").toFile());
            Map<String, NpyArray> arrays = Npy.readNpz(ReferenceProblem.resource("dcfixn128_" + name + ".npz"));
            List<DynamicTest> tests = new ArrayList<>();
            for (JsonNode c : meta.get("configs")) {
                String key = c.get("key").asText();
                double[] ratios = new double[c.get("ratios").size()];
                for (int i = 0; i < ratios.length; i++) {
                    ratios[i] = c.get("ratios").get(i).asDouble();
                }
                tests.add(DynamicTest.dynamicTest(key, () -> {
                    double[] ours = run(p, parse(key, ratios, p));
                    double[] ref = arrays.get(key).doubles();
                    assertClose(ref, ours, key);
                    if (key.startsWith("base|")) {
                        // all ratios 1: the plain UniPC reference of ref_<problem>.npz, and our UniPC bit for bit
                        String[] k = key.split("\\|");
                        String uni = "unipc|data_prediction|multistep|" + k[2] + "|" + k[3] + "|" + k[4] + "|"
                                + k[1].substring("unipc-".length());
                        assertClose(p.get(uni).doubles(), ours, uni);
                        Dc dc = (Dc) parse(key, ratios, p).solver();
                        assertArrayEquals(run(p, with(parse(key, ratios, p), dc.base())), ours, 0.0);
                    }
                }));
            }
            assertEquals(8, tests.size(), name);
            out.add(DynamicContainer.dynamicContainer(name, tests));
        }
        return out.stream();
    }

    static void assertClose(double[] ref, double[] ours, String what) {
        assertEquals(ref.length, ours.length, what);
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / Math.max(1.0, Math.abs(ref[i])));
        }
        assertTrue(worst <= TOL, what + ": worst scaled error " + worst);
    }

    static SamplerConfig with(SamplerConfig c, SolverSpec spec) {
        return new SamplerConfig(spec, c.spacing(), c.steps(), c.tStart(), c.tEnd(), c.lowerOrderFinal(),
                c.denoiseToZero());
    }

    static double[] run(ReferenceProblem p, SamplerConfig cfg) {
        return p.sample(cfg);
    }

    static final SolverSpec[] BASES = {
        new UniPc(PredictionType.DATA, UniPc.Variant.BH1, 3),
        new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 2),
        new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 1),
        new UniPc(PredictionType.NOISE, UniPc.Variant.BH2, 3),
        DpmSolver.plusPlusMultistep(2),
        DpmSolver.plusPlusMultistep(3),
    };

    @Test
    void neutralRatiosReproduceEveryBaseBitForBitAndOtherRatiosChangeTheResult() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        for (SolverSpec base : BASES) {
            for (int steps : new int[] {6}) {
                SamplerConfig plain = new SamplerConfig(base, new TimestepSpacing.TimeUniform(), steps, p.tStart,
                        p.tEnd, true, false);
                double[] ref = run(p, plain);
                double[] neutral = run(p, with(plain, Dc.neutral(base, steps)));
                assertArrayEquals(ref, neutral, 0.0, base.label());
                double[] r = Dc.neutral(base, steps).ratios();
                r[steps - 2] = 1.1;
                double[] moved = run(p, with(plain, new Dc(base, r)));
                assertFalse(java.util.Arrays.equals(ref, moved), base.label());
            }
        }
    }

    @Test
    void lagrangeWeightsInterpolateExactlyAndAreNeutralAtOne() {
        double[] ts = {0.4, 0.6, 0.8};
        assertArrayEquals(new double[] {1, 0, 0}, DcSolver.weights(ts, 1.0), 0.0);
        assertArrayEquals(new double[] {0, 1, 0}, DcSolver.weights(ts, 0.0), 1e-15);
        assertArrayEquals(new double[] {0, 0, 1}, DcSolver.weights(ts, -1.0), 1e-14);
        // a quadratic in t is reproduced at t' = 0.4 * 1.3 + 0.6 * (-0.3)
        double[] w = DcSolver.weights(ts, 1.3);
        double tp = 0.4 * 1.3 + 0.6 * (1 - 1.3);
        double f = 0;
        for (int k = 0; k < 3; k++) {
            f += w[k] * (2 * ts[k] * ts[k] - ts[k] + 0.5);
        }
        assertEquals(2 * tp * tp - tp + 0.5, f, 1e-14);
    }

    @Test
    void badInputNamesTheField() {
        SolverSpec uni = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dc(uni, new double[] {1, 1.2, 1, 1, 1}));
        assertTrue(e.getMessage().contains("ratios[1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dc(uni, new double[] {1, 1, Double.NaN}));
        assertTrue(e.getMessage().contains("ratios[2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dc(new Ddim(), new double[] {1}));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dc(null, new double[] {1}));
        assertTrue(e.getMessage().contains("base"), e.getMessage());
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        SamplerConfig cfg = new SamplerConfig(Dc.neutral(uni, 4), new TimestepSpacing.TimeUniform(), 5,
                p.tStart, p.tEnd, true, false);
        e = assertThrows(IllegalArgumentException.class, () -> run(p, cfg));
        assertTrue(e.getMessage().contains("ratios has 4 entries but the run has 5 steps"), e.getMessage());
    }

    @Test
    void jsonRoundTrip() throws IOException {
        Dc dc = new Dc(new UniPc(PredictionType.DATA, UniPc.Variant.BH1, 3),
                new double[] {1, 1, 0.9, 1.25});
        String json = Json.canonical(dc);
        assertTrue(json.contains("\"solver\":\"dc\""), json);
        assertEquals(dc, Json.MAPPER.readValue(json, SolverSpec.class));
    }

    @Test
    void stepperMatchesTheSamplerAndTrialsLeaveNothingBehind() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        double[] ratios = {1, 1, 1.2, 0.8, 1.1, 0.95};
        for (SolverSpec base : BASES) {
            SamplerConfig cfg = new SamplerConfig(new Dc(base, ratios), new TimestepSpacing.TimeUniform(),
                    ratios.length, p.tStart, p.tEnd, true, false);
            double[] viaSampler = run(p, cfg);
            NpyArray xT = p.get("x_T");
            try (NDManager m = manager.newSubManager(); GaussianMixtureDenoiser model = p.model()) {
                NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
                ModelFunction fn = new ModelFunction(model, p.guidance);
                try (DcStepper st = DcStepper.start(cfg, fn, x)) {
                    for (int i = 0; i < ratios.length; i++) {
                        double[] before = st.state();
                        double probe = i < 2 ? 1.0 : 0.7;
                        double[] trial1 = st.trial(probe);
                        int arrays = m.getManagedArrays().size();
                        double[] trial2 = st.trial(probe);
                        assertEquals(arrays, m.getManagedArrays().size(), "a trial left arrays behind");
                        assertArrayEquals(trial1, trial2, 0.0);
                        double[] trial = st.trial(ratios[i]);
                        assertArrayEquals(before, st.state(), 0.0);
                        st.advance(ratios[i]);
                        assertArrayEquals(trial, st.state(), 0.0, base.label() + " step " + i);
                    }
                    try (NDArray r = st.result(m)) {
                        assertArrayEquals(viaSampler, r.toDoubleArray(), 0.0, base.label());
                    }
                }
                // model calls: the plain run's, plus one per trial that runs a corrector
                assertTrue(fn.nfe() >= ratios.length);
            }
        }
    }
}
