package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code consistency.refineRounds} in a tiny job on the reference mixture (the spec of {@link ConsistencyRefineJobTest}):
 * round 2 trains a new network on round 1's final grid and refines it again; every NFE publishes the table of lowest
 * selection-row MSE over both rounds, a choice of round 2 as its own candidate ({@code consistency-solver+rounds});
 * the field is bounded, only allowed with {@code refineGrid}, and at 1 leaves the stage's parameters as they were.
 */
class ConsistencyRoundsJobTest {
    @TempDir
    Path dir;

    /** Runs the tiny job of {@link ConsistencyRefineJobTest} with these {@code consistency} fields; its work dir. */
    private Path run(String consistencyFields) throws Exception {
        return runJob(String.format(ConsistencyRefineJobTest.SPEC, consistencyFields), dir.resolve("a"));
    }

    /** Runs a job spec (single-quoted JSON) locally in {@code work}; {@code work}. */
    static Path runJob(String spec, Path work) throws Exception {
        var json = TuningJobSpecTest.json(spec);
        ResolvedModel model = LocalJobRunner.resolveLocal(json.get("model"), Path.of("."));
        LocalJobRunner.tuning().run(0, json, model, work, new ConsistencyJobTest.Lines(), () -> false);
        return work;
    }

    /** The consistency stage's summary of a job run by {@link #runJob}. */
    static ConsistencyStage.Summary summary(Path work) throws Exception {
        return ConsistencyStage.read(work.resolve(ConsistencyRefineJobTest.STAGE).resolve(ConsistencyStage.FILE));
    }

    /** The publish candidates of a job run by {@link #runJob}. */
    static List<ConfigCandidate> candidates(Path work) throws Exception {
        return ConfigCandidate.listFromJson(Json.MAPPER.readTree(
                Files.readAllBytes(work.resolve("publish").resolve(PublishStage.FILE))));
    }

    @Test
    void twoRoundsChooseTheLowestSelectionErrorAndPublishIt() throws Exception {
        Path a = run(", 'refineGrid': true, 'refineEvaluations': 16, 'refineRounds': 2");
        ConsistencyStage.Summary s = summary(a);
        // round 1 keeps its refined grid here (ConsistencyRefineJobTest), so round 2 runs on it
        assertEquals(1, s.refined().size());
        assertEquals(2, s.rounds().size(), "both rounds");
        ConsistencyRounds.Round r2 = s.rounds().get(1);
        assertEquals(2, r2.round());
        CoefficientSet refined1 = CoefficientSet.fromJson(Files.readString(a.resolve(s.refined().get(0).file())));
        assertEquals(1, r2.grids().size());
        assertArrayEquals(refined1.times(), r2.grids().get(0).times(), "round 2 trains on round 1's refined grid");
        assertArrayEquals(refined1.times(), r2.tables().get(0).grid());
        assertTrue(r2.summary().startsWith(ConsistencyRefineJobTest.STAGE + "/round2/"), r2.summary());
        ConsistencyStage.Summary s2 = ConsistencyStage.read(a.resolve(r2.summary()));
        CoefficientSet t2 = CoefficientSet.fromJson(Files.readString(a.resolve(s2.results().get(0).file())));
        assertArrayEquals(refined1.times(), t2.times());
        assertFalse(java.util.Arrays.deepEquals(refined1.values(), t2.values()), "a network trained again");
        // round 1's table as the stage without rounds writes it: the same held-out error
        assertEquals(s.results().get(0).heldOut().meanMse(), s.rounds().get(0).tables().get(0).heldOutMse());
        assertEquals(s2.results().get(0).heldOut().meanMse(), r2.tables().get(0).heldOutMse());

        assertEquals(1, s.choices().size());
        ConsistencyRounds.Choice ch = s.choices().get(0);
        double lowest = Double.POSITIVE_INFINITY;
        for (ConsistencyRounds.Round r : s.rounds()) {
            ConsistencyRounds.RoundTable t = r.tables().get(0);
            lowest = Math.min(lowest, t.selectionMse());
            if (t.refinedSelectionMse() != null) {
                lowest = Math.min(lowest, t.refinedSelectionMse());
            }
        }
        assertEquals(lowest, ch.selectionMse(), "the lowest selection-row MSE of every round's tables");
        List<ConfigCandidate> cands = candidates(a);
        if (ch.round() == 1) {
            assertTrue(s.rounded().isEmpty());
            assertTrue(cands.stream().noneMatch(x -> x.method().endsWith("+rounds")));
            return;
        }
        assertEquals(ConsistencyRefineJobTest.STAGE + "/consistency-solver+rounds-nfe5.json", ch.file());
        CoefficientSet chosen = CoefficientSet.fromJson(Files.readString(a.resolve(ch.file())));
        CoefficientSet from = CoefficientSet.fromJson(Files.readString(a.resolve(ch.from())));
        assertTrue(java.util.Arrays.deepEquals(from.values(), chosen.values()));
        assertArrayEquals(from.times(), chosen.times());
        assertEquals(from.validation().mse(), chosen.validation().mse());
        @SuppressWarnings("unchecked")
        Map<String, Object> rounds = (Map<String, Object>) chosen.provenance().settings().get("rounds");
        assertEquals(2, rounds.get("round"));
        assertEquals(ch.chosen().id(), rounds.get("chosen"));
        assertEquals(2, ((List<?>) rounds.get("trace")).size());
        assertEquals(1, s.rounded().size());
        assertEquals(ch.file(), s.rounded().get(0).file());
        ConfigCandidate c = cands.stream().filter(x -> x.method().equals("consistency-solver+rounds")).findFirst()
                .orElseThrow(() -> new AssertionError(cands.stream().map(ConfigCandidate::method).toList()));
        assertArrayEquals(chosen.times(), ((ConfigValues.Coefficients) c.values()).set().times());
        assertEquals(chosen.validation().mse(), c.heldOutMse());
        assertEquals(s2.iterations(), c.provenance().training().iterations());
        if (ch.chosen() == ConsistencyRounds.Kind.REFINED) {
            assertNotNull(c.provenance().learnedGrid());
        }
    }

