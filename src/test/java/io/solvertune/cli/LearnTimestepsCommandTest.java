package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code learn-timesteps} end to end on tiny teacher sets, through the pipeline's stages: the files it writes (stage
 * directories, the sets linked under their old names, DPM-Solver-v3's config values, {@code summary.json}), the rows
 * it learns and validates on ({@code --fit-rows} with an offset, {@code --heldout-rows}), the paired verdicts against
 * the reference NFE, the selection list; a run killed inside the {@code learn-timesteps} stage continues from the
 * stage's journal and writes the same bytes as an uninterrupted run; bad options are refused naming the flag.
 */
class LearnTimestepsCommandTest {
    @TempDir
    Path dir;

    static final String[] FILES = {"timesteps-nfe5.json", "dc+timesteps-nfe5.json", "timesteps-v3-nfe5.json",
        "baseline/baseline.json", "baseline-reference/baseline.json", "timesteps/timesteps-nfe5.json",
        "timesteps/grids.json", "timesteps/scores.json", "timesteps/stage-output.json",
        "fit-dc+timesteps/dc+timesteps-nfe5.json", "fit-dc+timesteps/scores.json",
        "validate-dpmsolver-v3/v3.json", "timesteps-dpmsolver-v3/v3.json", "timesteps-dpmsolver-v3/grids.json"};

    private String train;
    private String held;

