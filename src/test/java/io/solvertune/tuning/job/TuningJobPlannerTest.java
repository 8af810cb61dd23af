package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The plan is a deterministic DAG in topological order with the documented stages. */
class TuningJobPlannerTest {

    @Test
    void planIsADeterministicTopologicallyOrderedDag() throws Exception {
        JsonNode spec = TuningJobSpecTest.json("{'model': 'gmm-sd-d32', 'methods': ['dpmsolver-v3', 'dc', 'iia-ddim'],"
                + " 'nfe': [5, 6], 'guidance': [1, 7.5], 'seeds': {'train': 200, 'heldOut': 130, 'shardSize': 64}}");
        List<PlannedStage> plan = new TuningJobPlanner().plan(spec);
        assertEquals(Json.canonical(plan), Json.canonical(new TuningJobPlanner().plan(spec)));
        Set<String> seen = new HashSet<>();
        for (PlannedStage s : plan) {
            assertNotNull(TuningStages.executors().get(s.kind()), s.kind());
            for (String d : s.dependsOn()) {
                assertTrue(seen.contains(d), s.name() + " depends on " + d + " which is not before it");
            }
            assertTrue(seen.add(s.name()), "duplicate " + s.name());
        }
        List<String> names = plan.stream().map(PlannedStage::name).toList();
        // per guidance: 4 + 3 shards, 2 merges, baseline, 2 coefficient fits, EMS + validation, grids; then publish
        assertEquals(2 * (4 + 3 + 2 + 1 + 2 + 2 + 1) + 1, plan.size());
        assertTrue(names.contains("g7.5/teacher-train-003"));
        assertTrue(names.contains("g1/teacher-heldout-002"));
        assertTrue(names.contains("g7.5/fit-dc") && names.contains("g7.5/validate-dpmsolver-v3"));
        // the grids run every result of their guidance scale on the held-out teacher's seeds; publish does not wait
        PlannedStage grids = plan.get(names.indexOf("g7.5/sample-grids"));
        assertEquals(StageKind.SAMPLE_GRIDS.id(), grids.kind());
        assertEquals(List.of("g7.5/teacher-heldout", "g7.5/baseline", "g7.5/fit-dc", "g7.5/fit-iia-ddim",
                "g7.5/validate-dpmsolver-v3"), grids.dependsOn());
        assertEquals(8, grids.params().get("seeds").asInt());
        // a model known to have other samples than images gets none; an image model or an unknown shape gets them
        List<PlannedStage> mixture = new TuningJobPlanner().plan(spec, new JobPlanner.Model(1, "m", 0, new long[] {32}));
        assertEquals(plan.size() - 2, mixture.size());
        assertTrue(mixture.stream().noneMatch(s -> s.kind().equals(StageKind.SAMPLE_GRIDS.id())));
        assertEquals(Json.canonical(plan), Json.canonical(new TuningJobPlanner().plan(spec,
                new JobPlanner.Model(1, "m", 0, new long[] {1, 28, 28}))));
        assertEquals(Json.canonical(plan), Json.canonical(new TuningJobPlanner().plan(spec,
                new JobPlanner.Model(1, "m", 0))));
        PlannedStage last = plan.get(plan.size() - 1);
        assertEquals("publish", last.kind());
        assertEquals(List.of("g1/baseline", "g1/fit-dc", "g1/fit-iia-ddim", "g1/validate-dpmsolver-v3",
                "g7.5/baseline", "g7.5/fit-dc", "g7.5/fit-iia-ddim", "g7.5/validate-dpmsolver-v3"), last.dependsOn());
        // shards cover the seeds without overlap; only the first runs the half-step check
        PlannedStage s3 = plan.get(names.indexOf("g7.5/teacher-train-003"));
        assertEquals(192, s3.params().get("firstSeed").asLong());
        assertEquals(8, s3.params().get("count").asInt());
        assertEquals(0, s3.params().get("checkSeeds").asInt());
        assertEquals(16, plan.get(names.indexOf("g7.5/teacher-train-000")).params().get("checkSeeds").asInt());
        assertEquals(1_000_128, plan.get(names.indexOf("g1/teacher-heldout-002")).params().get("firstSeed").asLong());
    }
}
