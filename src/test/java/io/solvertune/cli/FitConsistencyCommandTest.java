package io.solvertune.cli;

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
 * {@code fit --method consistency-solver} on tiny teacher sets: one training stage serves every NFE, each NFE's table
 * is chosen on the selection rows (checkpoint selection), validated against its base and that NFE's best untuned
 * baseline, linked as {@code consistency-solver-nfe<n>.json} and listed in summary.json; {@code evaluate --set} runs
 * it; with {@code train-consistency --select-every} the summary records the selection curve and the selected
 * iteration; bad training settings are refused naming the field.
 */
class FitConsistencyCommandTest {
    @TempDir
    Path dir;

    static final String SETTINGS = "{\"iterations\": 4, \"noises\": 2, \"group\": 4, \"hidden\": 8, \"minNfe\": 4,"
            + " \"maxNfe\": 6, \"spacing\": \"karras\", \"selectEvery\": 2}";

    @Test
    void fitTrainsOneNetworkForEveryNfeAndEvaluateRunsItsSets() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        TrainConsistencyCommandTest.teachers(train, held);
        Path out = dir.resolve("fit");
        String[] args = {"fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2", "--train", train,
            "--heldout", held, "--method", "consistency-solver", "--fit-rows", "0:8", "--select", "8:16",
            "--nfe", "5,6", "--consistency", SETTINGS, "--out", out.toString()};
        SampleCommandTest.Result r = SampleCommandTest.cli(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("consistency-solver (one network trained by RL on rows 0..7 for every NFE"),
                r.out());
        JsonNode summary = Json.MAPPER.readTree(out.resolve("summary.json").toFile());
        assertEquals(2, summary.get("results").size(), summary.toString());
        assertEquals(2, summary.get("baseline").size(), "one baseline stage per NFE");
        for (int k = 0; k < 2; k++) {
            JsonNode row = summary.get("results").get(k);
            int nfe = 5 + k;
            assertEquals("consistency-solver", row.get("method").asText());
            assertEquals(nfe, row.get("nfe").asInt());
            assertEquals("consistency-solver-nfe" + nfe + ".json", row.get("file").asText());
            CoefficientSet cs = CoefficientSet.fromJson(Files.readString(out.resolve(row.get("file").asText())));
            assertEquals(CoefficientSet.Method.CONSISTENCY, cs.method());
            assertEquals(nfe, cs.nfe());
            assertEquals(16, cs.validation().seeds());
            assertEquals(row.get("heldOutMse").asDouble(), cs.validation().mse());
            assertEquals(summary.get("baseline").get(k).get("best").get("name").asText(), cs.validation().baseline(),
                    "compared with this NFE's best untuned baseline");
            Object it = cs.provenance().settings().get("selectedIteration");
            assertTrue(it instanceof Integer i && (i == 2 || i == 4), "snapshots of iterations 2 and 4: " + it);
            assertEquals(row.get("selectMse").asDouble(), ((Number) cs.provenance().settings().get("selectionMse"))
                    .doubleValue());
        }
        // one training stage: a rerun reuses every stage
        SampleCommandTest.Result again = SampleCommandTest.cli(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("(checkpoint)"), again.out());
        SampleCommandTest.Result e = SampleCommandTest.cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--teacher", held, "--set", out.resolve("consistency-solver-nfe6.json").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("consistency-solver-nfe6.json: consistency"), e.out());

        // bad settings name the field; --consistency without the method is refused
        for (String[] bad : new String[][] {
            {"{\"iterations\": 0}", "consistency.iterations"}, {"{\"selectEvery\": -1}", "consistency.selectEvery"},
            {"{\"iterations\": 1000, \"selectEvery\": 2}", "consistency.selectEvery"},
            {"{\"maxNfe\": 5}", "consistency.maxNfe"}, {"[1]", "--consistency: expected a JSON object"}}) {
            SampleCommandTest.Result b = SampleCommandTest.cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class",
                    "--guidance", "2", "--train", train, "--heldout", held, "--method", "consistency-solver",
                    "--fit-rows", "0:8", "--select", "8:16", "--nfe", "5,6", "--consistency", bad[0], "--out",
                    dir.resolve("bad").toString());
            assertNotEquals(0, b.code(), bad[0]);
            assertTrue(b.err().contains(bad[1]), bad[0] + ": " + b.err());
        }
        SampleCommandTest.Result noMethod = SampleCommandTest.cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--train", train, "--heldout", held, "--method", "dc", "--fit-rows", "0:8",
                "--select", "8:16", "--consistency", "{}", "--out", dir.resolve("bad").toString());
        assertNotEquals(0, noMethod.code());
        assertTrue(noMethod.err().contains("--consistency: given, but consistency-solver"), noMethod.err());

        // train-consistency with checkpoint selection: the selection curve and the selected iteration
        Path tc = dir.resolve("tc");
        SampleCommandTest.Result t = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows", "0:8",
                "--select", "8:16", "--nfe", "5", "--iterations", "4", "--noises", "2", "--group", "4", "--min-nfe",
                "4", "--max-nfe", "6", "--hidden", "8", "--spacing", "karras", "--select-every", "2", "--out",
                tc.toString());
        assertEquals(0, t.code(), t.err());
        JsonNode s = Json.MAPPER.readTree(tc.resolve("summary-rl.json").toFile());
        assertEquals(2, s.get("selectEvery").asInt());
        assertEquals(2, s.get("selectionCurve").size(), "snapshots at iterations 2 and 4, NFE 5");
        JsonNode row = s.get("results").get(0);
        int sel = row.get("selectedIteration").asInt();
        JsonNode chosen = s.get("selectionCurve").get(sel / 2 - 1);
        assertEquals(sel, chosen.get("iteration").asInt());
        for (JsonNode p : s.get("selectionCurve")) {
            assertTrue(chosen.get("mse").asDouble() <= p.get("mse").asDouble(), s.get("selectionCurve").toString());
        }
        SampleCommandTest.Result tooMany = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows", "0:8",
                "--select", "8:16", "--iterations", "1000", "--select-every", "2", "--out",
                tc.toString());
        assertNotEquals(0, tooMany.code());
        assertTrue(tooMany.err().contains("selectEvery: 1000 iterations every 2") && tooMany.err().contains("(--select-every)"),
                tooMany.err());
    }
}
