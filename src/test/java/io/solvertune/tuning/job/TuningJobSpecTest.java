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
        assertEquals(List.of("iia-edm"), small.coefficientMethods());
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
}
