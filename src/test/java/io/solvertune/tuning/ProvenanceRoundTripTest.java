package io.solvertune.tuning;

import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.coeff.EmsMetadata;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every record that carries provenance survives its JSON round trip with every meaningful field intact, zeros and
 * {@code false} included: {@code value -> JSON -> value} is equal component by component (arrays by content), through
 * the mapper that writes the artifact. The instances are built with the edge values a lossy annotation would drop
 * (class 0, seed 0, zero counts and times); a class-0 guidance once vanished this way ({@code NON_DEFAULT}), so a
 * class-0 run read back as unconditional.
 */
class ProvenanceRoundTripTest {

    static final Guidance CLASS_0 = new Guidance(0, 7.5);

    static Stream<Arguments> records() {
        ScheduleSpec schedule = new ScheduleSpec.VpDiscrete("scaled_linear", 1000, null, null, null, null, null);
        TeacherSettings teacher = new TeacherSettings(DpmSolver.plusPlusMultistep(3),
                new TimestepSpacing.LogSnr(), 500, 1.0, 0.001, 5, false, 64, "float64", 1e-4, 0);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("classLabel", 0);
        settings.put("ridge", 0.0);
        settings.put("objective", "final");
        CoefficientSet.Provenance prov = new CoefficientSet.Provenance("0".repeat(64), schedule, CLASS_0, teacher,
                new long[] {0, 1}, "0.1.0+abc", "2026-12-06T00:00:00Z", settings);
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC,
                DpmSolver.plusPlusMultistep(2), new TimestepSpacing.LogSnr(), 2, 2,
                new double[] {1.0, 0.5, 0.001}, List.of("ratio"), new double[][] {{1.0}, {0.0}},
                new CoefficientSet.FitReport(0, new double[] {0.0, 0.0}, new double[] {0.0, 0.0}, new int[] {0, 0},
                        0.0, List.of()),
                new CoefficientSet.Validation(0, 0.0, 0.0, 0.0, 0.0, CoefficientSet.Verdict.TIE, "ddim", 0.0,
                        CoefficientSet.Verdict.TIE),
                prov);
        TrajectorySetMeta meta = new TrajectorySetMeta(TrajectorySetMeta.FORMAT_VERSION, TrajectorySetMeta.KIND,
                "0".repeat(64), schedule, CLASS_0, teacher, new long[] {0}, new double[] {1.0, 0.0},
                new int[] {0, 500}, new long[] {8}, "float64", "cpu", "0.1.0+abc", "noise",
                new TrajectorySetMeta.Accuracy(0, 0, 0, 0.0, 0.0, 1e-4, false),
                new TrajectorySetMeta.Throughput(0, 0, 0.0, 0.0, 0.0),
                List.of(new TrajectorySetMeta.Shard(0, 0, 0, "shard-0.npz", "0".repeat(64), 0, 0.0)),
                "trajectories.npz", "0".repeat(64), "2026-12-06T00:00:00Z");
        ModelSpec spec = new ModelSpec(schedule, new DenoiserSpec.GaussianMixture(new double[] {1.0},
                new double[][] {{0.0}}, new double[] {0.0}, new int[] {0}, 0, null), CLASS_0, "float64");
        EmsMetadata ems = new EmsMetadata(EmsMetadata.FORMAT_VERSION, 2, new long[] {8}, 1.0, 0.001, null, null,
                schedule, "");
        Candidate candidate = new Candidate("ddim logSNR", new Ddim(), new TimestepSpacing.LogSnr(),
                false, false, 0.0, 0.0);
        return Stream.of(
                Arguments.of("Guidance class 0", CLASS_0, Guidance.class, Json.MAPPER),
                Arguments.of("Guidance class 0 unguided", new Guidance(0, 1.0), Guidance.class, Json.MAPPER),
                Arguments.of("Guidance per seed", Guidance.perSeed(3.0), Guidance.class, Json.MAPPER),
                Arguments.of("Guidance none", Guidance.none(), Guidance.class, Json.MAPPER),
                Arguments.of("Guidance class 0 in a model spec", CLASS_0, Guidance.class, ModelSpec.MAPPER),
                Arguments.of("TeacherSettings", teacher, TeacherSettings.class, Json.MAPPER),
                Arguments.of("CoefficientSet with provenance", set, CoefficientSet.class, Json.MAPPER),
                Arguments.of("TrajectorySetMeta", meta, TrajectorySetMeta.class, Json.MAPPER),
                Arguments.of("ModelSpec", spec, ModelSpec.class, ModelSpec.MAPPER),
                Arguments.of("EmsMetadata", ems, EmsMetadata.class, Json.MAPPER),
                Arguments.of("Candidate", candidate, Candidate.class, Json.MAPPER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("records")
    void roundTripsEveryField(String name, Object value, Class<?> type, ObjectMapper mapper) throws Exception {
        String json = mapper.writeValueAsString(value);
        Object back = mapper.readValue(json, type);
        assertDeepEquals(name, value, back);
        assertEquals(json, mapper.writeValueAsString(back), name + ": the second write differs from the first");
    }

    /** The class of a class-0 run is written out wherever its guidance is: it must not read as unconditional. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("records")
    void aClassZeroIsWrittenOut(String name, Object value, Class<?> type, ObjectMapper mapper) throws Exception {
        JsonNode tree = mapper.valueToTree(value);
        for (JsonNode g : tree.findParents("scale")) {
            if (g.has("perSeedClass")) {
                continue;
            }
            Guidance back = mapper.treeToValue(g, Guidance.class);
            if (value instanceof Guidance gv) {
                assertEquals(gv, back, name);
            } else {
                assertEquals(CLASS_0, back, name + ": " + g);
                assertTrue(g.has("classLabel") && g.get("classLabel").asInt() == 0, name + ": " + g);
            }
        }
    }

    static void assertDeepEquals(String path, Object a, Object b) throws Exception {
        if (a == null || b == null) {
            if (a != b) {
                fail(path + ": " + a + " became " + b);
            }
            return;
        }
        if (a.getClass().isRecord()) {
            assertEquals(a.getClass(), b.getClass(), path);
            for (RecordComponent rc : a.getClass().getRecordComponents()) {
                assertDeepEquals(path + "." + rc.getName(), rc.getAccessor().invoke(a), rc.getAccessor().invoke(b));
            }
            return;
        }
        if (a.getClass().isArray()) {
            assertTrue(b.getClass().isArray(), path + ": array became " + b.getClass());
            assertEquals(Array.getLength(a), Array.getLength(b), path + ": length");
            for (int i = 0; i < Array.getLength(a); i++) {
                assertDeepEquals(path + "[" + i + "]", Array.get(a, i), Array.get(b, i));
            }
            return;
        }
        if (a instanceof List<?> la) {
            List<?> lb = (List<?>) b;
            assertEquals(la.size(), lb.size(), path + ": size");
            for (int i = 0; i < la.size(); i++) {
                assertDeepEquals(path + "[" + i + "]", la.get(i), lb.get(i));
            }
            return;
        }
        if (a instanceof Map<?, ?> ma) {
            Map<?, ?> mb = (Map<?, ?>) b;
            assertEquals(ma.keySet(), mb.keySet(), path + ": keys");
            for (Iterator<?> it = ma.keySet().iterator(); it.hasNext(); ) {
                Object k = it.next();
                assertDeepEquals(path + "." + k, ma.get(k), mb.get(k));
            }
            return;
        }
        assertEquals(a, b, path);
    }
}
