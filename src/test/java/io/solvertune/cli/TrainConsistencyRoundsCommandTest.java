package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-consistency --refine-grid --refine-rounds 2} on tiny teacher sets: round 2's table (and refined table)
 * is the one {@code --grids} trains on round 1's refined grid (same values, times and held-out error); the command
 * prints every round and the choice; a stage killed in round 2's refinement continues and writes the same bytes; bad
 * options are refused naming the option.
 */
class TrainConsistencyRoundsCommandTest {
    @TempDir
    Path dir;

    String train;
    String held;

    void teachers() {
        train = dir.resolve("train").toString();
        held = dir.resolve("held").toString();
        TrainConsistencyCommandTest.teachers(train, held);
    }

    String[] args(Path out, String... extra) {
        return TrainConsistencyRefineCommandTest.args(train, held, out, extra);
    }

    static final String[] ROUNDS = {"--refine-grid", "--refine-evaluations", "16", "--refine-rounds", "2"};

    @Test
    void roundTwoIsTheGridsRunOnRoundOnesRefinedGrid() throws Exception {
        teachers();
        Path out = dir.resolve("rounds");
        SampleCommandTest.Result r = SampleCommandTest.cli(args(out, ROUNDS));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("round 2: a new network trained on round 1's grids"), r.out());
        assertTrue(r.out().contains("chosen of 2 rounds"), r.out());
        JsonNode stage = Json.MAPPER.readTree(out.resolve("consistency-rl").resolve("consistency.json").toFile());
        JsonNode rounds = stage.get("rounds");
        assertEquals(2, rounds.size(), stage.toString());
        JsonNode r1 = rounds.get(0).get("tables").get(0);
        JsonNode r2 = rounds.get(1).get("tables").get(0);
        assertTrue(r1.has("refined"), "round 1 keeps a refined grid here (TrainConsistencyRefineCommandTest)");
        CoefficientSet refined1 = CoefficientSet.fromJson(Files.readString(out.resolve(r1.get("refined").asText())));
        assertArrayEquals(refined1.times(), Json.MAPPER.treeToValue(r2.get("grid"), double[].class));

        // the same grid through --grids (a learn-timesteps set of it): the same table
        Path grids = dir.resolve("grids");
        Files.createDirectories(grids);
        double[] g = refined1.times();
        Files.writeString(grids.resolve("timesteps-nfe5.json"), new CoefficientSet(CoefficientSet.FORMAT_VERSION,
                CoefficientSet.Method.TIMESTEPS, new Ddim(), new TimestepSpacing.Explicit(g), 5, 5, g, List.of(),
                new double[5][0], null, null, null, new TimestepSpacing.Karras(7.0)).toJson());
        Path viaGrids = dir.resolve("grids-run");
        SampleCommandTest.Result gr = SampleCommandTest.cli(args(viaGrids, "--grids", grids.toString(),
                "--refine-grid", "--refine-evaluations", "16"));
        assertEquals(0, gr.code(), gr.err());
        CoefficientSet a = CoefficientSet.fromJson(Files.readString(out.resolve(r2.get("table").asText())));
        CoefficientSet b = CoefficientSet.fromJson(Files.readString(viaGrids.resolve(
                "consistency-rl+timesteps-nfe5.json")));
        assertTrue(java.util.Arrays.deepEquals(a.values(), b.values()), "round 2's table is the --grids table");
        assertArrayEquals(a.times(), b.times());
        assertEquals(a.validation().mse(), b.validation().mse());
        assertEquals(a.validation().baselineMse(), b.validation().baselineMse());
        assertTrue(!java.util.Arrays.deepEquals(a.values(), CoefficientSet.fromJson(Files.readString(
                out.resolve("consistency-rl-nfe5.json"))).values()), "a network trained again");
        Path refinedViaGrids = viaGrids.resolve("consistency-rl+timesteps+grid-nfe5.json");
        assertEquals(r2.has("refined"), Files.exists(refinedViaGrids));
        if (r2.has("refined")) {
            CoefficientSet ra = CoefficientSet.fromJson(Files.readString(out.resolve(r2.get("refined").asText())));
            CoefficientSet rb = CoefficientSet.fromJson(Files.readString(refinedViaGrids));
            assertArrayEquals(ra.times(), rb.times());
            assertEquals(ra.validation().mse(), rb.validation().mse());
        }