    private void teacherSets() {
        train = dir.resolve("train").toString();
        held = dir.resolve("held").toString();
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "0:24", "--steps", "100", "--record-every", "4", "--out", train).code());
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "1000:16", "--steps", "100", "--record-every", "100", "--out", held).code());
    }

    @Test
    void learnsThroughTheStagesWithMethodsAndV3() throws Exception {
        teacherSets();
        String ems = dir.resolve("ems").toString();
        SampleCommandTest.Result f = SampleCommandTest.cli("fit-ems", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--source", "teacher", "--teacher", train, "--samples", "8", "--l-method", "exact",
                "--out", ems);
        assertEquals(0, f.code(), f.err());
        Function<Path, String[]> args = out -> new String[] {"learn-timesteps", "--preset", "gmm-sd-d32",
            "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--fit-rows", "4:8",
            "--select", "12:12", "--heldout-rows", "2:12", "--nfe", "5", "--reference-nfe", "8", "--variants", "2",
            "--evaluations", "12", "--gits-points", "20", "--gits-rows", "4", "--teacher-steps", "100", "--method",
            "dc", "--v3", ems, "--out", out.toString()};

        Path whole = dir.resolve("whole");
        SampleCommandTest.Result r = SampleCommandTest.cli(args.apply(whole));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| NFE | method | config | held-out mean ± s.e. | median | p99 | own base | vs base "
                + "| best untuned (same NFE) | vs it | vs untuned NFE 8 |"), r.out());
        assertTrue(r.out().contains("reference: best untuned at NFE 8 (chosen on rows 12..23): "), r.out());
        for (String m : new String[] {"| 5 | untuned |", "| 5 | dpmsolver-v3 (snapped) |", "| 5 | timesteps |",
            "| 5 | timesteps-v3 |", "| 5 | dc+timesteps |"}) {
            assertTrue(r.out().contains(m), m + "\n" + r.out());
        }
        for (String file : FILES) {
            assertTrue(Files.isRegularFile(whole.resolve(file)), file);
        }
        // the sets under their old names are the stages' files
        assertArrayEquals(Files.readAllBytes(whole.resolve("timesteps/timesteps-nfe5.json")),
                Files.readAllBytes(whole.resolve("timesteps-nfe5.json")));
        CoefficientSet ts = CoefficientSet.fromJson(Files.readString(whole.resolve("timesteps-nfe5.json")));
        assertEquals(CoefficientSet.Method.TIMESTEPS, ts.method());
        assertEquals(12, ts.validation().seeds());      // --heldout-rows 2:12
        assertEquals(8, ts.fit().samples());             // --fit-rows 4:8
        ConfigValues v3 = ConfigValues.parse(Json.MAPPER.readTree(whole.resolve("timesteps-v3-nfe5.json").toFile()));
        assertTrue(v3 instanceof ConfigValues.DpmSolverV3, v3.getClass().toString());
        // the learned grids record their rows, with the offset
        JsonNode grids = Json.MAPPER.readTree(whole.resolve("timesteps/grids.json").toFile());
        assertTrue(grids.size() >= 1);
        for (JsonNode g : grids) {
            assertEquals(4, g.path("fitFrom").asInt(), g.toString());
            assertEquals(8, g.path("fitRows").asInt(), g.toString());
        }

        JsonNode sum = Json.MAPPER.readTree(whole.resolve("summary.json").toFile());
        assertEquals("[4,12]", sum.path("fitRows").toString());
        assertEquals("[12,24]", sum.path("selectRows").toString());
        assertEquals(12, sum.path("heldOutSeeds").asInt());
        assertEquals(8, sum.path("reference").path("nfe").asInt());
        assertEquals(12, sum.path("reference").path("heldOut").path("seeds").asInt());
        List<String> methods = new ArrayList<>();
        for (JsonNode row : sum.path("results")) {
            methods.add(row.path("method").asText());
            assertEquals(5, row.path("nfe").asInt());
            assertEquals(12, row.path("heldOut").path("seeds").asInt(), row.toString());
            assertTrue(row.path("vsReference").asText().matches("(beats|tie|worse) \\([+-][0-9.]+ s\\.e\\.\\)"),
                    row.toString());
            assertTrue(Double.isFinite(row.path("referenceZ").asDouble(Double.NaN)), row.toString());
        }
        assertEquals(List.of("untuned", "dpmsolver-v3", "timesteps", "timesteps-v3", "dc+timesteps"), methods);
        JsonNode t = sum.path("results").get(2);
        assertEquals("timesteps-nfe5.json", t.path("file").asText());
        assertEquals(4, t.path("selection").size());    // 2 variants x (learned, untuned)
        double lowest = Double.MAX_VALUE;
        for (JsonNode s : t.path("selection")) {
            lowest = Math.min(lowest, s.path("mse").asDouble());
            assertNotNull(s.path("candidate").asText(null));
        }
        assertEquals(lowest, t.path("selectMse").asDouble(), 0.0);     // the published grid is the lowest
        assertEquals(2, t.path("learned").size());
        assertEquals(ts.validation().mse(), t.path("heldOut").path("mean").asDouble(), 1e-15);
        // the verdict against the reference is the paired one on the stages' per-seed errors
        JsonNode scores = Json.MAPPER.readTree(whole.resolve("timesteps/scores.json").toFile()).get(0);
        JsonNode ref = Json.MAPPER.readTree(whole.resolve("baseline-reference/baseline.json").toFile())
                .path("picks").get(0).path("heldOut").path("perSeed");
        JsonNode mine = scores.path("heldOut").path("perSeed");
        assertEquals(12, mine.size());
        assertEquals(12, ref.size());
        double[] diff = new double[12];
        double mean = 0;
        for (int i = 0; i < 12; i++) {
            diff[i] = mine.get(i).asDouble() - ref.get(i).asDouble();
            mean += diff[i] / 12;
        }
        double var = 0;
        for (double x : diff) {
            var += (x - mean) * (x - mean) / 11;
        }
        assertEquals(mean / Math.sqrt(var / 12), t.path("referenceZ").asDouble(), 1e-9);
        // a rerun recomputes nothing and writes the same summary
        String before = Files.readString(whole.resolve("summary.json"));
        SampleCommandTest.Result again = SampleCommandTest.cli(args.apply(whole));
        assertEquals(0, again.code(), again.err());
        for (String stage : new String[] {"baseline", "baseline-reference", "timesteps", "fit-dc+timesteps",
            "validate-dpmsolver-v3", "timesteps-dpmsolver-v3"}) {
            assertTrue(again.out().contains(stage + ": (checkpoint)"), stage + "\n" + again.out());
        }
        String noSeconds = "\"seconds\" : ([0-9.E-]+|null)";
        assertEquals(before.replaceAll(noSeconds, ""),
                Files.readString(whole.resolve("summary.json")).replaceAll(noSeconds, ""));
        SampleCommandTest.Result e = SampleCommandTest.cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--teacher", held, "--set", whole.resolve("timesteps-nfe5.json").toString());
        assertEquals(0, e.code(), e.err());
    }

    /**
     * A run killed inside the learn-timesteps stage (the progress line of the first variant's learned grid throws on
     * the stage's thread; nothing of the stage's record, sets or summary written) continues from the stage's journal
     * and writes the same bytes as an uninterrupted run in another directory.
     */
    @Test
    void aKilledRunContinuesAndWritesTheSameBytes() throws Exception {
        teacherSets();
        Function<Path, String[]> args = out -> new String[] {"learn-timesteps", "--preset", "gmm-sd-d32",
            "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--fit-rows", "4:8",
            "--select", "12:12", "--nfe", "5", "--reference-nfe", "8", "--variants", "2", "--evaluations", "12",
            "--gits-points", "20", "--gits-rows", "4", "--teacher-steps", "100", "--progress", "--out",
            out.toString()};
        Path whole = dir.resolve("whole");
        SampleCommandTest.Result r = SampleCommandTest.cli(args.apply(whole));
        assertEquals(0, r.code(), r.err());

        // a run killed inside the learn-timesteps stage, after the first variant's grid was learned
        Path killed = dir.resolve("killed");
        SampleCommandTest.Result killedRun = SampleCommandTest.cliKilledAt("fit MSE",
                /* not an exception the learning treats as a variant's failure */ new java.io.UncheckedIOException(new java.io.IOException("killed after the first grid")), args.apply(killed));
        int code = killedRun.code();
        String errText = killedRun.err();
        assertNotEquals(0, code, errText.toString());
        assertTrue(errText.toString().contains("killed after the first grid"), errText.toString());
        assertTrue(Files.isRegularFile(killed.resolve("baseline/stage-output.json")));
        assertFalse(Files.exists(killed.resolve("timesteps/stage-output.json")));
        assertTrue(Files.isDirectory(killed.resolve("timesteps/progress")));
        assertFalse(Files.exists(killed.resolve("summary.json")));

        SampleCommandTest.Result again = SampleCommandTest.cli(args.apply(killed));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("baseline: (checkpoint)"), again.out());
        assertTrue(!again.err().contains("killed"), again.err());
        for (String file : new String[] {"timesteps-nfe5.json", "baseline/baseline.json",
            "baseline-reference/baseline.json", "timesteps/timesteps-nfe5.json", "timesteps/grids.json",
            "timesteps/scores.json", "timesteps/stage-output.json"}) {
            assertArrayEquals(Files.readAllBytes(whole.resolve(file)), Files.readAllBytes(killed.resolve(file)), file);
        }
        // the first variant's journal was replayed: its 12 evaluations were not run again
        assertTrue(again.err().contains("12 evaluations (12 replayed from the journal)"), again.err());
        String noSeconds = "\"seconds\" : ([0-9.E-]+|null)";
        assertEquals(Files.readString(whole.resolve("summary.json")).replaceAll(noSeconds, ""),
                Files.readString(killed.resolve("summary.json")).replaceAll(noSeconds, ""));
    }

    @Test
    void badOptionsAreNamed() throws Exception {
        String train = dir.resolve("train").toString();
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "0:24", "--steps", "50", "--record-every", "50", "--out", train).code());
        String out = dir.resolve("out").toString();
        String[][] bad = {
            {"--evaluations", "0", "--heldout-rows", "16:8", "--evaluations:"},
            {"--evaluations", "100000", "--heldout-rows", "16:8", "--evaluations:"},
            {"--sigma", "-1", "--heldout-rows", "16:8", "--sigma:"},
            {"--variants", "9", "--heldout-rows", "16:8", "--variants:"},
            {"--gits-rows", "0", "--heldout-rows", "16:8", "--gits-rows:"},
            {"--reference-nfe", "0", "--heldout-rows", "16:8", "--reference-nfe:"},
            {"--v3", "no-such-dir", "--heldout-rows", "16:8", "--v3:"},
            {"--method", "dc", "--heldout-rows", "0:8", "--heldout-rows:"},  // the training set's fit rows
            {"--method", "dc", "--evaluations", "10", "--heldout:"},         // the training set, no --heldout-rows
        };
        for (String[] b : bad) {
            SampleCommandTest.Result r = SampleCommandTest.cli("learn-timesteps", "--preset", "gmm-sd-d32",
                    "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", train, "--fit-rows", "0:8",
                    "--select", "8:8", b[0], b[1], b[2], b[3], "--out", out);
            assertNotEquals(0, r.code(), String.join(" ", b));
            assertTrue(r.err().contains(b[4]), String.join(" ", b) + ": " + r.err());
        }
    }
}
