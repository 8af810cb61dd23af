package io.solvertune.numerics.solver.v3;

import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every configuration of {@code v3_<problem>.json/.npz} (official {@code DPM_Solver_v3}, float64) is reproduced to
 * {@code |ours - ref| <= 1e-7 max(1, |ref|)} from {@code ems_<problem>/} and the listed grid indexes; the spacing
 * snapped by our solver gives the same indexes and times, and our statistics grid is the official one.
 */
class DpmSolverV3ReferenceTest {
    static final double TOL = 1e-7;
    static NDManager manager;
    static final Map<String, Double> WORST = new ConcurrentHashMap<>();

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        WORST.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
                System.out.printf("dpmsolver-v3 reference %-24s worst scaled error %.3e%n", e.getKey(), e.getValue()));
        manager.close();
    }

    /** One problem's v3 data. */
    record V3Problem(ReferenceProblem base, JsonNode meta, Map<String, NpyArray> outputs, EmpiricalModelStatistics ems) {
        static V3Problem load(String name) {
            try {
                ReferenceProblem base = ReferenceProblem.load(name);
                JsonNode meta = new ObjectMapper().readTree(ReferenceProblem.resource("v3_" + name + ".json").toFile());
                Map<String, NpyArray> outputs = Npy.readNpz(ReferenceProblem.resource("v3_" + name + ".npz"));
                EmpiricalModelStatistics ems = EmsNpz.read(ReferenceProblem.resource("ems_" + name),
                        meta.get("t_start").asDouble(), meta.get("t_end").asDouble());
                return new V3Problem(base, meta, outputs, ems);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Key {@code v3|<skip>|o<order>|corr<0/1>|cps<0/1>|nfe<n>[|degenerated]}. */
    static SolverSpec spec(EmpiricalModelStatistics ems, String key, int[] indexes) {
        String[] p = key.split("\\|");
        int order = Integer.parseInt(p[2].substring(1));
        boolean corr = p[3].equals("corr1");
        boolean cps = p[4].equals("cps1");
        boolean degenerated = p.length > 6 && p[6].equals("degenerated");
        return new DpmSolverV3(ems, order, false, corr, cps, false, degenerated, indexes);
    }

    static SamplerConfig config(SolverSpec spec, String key, V3Problem pr) {
        String[] p = key.split("\\|");
        TimestepSpacing spacing = TimestepSpacing.named(p[1], 7.0);
        int steps = Integer.parseInt(p[5].substring(3));
        return new SamplerConfig(spec, spacing, steps, pr.meta.get("t_start").asDouble(),
                pr.meta.get("t_end").asDouble(), true, false);
    }

    static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    static double[] doubles(JsonNode a) {
        double[] r = new double[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asDouble();
        }
        return r;
    }

    @TestFactory
    Stream<DynamicContainer> reproducesOfficialOutputs() {
        List<DynamicContainer> containers = new ArrayList<>();
        for (String name : ReferenceProblem.NAMES) {
            V3Problem pr = V3Problem.load(name);
            List<DynamicTest> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("lambda grid", () -> checkLambdaGrid(pr)));
            JsonNode configs = pr.meta.get("configs");
            assertTrue(configs.size() > 0, name);
            for (JsonNode c : configs) {
                String key = c.get("key").asText();
                tests.add(DynamicTest.dynamicTest(key, () -> check(pr, c)));
            }
            containers.add(DynamicContainer.dynamicContainer(name, tests));
        }
        return containers.stream();
    }

    static void checkLambdaGrid(V3Problem pr) {
        double[] ours = pr.ems.integrals(pr.base.schedule).lambdas();
        double[] theirs = doubles(pr.meta.get("lambda_grid"));
        assertEquals(pr.meta.get("K_grid").asInt() + 1, ours.length);
        assertEquals(theirs.length, ours.length);
        for (int j = 0; j < ours.length; j++) {
            assertEquals(theirs[j], ours[j], 1e-11, "lambda grid at " + j);
        }
    }

    static void check(V3Problem pr, JsonNode c) {
        String key = c.get("key").asText();
        int[] indexes = ints(c.get("indexes"));
        double[] refTimes = doubles(c.get("timesteps"));
        ReferenceProblem problem = pr.base;
        NpyArray xT = problem.get("x_T");
        NpyArray ref = pr.outputs.get(key);
        assertTrue(ref != null, "no output for " + key);

        // our snapping of the spacing gives the listed indexes and times
        SolverSpec snapped = spec(pr.ems, key, null);
        DpmSolverV3Solver solver = (DpmSolverV3Solver) snapped.create();
        double[] times = solver.grid(problem.schedule, config(snapped, key, pr), pr.meta.get("t_start").asDouble(),
                pr.meta.get("t_end").asDouble());
        assertArrayEquals(indexes, solver.indexes(), key + " snapped indexes");
        for (int i = 0; i < times.length; i++) {
            assertEquals(refTimes[i], times[i], 1e-12 * Math.max(1.0, refTimes[i]), key + " snapped time " + i);
        }

        SolverSpec spec = spec(pr.ems, key, indexes);
        SamplerConfig cfg = config(spec, key, pr);
        try (NDManager m = manager.newSubManager();
             GaussianMixtureDenoiser model = problem.model()) {
            NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
            ModelFunction fn = new ModelFunction(model, problem.guidance);
            SampleResult r = Sampler.sample(cfg, fn, x);
            double[] ours = r.x().toDoubleArray();
            double[] theirs = ref.doubles();
            assertEquals(theirs.length, ours.length);
            double worst = 0;
            for (int i = 0; i < ours.length; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / Math.max(1.0, Math.abs(theirs[i])));
            }
            WORST.merge(problem.name, worst, Math::max);
            assertTrue(worst <= TOL, key + ": worst scaled error " + worst);
            assertEquals(cfg.steps(), r.nfe(), key + " NFE");
            assertArrayEquals(times, r.grid(), key + " grid");
        }
    }
}