        // the choice: the lowest selection-row MSE of the four tables
        JsonNode summary = Json.MAPPER.readTree(out.resolve("summary-rl.json").toFile());
        JsonNode ch = summary.get("choices").get(0);
        double lowest = Double.POSITIVE_INFINITY;
        for (JsonNode t : List.of(r1, r2)) {
            lowest = Math.min(lowest, t.get("selectionMse").asDouble());
            if (t.has("refinedSelectionMse")) {
                lowest = Math.min(lowest, t.get("refinedSelectionMse").asDouble());
            }
        }
        assertEquals(lowest, ch.get("selectionMse").asDouble());
        assertTrue(r.out().contains(String.format(java.util.Locale.ROOT, "NFE 5: round %d's %s chosen",
                ch.get("round").asInt(), ch.get("chosen").asText())), r.out());
        if (ch.get("round").asInt() > 1) {
            assertArrayEquals(Files.readAllBytes(out.resolve(ch.get("stageFile").asText())),
                    Files.readAllBytes(out.resolve("consistency-rl+rounds-nfe5.json")));
        }
    }

    /**
     * Killed in round 2's training (after its 2nd iteration's checkpoint) or at its refinement's 9th evaluation, the
     * rerun continues from round 2's trainer checkpoint or journal and writes the same bytes as an uninterrupted run.
     */
    @Test
    void aStageKilledInRoundTwoContinuesAndWritesTheSameBytes() throws Exception {
        teachers();
        List<String> opts = new java.util.ArrayList<>(List.of(ROUNDS));
        opts.addAll(List.of("--checkpoint-every", "1", "--progress"));
        String[] extra = opts.toArray(new String[0]);
        Path whole = dir.resolve("whole");
        SampleCommandTest.Result r = SampleCommandTest.cli(args(whole, extra));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("[consistency-train 2/3] round 2: "), r.err());

        Path inTraining = dir.resolve("in-training");
        SampleCommandTest.Result kt = SampleCommandTest.cliKilledAt("[consistency-train 2/3] round 2: ",
                new IllegalStateException("killed in round 2's training"), args(inTraining, extra));
        assertNotEquals(0, kt.code(), kt.err());
        assertTrue(kt.err().contains("killed in round 2's training"), kt.err());
        try (java.util.stream.Stream<Path> s = Files.list(inTraining.resolve("consistency-rl").resolve("round2"))) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("trainer-")), "round 2's checkpoint");
        }
        SampleCommandTest.Result t2 = SampleCommandTest.cli(args(inTraining, extra));
        assertEquals(0, t2.code(), t2.err());
        assertTrue(t2.err().contains("resumed training"), t2.err());
        assertTrue(!t2.err().contains("[consistency-train 1/3] round 2: "), "round 2 resumes, not restarts");

        Path inRefinement = dir.resolve("in-refinement");
        SampleCommandTest.Result k = SampleCommandTest.cliKilledAt("[refine-grid 8/16] round 2: ",
                new IllegalStateException("killed in round 2"), args(inRefinement, extra));
        assertNotEquals(0, k.code(), k.err());
        assertTrue(k.err().contains("killed in round 2"), k.err());
        Path round2 = inRefinement.resolve("consistency-rl").resolve("round2");
        Path journal;
        try (java.util.stream.Stream<Path> s = Files.list(round2)) {
            journal = s.filter(p -> p.getFileName().toString().startsWith("refine-nfe5-")).findFirst().orElseThrow();
        }
        assertEquals(8, Files.readAllLines(journal).size());
        SampleCommandTest.Result again = SampleCommandTest.cli(args(inRefinement, extra));
        assertEquals(0, again.code(), again.err());
        assertTrue(!again.err().contains("[consistency-train 1/3] round 2: "), "round 2's network is not trained again");
        assertTrue(!again.err().contains("[refine-grid 3/16] round 2: "), "the journaled evaluations are replayed");
        List<String> files = new java.util.ArrayList<>(List.of("consistency-rl-nfe5.json",
                "consistency-rl+grid-nfe5.json", "consistency-rl/consistency.json",
                "consistency-rl/stage-output.json", "consistency-rl/round2/consistency.json"));
        if (Files.exists(whole.resolve("consistency-rl+rounds-nfe5.json"))) {
            files.add("consistency-rl+rounds-nfe5.json");
        }
        for (Path killed : List.of(inTraining, inRefinement)) {
            for (String f : files) {
                assertArrayEquals(Files.readAllBytes(whole.resolve(f)), Files.readAllBytes(killed.resolve(f)),
                        killed.getFileName() + "/" + f);
            }
            assertEquals(Files.readString(whole.resolve("summary-rl.json")).replaceAll("\"trainSeconds\" : [0-9.E-]+",
                    ""), Files.readString(killed.resolve("summary-rl.json")).replaceAll(
                    "\"trainSeconds\" : [0-9.E-]+", ""));
        }
    }

    @Test
    void badRoundOptionsNameTheOption() {
        teachers();
        for (String[] bad : new String[][] {
            {"--refine-grid", "--refine-rounds", "0", "refineRounds:", "(--refine-rounds)"},
            {"--refine-grid", "--refine-rounds", "5", "refineRounds:", "(--refine-rounds)"},
            {"--refine-rounds", "2", "--refine-rounds: only with --refine-grid", "--refine-rounds"},
            {"--refine-grid", "--refine-rounds", "two", "--refine-rounds", "two"}}) {
            SampleCommandTest.Result e = SampleCommandTest.cli(args(dir.resolve("bad"),
                    java.util.Arrays.copyOf(bad, bad.length - 2)));
            assertNotEquals(0, e.code(), String.join(" ", bad));
            assertTrue(e.err().contains(bad[bad.length - 2]) && e.err().contains(bad[bad.length - 1]), e.err());
        }
    }
}
