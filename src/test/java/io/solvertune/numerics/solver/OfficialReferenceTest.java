package io.solvertune.numerics.solver;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every configuration of the three problems in {@code shared/reference} (234 each) reproduces the official
 * {@code dpm_solver_pytorch.py} / {@code uni_pc.py} output to {@code |ours - ref| <= 1e-9 max(1, |ref|)} in float64.
 */
class OfficialReferenceTest {
    static final double TOL = 1e-9;
    static NDManager manager;
    static final java.util.concurrent.ConcurrentHashMap<String, Double> WORST = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        WORST.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).forEach(e ->
                System.out.printf("reference %-24s worst scaled error %.3e%n", e.getKey(), e.getValue()));
        manager.close();
    }

    /** Parses a reference key {@code lib|algorithm|method|o<order>|<skip>|nfe<steps>[|variant]}. */
    static SamplerConfig parseKey(String key, double tStart, double tEnd) {
        String[] p = key.split("\\|");
        int order = Integer.parseInt(p[3].substring(1));
        TimestepSpacing spacing = TimestepSpacing.named(p[4], 7.0);
        int steps = Integer.parseInt(p[5].substring(3));
        SolverSpec spec;
        if (p[0].equals("dpm")) {
            PredictionType pred = p[1].equals("dpmsolver++") ? PredictionType.DATA : PredictionType.NOISE;
            DpmSolver.Method method = DpmSolver.Method.valueOf(p[2].toUpperCase());
            spec = new DpmSolver(pred, method, order, DpmSolver.SolverType.DPMSOLVER);
        } else {
            PredictionType pred = p[1].equals("data_prediction") ? PredictionType.DATA : PredictionType.NOISE;
            spec = new UniPc(pred, UniPc.Variant.valueOf(p[6].toUpperCase()), order);
        }
        return new SamplerConfig(spec, spacing, steps, tStart, tEnd, true, false);
    }

    @TestFactory
    Stream<DynamicContainer> reproducesOfficialOutputs() {
        List<DynamicContainer> containers = new ArrayList<>();
        for (String name : ReferenceProblem.NAMES) {
            ReferenceProblem problem = ReferenceProblem.load(name);
            List<DynamicTest> tests = new ArrayList<>();
            List<String> keys = problem.configKeys();
            assertEquals(234, keys.size(), name);
            for (String key : keys) {
                tests.add(DynamicTest.dynamicTest(key, () -> check(problem, key)));
            }
            containers.add(DynamicContainer.dynamicContainer(name, tests));
        }
        return containers.stream();
    }

    static void check(ReferenceProblem problem, String key) {
        NpyArray xT = problem.get("x_T");
        NpyArray ref = problem.get(key);
        SamplerConfig cfg = parseKey(key, problem.tStart, problem.tEnd);
        try (NDManager m = manager.newSubManager();
             GaussianMixtureDenoiser model = problem.model()) {
            NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
            ModelFunction fn = new ModelFunction(model, problem.guidance);
            SampleResult r = Sampler.sample(cfg, fn, x);
            double[] ours = r.x().toDoubleArray();
            double[] theirs = ref.doubles();
            double worst = 0;
            for (int i = 0; i < ours.length; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / Math.max(1.0, Math.abs(theirs[i])));
            }
            WORST.merge(problem.name, worst, Math::max);
            assertTrue(worst <= TOL, key + ": worst scaled error " + worst);
            assertEquals(expectedNfe(cfg), r.nfe(), key + " NFE");
        }
    }

    static long expectedNfe(SamplerConfig cfg) {
        return cfg.steps();
    }
}