    /** Round 1 keeping no refined grid (a budget that cannot beat the start) ends the rounds: round 1's table. */
    @Test
    void aRoundKeepingNoRefinedGridIsTheLast() throws Exception {
        Path a = run(", 'refineGrid': true, 'refineEvaluations': 1, 'refineRounds': 3");
        Path stage = a.resolve(ConsistencyRefineJobTest.STAGE);
        ConsistencyStage.Summary s = summary(a);
        assertTrue(s.refined().isEmpty());
        assertEquals(1, s.rounds().size(), "no round 2");
        assertEquals(0, s.rounds().get(0).refinementsKept());
        assertFalse(Files.exists(stage.resolve("round2")));
        ConsistencyRounds.Choice ch = s.choices().get(0);
        assertEquals(1, ch.round());
        assertEquals(ConsistencyRounds.Kind.TABLE, ch.chosen());
        assertEquals(s.results().get(0).file(), ch.file(), "published as round 1's own table");
        assertTrue(s.rounded().isEmpty());
        List<ConfigCandidate> cands = candidates(a);
        assertTrue(cands.stream().noneMatch(x -> x.method().endsWith("+rounds")));
    }

    @Test
    void refineRoundsIsBoundedAndOnlyWithRefineGrid() throws Exception {
        String base = "'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5, 8], 'guidance': [1],"
                + " 'seeds': {'train': 64, 'heldOut': 16}";
        for (String bad : new String[] {"'refineRounds': 2", "'refineGrid': false, 'refineRounds': 2",
            "'refineGrid': true, 'refineRounds': 0", "'refineGrid': true, 'refineRounds': 5",
            "'refineGrid': true, 'refineRounds': 'twice'"}) {
            InvalidSpecException e = TuningJobSpecTest.invalid("{" + base + ", 'consistency': {" + bad + "}}",
                    JobLimits.DEFAULTS, null);
            assertEquals(List.of("consistency.refineRounds"), e.errors().stream()
                    .map(InvalidSpecException.FieldError::field).toList(), bad + ": " + e.getMessage());
        }
    }

    @Test
    void oneRoundLeavesTheParametersAsTheyWere() throws Exception {
        String without = String.format(ConsistencyRefineJobTest.SPEC, ", 'refineGrid': true");
        String one = String.format(ConsistencyRefineJobTest.SPEC, ", 'refineGrid': true, 'refineRounds': 1");
        List<PlannedStage> a = new TuningJobPlanner().plan(TuningJobSpecTest.json(without));
        List<PlannedStage> b = new TuningJobPlanner().plan(TuningJobSpecTest.json(one));
        assertEquals(a, b);
        PlannedStage st = b.stream().filter(x -> x.name().equals(ConsistencyRefineJobTest.STAGE)).findFirst()
                .orElseThrow();
        assertFalse(st.params().toString().contains("refineRounds"), st.params().toString());
        String two = String.format(ConsistencyRefineJobTest.SPEC, ", 'refineGrid': true, 'refineRounds': 2");
        PlannedStage st2 = new TuningJobPlanner().plan(TuningJobSpecTest.json(two)).stream()
                .filter(x -> x.name().equals(ConsistencyRefineJobTest.STAGE)).findFirst().orElseThrow();
        assertEquals(2, st2.params().path("training").path("refineRounds").asInt(), st2.params().toString());
        assertNull(st.params().path("training").get("refineRounds"));
    }
}
