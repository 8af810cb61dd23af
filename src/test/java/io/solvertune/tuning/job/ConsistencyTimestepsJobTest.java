package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigProvenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ConsistencySolver on learned grids: {@code fit-consistency-solver+timesteps} is planned only with both
 * {@code consistency-solver} and {@code "timesteps": "learned"}, after the {@code timesteps} and {@code baseline}
 * stages; a tiny job on the reference mixture publishes {@code consistency-solver+timesteps} whose table runs exactly
 * the grid the {@code timesteps} stage chose (its {@code times}, the grid's optimisation in provenance), and
 * {@code evaluate} on the exported set reproduces its validated held-out error; cancelled in the middle of its
 * training and resumed, the job ends with the same bytes.
 */
class ConsistencyTimestepsJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['consistency-solver'], 'nfe': [5],"
            + " 'guidance': [7.5], 'spacings': ['karras', 'logSNR'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 0, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 32, 'fitRows': 16, 'coefficientFitRows': 8},"
            + " 'consistency': {'iterations': 6, 'noises': 2, 'group': 4, 'hidden': 8, 'minNfe': 4, 'maxNfe': 6,"
            + " 'checkpointEvery': 2, 'trainRows': 8},"
            + " 'timesteps': {'mode': 'learned', 'evaluations': 10, 'gitsPoints': 12, 'gitsRows': 4,"
            + " 'teacherSteps': 48}}";
    static final String STAGE = "g7.5/fit-consistency-solver+timesteps";

    @TempDir
    Path dir;

    @Test
    void plannedOnlyWithBothOptionsAfterTheTimestepsAndBaselineStages() throws Exception {
        String base = "'model': 'm', 'nfe': [5, 8], 'guidance': [1], 'seeds': {'train': 64, 'heldOut': 16}";
        for (String[] c : new String[][] {
            {"'methods': ['consistency-solver'], 'timesteps': 'learned'", "yes"},
            {"'methods': ['consistency-solver']", "no"},
            {"'methods': ['consistency-solver'], 'timesteps': 'off'", "no"},
            {"'methods': ['iia-ddim'], 'timesteps': 'learned'", "no"}}) {
            TuningJobSpec spec = TuningJobSpec.parse(TuningJobSpecTest.json("{" + base + ", " + c[0] + "}"));
            List<PlannedStage> plan = new TuningJobPlanner().plan(spec);
            assertEquals(spec.plannedStages(), plan.size(), c[0]);
            List<PlannedStage> ct = plan.stream().filter(p -> p.name().equals("g1/fit-consistency-solver+timesteps"))
                    .toList();
            assertEquals(c[1].equals("yes") ? 1 : 0, ct.size(), c[0]);
            if (ct.isEmpty()) {
                continue;
            }
            PlannedStage s = ct.get(0);
            assertEquals(StageKind.TRAIN_CONSISTENCY, s.stageKind(), "the kind of fit-consistency-solver");
            assertEquals(List.of("g1/teacher-train", "g1/teacher-heldout", "g1/baseline", "g1/timesteps"),
                    s.dependsOn());
            List<String> names = plan.stream().map(PlannedStage::name).toList();
            assertTrue(names.indexOf("g1/timesteps") < names.indexOf(s.name()), "after the timesteps stage");
            assertTrue(names.contains("g1/fit-consistency-solver"), "beside the plain stage");
            assertTrue(plan.get(plan.size() - 1).dependsOn().contains(s.name()), "published");
            StageParams.Consistency p = Json.MAPPER.convertValue(s.params(), StageParams.Consistency.class);
            assertEquals("g1/timesteps", p.timesteps());
            assertEquals(null, p.grids());
            // the plain stage's parameters (and so its checkpoint key) are unchanged: no grid fields
            PlannedStage plain = plan.stream().filter(x -> x.name().equals("g1/fit-consistency-solver")).findFirst()
                    .orElseThrow();
            assertTrue(!plain.params().has("timesteps") && !plain.params().has("grids"), plain.params().toString());
        }
    }

    @Test
    void publishesTheTableOnTheLearnedGridAndEvaluateReproducesItsError() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, SPEC.replace('\'', '"'));
        Path a = dir.resolve("a");
        LearnedTimestepsJobTest.Run r = LearnedTimestepsJobTest.cli("run-job", "--spec", spec.toString(), "--work",
                a.toString(), "--all");
        assertEquals(0, r.code(), r.err() + r.out());
        Path candidates = a.resolve("publish").resolve(PublishStage.FILE);
        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(Files.readString(candidates)));
        int idx = -1;
        for (int i = 0; i < cands.size(); i++) {
            if (cands.get(i).method().equals("consistency-solver+timesteps")) {
                assertEquals(-1, idx, "one table at NFE 5");
                idx = i;
            }
        }
        assertTrue(idx >= 0, cands.stream().map(ConfigCandidate::method).toList().toString());
        assertTrue(cands.stream().anyMatch(c -> c.method().equals("consistency-solver")), "the plain one beside it");
        ConfigCandidate c = cands.get(idx);
        assertEquals(STAGE, c.provenance().stage());
        CoefficientSet set = CoefficientSet.fromJson(c.values().toJson().get("coefficientSet").toString());
        assertEquals(CoefficientSet.Method.CONSISTENCY, set.method());
        assertEquals("explicit", set.spacing().id());
        assertEquals("explicit", c.spacing());

        // the grid: the timesteps stage's learned grid of 5 steps with the lowest selection error
        ConsistencyStage.Summary summary = ConsistencyStage.read(a.resolve(STAGE).resolve(ConsistencyStage.FILE));
        assertEquals(1, summary.grids().size());
        ConsistencyGrid g = summary.grids().get(0);
        assertEquals(5, g.nfe());
        assertEquals("g7.5/timesteps", g.source());
        assertArrayEquals(g.times(), set.times(), "the table runs the grid it was trained on");
        List<ConfigProvenance.LearnedGrid> learned = TimestepsStage.readGrids(a.resolve("g7.5/timesteps")
                .resolve(TimestepsStage.GRIDS));
        List<ConfigProvenance.LearnedGrid> eligible = learned.stream().filter(x -> x.nfe() == 5
                && x.grid().length == 6).toList();
        assertTrue(eligible.stream().anyMatch(x -> java.util.Arrays.equals(x.grid(), set.times())
                && x.variant().equals(g.variant())), "one of the learned grids: " + g.variant());
        CoefficientSet ts = CoefficientSet.fromJson(Files.readString(a.resolve("g7.5/timesteps/timesteps-nfe5.json")));
        if (ts.baseSpacing() != null && ts.times().length == 6) {
            assertArrayEquals(ts.times(), set.times(), "the timesteps stage's published (learned) grid");
        }
        assertNotNull(g.selectionMse());
        ConfigProvenance.LearnedGrid lg = c.provenance().learnedGrid();
        assertNotNull(lg, "the grid's optimisation in the provenance");
        assertArrayEquals(set.times(), lg.grid());
        assertEquals(Boolean.TRUE, lg.published());
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> gridInfo = (java.util.Map<String, Object>) set.provenance().settings()
                .get("grid");
        assertEquals(g.variant(), gridInfo.get("variant"));
        // trained on that grid only: every iteration drew NFE 5 (the only NFE with a grid in [4, 6])
        assertTrue(summary.curve().stream().allMatch(p -> p.nfe() == 5), summary.curve().toString());
        // validated against its base on the same grid (the noise form's first-order DPM-Solver) and the baseline
        CoefficientSet.Validation v = set.validation();
        assertEquals(12, v.seeds());
        assertEquals(v.publishable(), c.validated());
        assertNotNull(v.baseline());
        assertEquals(summary.results().get(0).base().meanMse(), v.baseMse());

        // exported and evaluated: the same held-out error
        Path exported = dir.resolve("c.json");
        LearnedTimestepsJobTest.Run x = LearnedTimestepsJobTest.cli("export", "--config", candidates.toString(),
                "--candidate", Integer.toString(idx), "--format", "json", "--out", exported.toString());
        assertEquals(0, x.code(), x.err());
        JsonNode doc = Json.MAPPER.readTree(Files.readString(exported));
        JsonNode exportedSet = doc.findValue("coefficientSet");
        assertNotNull(exportedSet, doc.toString());
        assertArrayEquals(set.times(), Json.MAPPER.convertValue(exportedSet.get("times"), double[].class));
        Path setFile = dir.resolve("set.json");
        Files.writeString(setFile, exportedSet.toString());
        Path held;
        try (var files = Files.walk(a.resolve("g7.5/teacher-heldout"))) {
            held = files.filter(f -> f.getFileName().toString().equals(io.solvertune.tuning.teacher.TrajectorySet.META))
                    .findFirst().orElseThrow().getParent();
        }
        Path json = dir.resolve("eval.json");
        LearnedTimestepsJobTest.Run e = LearnedTimestepsJobTest.cli("evaluate", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "7.5", "--teacher", held.toString(), "--set", setFile.toString(),
                "--json", json.toString());
        assertEquals(0, e.code(), e.err() + e.out());
        JsonNode results = Json.MAPPER.readTree(Files.readString(json));
        assertEquals(2, results.size(), "the set and its base");
        assertEquals(12, results.get(0).get("seeds").asInt());
        assertEquals(v.mse(), results.get(0).get("meanMse").asDouble(), 1e-12 * v.mse(), "the validated error");
        assertEquals(v.baseMse(), results.get(1).get("meanMse").asDouble(), 1e-12 * v.baseMse(), "its base's");

        // cancelled after the trainer's first checkpoint in this stage, then resumed: the same bytes
        Path b = dir.resolve("b");
        Path stageB = b.resolve(STAGE);
        JsonNode tree = Json.MAPPER.readTree(Files.readString(spec));
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), dir);
        org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CancellationException.class,
                () -> LocalJobRunner.tuning().run(0, tree, model, b, new LocalJobRunner.Listener() { },
                        () -> !ConsistencyJobTest.trainerCheckpoints(stageB).isEmpty()));
        assertTrue(!Files.exists(stageB.resolve(StageCheckpoint.FILE)), "the stage did not finish");
        List<Path> ck = ConsistencyJobTest.trainerCheckpoints(stageB);
        assertEquals(1, ck.size());
        int at = Json.MAPPER.readTree(ck.get(0).toFile()).get("iteration").asInt();
        assertTrue(at > 0 && at < 6, "checkpoint mid-training: iteration " + at);
        ConsistencyJobTest.Lines lines = new ConsistencyJobTest.Lines();
        LocalJobRunner.tuning().run(0, tree, model, b, lines, () -> false);
        assertTrue(lines.log.contains(STAGE + ": resumed training at iteration " + at + " of 6"), lines.log.toString());
        assertArrayEquals(Files.readAllBytes(candidates), Files.readAllBytes(b.resolve("publish")
                .resolve(PublishStage.FILE)), "interrupted-and-resumed candidates equal the uninterrupted run's");
        for (String f : List.of("consistency-solver+timesteps-nfe5.json", ConsistencyStage.FILE)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(STAGE).resolve(f)), Files.readAllBytes(stageB.resolve(f)),
                    f);
        }
    }
}
