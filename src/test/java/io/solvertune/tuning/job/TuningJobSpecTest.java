package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Strict parsing of job specs: defaults, and every problem names its field. */
class TuningJobSpecTest {

    static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s.replace('\'', '"'));
    }

    static String error(String spec) throws Exception {
        JsonNode n = json(spec);
        return assertThrows(IllegalArgumentException.class, () -> TuningJobSpec.parse(n)).getMessage();
    }

    @Test
    void defaultsMatchTheBenchmarkProtocol() throws Exception {
        TuningJobSpec s = TuningJobSpec.parse(json("{'model': 'gmm-sd-d32', 'methods': ['dc'], 'nfe': [5], 'guidance': [7.5]}"));
        assertEquals(500, s.teacher().steps());
        assertEquals(1e-4, s.teacher().tolerance());
        assertEquals(16, s.teacher().checkSeeds());
        assertEquals(512, s.seeds().train());
        assertEquals(1024, s.seeds().heldOut());
        assertEquals(256, s.seeds().fitRows());
        assertEquals(128, s.seeds().coefficientFitRows());
        assertEquals(1_000_000, s.seeds().heldOutBase());
        assertEquals(TuningJobSpec.ALL_SPACINGS, s.spacings());
        assertTrue(s.publishableHeldOut());
        TuningJobSpec small = TuningJobSpec.parse(json("{'model': 3, 'methods': ['dpmsolver-v3', 'iia-edm'], 'nfe': [5, 6],"
                + " 'guidance': [1], 'seeds': {'train': 32, 'heldOut': 16}}"));
        assertFalse(small.publishableHeldOut());
        assertEquals(List.of(io.solvertune.tuning.MethodId.IIA_EDM), small.coefficientMethods());
        assertTrue(small.wantsDpmSolverV3());
        assertEquals(3, small.model().asInt());
    }

    @Test
    void everyProblemNamesItsField() throws Exception {
        String base = "'model': 'gmm-sd-d32', 'methods': ['dc'], 'nfe': [5], 'guidance': [7.5]";
        assertTrue(error("{" + base + ", 'colour': 1}").startsWith("colour: unknown field"));
        assertTrue(error("{'methods': ['dc'], 'nfe': [5], 'guidance': [1]}").startsWith("model: required"));
        assertTrue(error("{'model': true, 'methods': ['dc'], 'nfe': [5], 'guidance': [1]}").startsWith("model: "));
        String unknown = error("{'model': 'm', 'methods': ['dc', 'magic'], 'nfe': [5], 'guidance': [1]}");
        assertTrue(unknown.startsWith("methods[1]: unknown method 'magic' (known: dpmsolver-v3, "), unknown);
        assertTrue(unknown.contains("biia-edm") && unknown.contains("dode-teacher"), unknown);
        assertEquals("methods[0]: consistency-solver is not yet supported",
                error("{'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5], 'guidance': [1]}"));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5, 51], 'guidance': [1]}").startsWith("nfe[1]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5, 5], 'guidance': [1]}").startsWith("nfe[1]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [0]}").startsWith("guidance[0]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': 5, 'guidance': [1]}").startsWith("nfe: expected a JSON array"));
        assertTrue(error("{" + base + ", 'spacings': ['logSNR', 'cosine']}").startsWith("spacings[1]: unknown spacing"));
        assertTrue(error("{" + base + ", 'teacher': {'steps': 0}}").startsWith("teacher.steps: "));
        assertTrue(error("{" + base + ", 'teacher': {'stpes': 10}}").startsWith("teacher.stpes: unknown field"));
        assertTrue(error("{" + base + ", 'teacher': {'tolerance': -1}}").startsWith("teacher.tolerance: "));
        assertTrue(error("{" + base + ", 'seeds': {'heldOut': 1}}").startsWith("seeds.heldOut: "));
        assertTrue(error("{" + base + ", 'seeds': {'train': 64, 'fitRows': 63}}").startsWith("seeds.fitRows: "));
        assertTrue(error("{" + base + ", 'seeds': {'train': 100, 'heldOut': 10, 'heldOutBase': 50}}")
                .startsWith("seeds.heldOutBase: held-out seeds 50..59 overlap the training seeds 0..99"));
        assertTrue(error("{" + base + ", 'ems': {'source': 'magic'}}").startsWith("ems.source: "));
        assertTrue(error("{'model': 'm', 'methods': ['dpmsolver-v3'], 'nfe': [5], 'guidance': [1],"
                + " 'teacher': {'steps': 100, 'recordEvery': 3}}").startsWith("teacher.recordEvery: must divide"));
        assertTrue(error("{" + base + ", 'batch': 'big'}").startsWith("batch: expected an integer"));
        assertTrue(error("[1]").startsWith("spec: expected a JSON object"));
    }

    @Test
    void theExampleJobsParse() throws Exception {
        for (String f : List.of("tuning-jobs/gmm-quick.json", "tuning-jobs/fmnist-empirical.json")) {
            TuningJobSpec s = TuningJobSpec.parse(Json.MAPPER.readTree(Files.readString(Path.of(f))));
            assertFalse(new TuningJobPlanner().plan(s).isEmpty(), f);
        }
    }

    static InvalidSpecException invalid(String spec, JobLimits limits, JobPlanner.Model model) throws Exception {
        JsonNode n = json(spec);
        return assertThrows(InvalidSpecException.class, () -> TuningJobSpec.parse(n, limits, model));
    }

    static List<String> fields(String spec) throws Exception {
        return invalid(spec, JobLimits.DEFAULTS, null).errors().stream().map(InvalidSpecException.FieldError::field)
                .toList();
    }

    @Test
    void everyErrorIsReportedNotOnlyTheFirst() throws Exception {
        InvalidSpecException e = invalid("{'model': 'm', 'methods': ['magic'], 'nfe': [0], 'guidance': [-1],"
                + " 'seeds': {'train': 1}, 'batch': 'big'}", JobLimits.DEFAULTS, null);
        assertEquals(List.of("methods[0]", "nfe[0]", "guidance[0]", "seeds.train", "batch"),
                e.errors().stream().map(InvalidSpecException.FieldError::field).toList(), e.getMessage());
        assertTrue(e.getMessage().startsWith("methods[0]: unknown method 'magic'"), e.getMessage());
        assertTrue(e.getMessage().contains("; nfe[0]: expected an integer in 1..50, got 0"), e.getMessage());
        // a thousand bad values are summarised, not listed
        String many = "[" + "0, ".repeat(15) + "0]";
        assertEquals(List.of("nfe[0]", "nfe[1]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [0, -1],"
                + " 'guidance': [1]}"));
        assertEquals(16, fields("{'model': 'm', 'methods': ['dc'], 'nfe': " + many + ", 'guidance': [1]}").size());
    }

    @Test
    void integerOverflowIsRefusedNotWrapped() throws Exception {
        // 4294967301 = 2^32 + 5 used to wrap to NFE 5
        assertEquals(List.of("nfe[0]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [4294967301], 'guidance': [1]}"));
        assertEquals(List.of("classLabel"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1],"
                + " 'classLabel': 4294967297}"));
        // heldOutBase + heldOut used to overflow past the overlap check
        assertEquals(List.of("seeds.heldOutBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'heldOutBase': 9223372036854775807}}"));
        assertEquals(List.of("seeds.trainBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'trainBase': 9223372036854775300}}"));
        assertEquals(List.of("seeds.heldOutBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'heldOutBase': 92233720368547758070}}"));
        assertEquals(List.of("model"), fields("{'model': 92233720368547758070, 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1]}"));
    }

    @Test
    void guidanceIsBoundedAndItsStageNamesStayShort() throws Exception {
        for (String g : List.of("1e200", "1e308", "1e-300", "100.5", "0.0009")) {
            assertEquals(List.of("guidance[0]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': ["
                    + g + "]}"), g);
        }
        for (String g : List.of("0.001", "100", "7.123456789012345", "0.0012345678901234567")) {
            TuningJobSpec s = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['dpmsolver-v3', 'dc'], 'nfe': [5],"
                    + " 'guidance': [" + g + "]}"));
            for (PlannedStage st : new TuningJobPlanner().plan(s)) {
                assertTrue(st.name().length() <= 64, st.name());
            }
        }
    }

    @Test
    void planSizeIsBounded() throws Exception {
        String base = "'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1]";
        // the reviewer's 200,000 seeds in shards of 1 (400,007 stages) and 10,000,000 seeds
        assertEquals(List.of("seeds.train"),
                fields("{" + base + ", 'seeds': {'train': 200000, 'heldOut': 200, 'shardSize': 1}}"));
        assertTrue(fields("{" + base + ", 'seeds': {'train': 10000000, 'heldOut': 10000000}}")
                .containsAll(List.of("seeds.train", "seeds.heldOut")));
        assertEquals(List.of("seeds"), fields("{" + base + ", 'seeds': {'train': 60000, 'heldOut': 60000,"
                + " 'shardSize': 1000}}"));
        String shards = invalid("{" + base + ", 'seeds': {'train': 1000, 'heldOut': 100, 'shardSize': 1}}",
                JobLimits.DEFAULTS, null).getMessage();
        assertEquals("seeds.shardSize: 1000 seeds in shards of 1 make 1000 teacher stages, at most 256 per split: use"
                + " shardSize >= 4", shards);
        assertEquals(List.of("nfe"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [" + "1, ".repeat(20) + "2],"
                + " 'guidance': [1]}"));
        assertEquals(List.of("guidance"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': ["
                + "1, ".repeat(9) + "2]}"));
        assertEquals(List.of("batch"), fields("{" + base + ", 'batch': 1000000}"));
        assertEquals(List.of("ems.samples"), fields("{" + base + ", 'ems': {'samples': 10000000}}"));
        // stages of the whole plan: limits made small to see the check
        JobLimits few = new JobLimits(100_000, 256, 30, 16, 8, 100, 100_000, 4096);
        InvalidSpecException e = invalid("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1, 2],"
                + " 'seeds': {'train': 512, 'heldOut': 256, 'shardSize': 64}}", few, null);
        assertEquals("guidance", e.errors().get(0).field());
        assertTrue(e.getMessage().contains("the plan would have 33 stages"), e.getMessage());
        TuningJobSpec ok = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1, 2],"
                + " 'seeds': {'train': 512, 'heldOut': 256, 'shardSize': 128}}"), few);
        assertEquals(new TuningJobPlanner(few).plan(ok).size(), ok.plannedStages());
    }

    @Test
    void plannedStagesMatchesThePlan() throws Exception {
        for (String spec : List.of("{'model': 'm', 'methods': ['dpmsolver-v3', 'dc', 'iia-ddim'], 'nfe': [5, 6],"
                + " 'guidance': [1, 7.5], 'seeds': {'train': 200, 'heldOut': 130, 'shardSize': 64}}",
                "{'model': 'm', 'methods': ['dode'], 'nfe': [5], 'guidance': [2], 'seeds': {'shardSize': 1000}}")) {
            TuningJobSpec s = TuningJobSpec.parse(json(spec));
            assertEquals(new TuningJobPlanner().plan(s).size(), s.plannedStages(), spec);
        }
    }

    @Test
    void classLabelIsCheckedAgainstTheModel() throws Exception {
        String spec = "{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1], 'classLabel': 99}";
        InvalidSpecException e = invalid(spec, JobLimits.DEFAULTS, new JobPlanner.Model(1, "two", 2));
        assertEquals("classLabel: model 'two' has 2 classes (0..1), got 99", e.getMessage());
        assertEquals("classLabel: model 'plain' is unconditional (it has no classes)",
                invalid(spec, JobLimits.DEFAULTS, new JobPlanner.Model(1, "plain", 0)).getMessage());
        assertEquals(1, TuningJobSpec.parse(json(spec.replace("99", "1")), JobLimits.DEFAULTS,
                new JobPlanner.Model(1, "two", 2)).classLabel());
        assertEquals(99, TuningJobSpec.parse(json(spec)).classLabel(), "without a model nothing to check against");
    }
}
