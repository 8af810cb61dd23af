package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-consistency --refine-grid} on tiny teacher sets: turning it on after a plain run trains the same table
 * again and writes the refined table beside the unrefined one (same coefficients, its own times, validated against
 * the table and the best baseline), which {@code evaluate --set} runs to its recorded held-out error; a refinement
 * killed mid-way continues from its journal and writes the same bytes; bad options are refused naming the option.
 */
class TrainConsistencyRefineCommandTest {
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
        return args(train, held, out, extra);
    }

    /** A tiny {@code train-consistency} run on these teacher sets (NFE 5, 3 iterations), then {@code extra}. */
    static String[] args(String train, String held, Path out, String... extra) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("train-consistency", "--preset",
                "gmm-sd-d32", "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held,
                "--train-rows", "0:8", "--select", "8:16", "--nfe", "5", "--iterations", "3", "--noises", "2",
                "--group", "4", "--min-nfe", "4", "--max-nfe", "6", "--hidden", "8", "--out", out.toString()));
        a.addAll(java.util.List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test
    void refinesBesideTheSameTableAndEvaluateRunsTheRefinedSet() throws Exception {
        teachers();
        Path out = dir.resolve("cs");
        SampleCommandTest.Result plain = SampleCommandTest.cli(args(out));
        assertEquals(0, plain.code(), plain.err());
        byte[] table = Files.readAllBytes(out.resolve("consistency-rl-nfe5.json"));
        SampleCommandTest.Result r = SampleCommandTest.cli(args(out, "--refine-grid", "--refine-evaluations", "16"));
        assertEquals(0, r.code(), r.err());
        // other stage parameters: the stage is redone, and the deterministic training gives the same table
        assertArrayEquals(table, Files.readAllBytes(out.resolve("consistency-rl-nfe5.json")), "the table is unchanged");
        assertTrue(r.out().contains("grid refinement: 1 of 1 tables kept a refined grid"), r.out());
        Path refined = out.resolve("consistency-rl+grid-nfe5.json");
        CoefficientSet t = CoefficientSet.fromJson(new String(table));
        CoefficientSet g = CoefficientSet.fromJson(Files.readString(refined));
        assertTrue(java.util.Arrays.deepEquals(t.values(), g.values()));
        assertTrue(!java.util.Arrays.equals(t.times(), g.times()));
        assertEquals(t.validation().mse(), g.validation().baseMse(), "validated against the table on its own grid");
        JsonNode summary = Json.MAPPER.readTree(out.resolve("summary-rl.json").toFile());
        JsonNode row = summary.get("refined").get(0);
        assertEquals("consistency-rl+grid", row.get("method").asText());
        assertEquals(g.validation().mse(), row.get("heldOutMse").asDouble());
        assertEquals(t.validation().mse(), row.get("unrefinedMse").asDouble());
        assertTrue(row.get("pairedDiffStdErrVsUnrefined").asDouble() > 0, row.toString());
        JsonNode rf = summary.get("refinements").get(0);
        assertEquals(16, rf.get("optimisation").get("evaluations").asInt());
        assertTrue(rf.get("selectionMse").asDouble() < rf.get("startSelectionMse").asDouble());
        // evaluate runs the set on its own times: the recorded held-out error again
        SampleCommandTest.Result e = SampleCommandTest.cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--teacher", held, "--set", refined.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains(String.format(java.util.Locale.ROOT, "%.4g", g.validation().mse()))
                || e.out().contains(String.format(java.util.Locale.ROOT, "%.5g", g.validation().mse())), e.out()
                + " vs " + g.validation().mse());
    }

    /** Killed at the refinement's 9th evaluation (journaled 8), the rerun continues and writes the same bytes. */
    @Test
    void aKilledRefinementContinuesFromItsJournalAndWritesTheSameBytes() throws Exception {
        teachers();
        Path whole = dir.resolve("whole");
        SampleCommandTest.Result r = SampleCommandTest.cli(args(whole, "--refine-grid", "--refine-evaluations", "16"));
        assertEquals(0, r.code(), r.err());
        Path killed = dir.resolve("killed");
        SampleCommandTest.Result killedRun = SampleCommandTest.cliKilledAt("[refine-grid 8/16]",
                new IllegalStateException("killed at evaluation 9"), args(killed, "--refine-grid", "--refine-evaluations", "16", "--progress"));
        int code = killedRun.code();
        String errText = killedRun.err();
        assertNotEquals(0, code, errText.toString());
        assertTrue(errText.toString().contains("killed at evaluation 9"), errText.toString());
        Path stage = killed.resolve("consistency-rl");
        assertTrue(!Files.exists(stage.resolve("stage-output.json")));
        Path journal;
        try (java.util.stream.Stream<Path> s = Files.list(stage)) {
            journal = s.filter(p -> p.getFileName().toString().startsWith("refine-nfe5-")).findFirst().orElseThrow();
        }
        assertEquals(8, Files.readAllLines(journal).size());
        SampleCommandTest.Result again = SampleCommandTest.cli(args(killed, "--refine-grid", "--refine-evaluations",
                "16", "--progress"));
        assertEquals(0, again.code(), again.err());
        assertTrue(!again.err().contains("[refine-grid 3/16]"), "the journaled evaluations are replayed, not rerun");
        for (String f : new String[] {"consistency-rl-nfe5.json", "consistency-rl+grid-nfe5.json",
            "consistency-rl/consistency.json", "consistency-rl/stage-output.json"}) {
            assertArrayEquals(Files.readAllBytes(whole.resolve(f)), Files.readAllBytes(killed.resolve(f)), f);
        }
        assertEquals(Files.readString(whole.resolve("summary-rl.json")).replaceAll("\"trainSeconds\" : [0-9.E-]+", ""),
                Files.readString(killed.resolve("summary-rl.json")).replaceAll("\"trainSeconds\" : [0-9.E-]+", ""));
    }

    @Test
    void badRefinementOptionsNameTheOption() {
        teachers();
        for (String[] bad : new String[][] {{"--refine-grid", "--refine-evaluations", "0", "refineEvaluations:",
            "(--refine-evaluations)"}, {"--refine-grid", "--refine-evaluations", "10001", "refineEvaluations:",
            "(--refine-evaluations)"}, {"--refine-evaluations", "5", "--refine-evaluations: only with --refine-grid",
            "--refine-evaluations"}, {"--refine-grid", "--trainer", "CMAES", "--refine-grid:", "CMAES"}}) {
            SampleCommandTest.Result e = SampleCommandTest.cli(args(dir.resolve("bad"),
                    java.util.Arrays.copyOf(bad, bad.length - 2)));
            assertNotEquals(0, e.code(), String.join(" ", bad));
            assertTrue(e.err().contains(bad[bad.length - 2]) && e.err().contains(bad[bad.length - 1]), e.err());
        }
    }
}
