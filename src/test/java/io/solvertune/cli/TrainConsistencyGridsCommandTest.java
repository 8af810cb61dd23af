package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-consistency --grids DIR} on the grids {@code learn-timesteps --out DIR} wrote: the table runs exactly
 * the learned grid; a requested NFE without a grid, a set of another NFE, a grid of another time range, a missing
 * directory and the CMA-ES ablation are refused naming {@code --grids}.
 */
class TrainConsistencyGridsCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainsOnTheLearnedGridsAndRefusesBadGridsNamingTheFlag() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        TrainConsistencyCommandTest.teachers(train, held);
        Path grids = dir.resolve("grids");
        SampleCommandTest.Result l = SampleCommandTest.cli("learn-timesteps", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--fit-rows", "0:8",
                "--select", "8:8", "--nfe", "5", "--evaluations", "10", "--gits-points", "12", "--gits-rows", "4",
                "--teacher-steps", "48", "--out", grids.toString());
        assertEquals(0, l.code(), l.err());
        CoefficientSet ts = CoefficientSet.fromJson(Files.readString(grids.resolve("timesteps-nfe5.json")));

        java.util.function.BiFunction<String, String, String[]> args = (nfe, g) -> new String[] {"train-consistency",
            "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held,
            "--train-rows", "0:8", "--select", "8:16", "--nfe", nfe, "--iterations", "3", "--noises", "2", "--group",
            "4", "--hidden", "8", "--grids", g, "--out", dir.resolve("cs").toString()};
        SampleCommandTest.Result r = SampleCommandTest.cli(args.apply("5", grids.toString()));
        assertEquals(0, r.code(), r.err());
        CoefficientSet set = CoefficientSet.fromJson(Files.readString(dir.resolve("cs")
                .resolve("consistency-rl+timesteps-nfe5.json")));
        assertEquals(CoefficientSet.Method.CONSISTENCY, set.method());
        assertArrayEquals(ts.times(), set.times(), "the table runs the grid learn-timesteps chose");
        assertEquals("explicit", set.spacing().id());
        assertEquals(16, set.validation().seeds());
        String summary = Files.readString(dir.resolve("cs").resolve("summary-rl+timesteps.json"));
        assertTrue(summary.contains("\"grids\"") && summary.contains("timesteps-nfe5.json"), summary);

        // NFE 6 was not learned
        SampleCommandTest.Result no6 = SampleCommandTest.cli(args.apply("5,6", grids.toString()));
        assertNotEquals(0, no6.code());
        assertTrue(no6.err().contains("--grids: ") && no6.err().contains("no grid for NFE 6")
                && no6.err().contains("timesteps-nfe6.json"), no6.err());
        // a set of another NFE under the name of NFE 6
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.copy(grids.resolve("timesteps-nfe5.json"), other.resolve("timesteps-nfe6.json"));
        SampleCommandTest.Result wrongNfe = SampleCommandTest.cli(args.apply("6", other.toString()));
        assertNotEquals(0, wrongNfe.code());
        assertTrue(wrongNfe.err().contains("--grids: ") && wrongNfe.err().contains("NFE 6"), wrongNfe.err());
        // a grid over another time range (another teacher's)
        Path shifted = dir.resolve("shifted");
        Files.createDirectories(shifted);
        ObjectNode doc = (ObjectNode) Json.MAPPER.readTree(Files.readString(grids.resolve("timesteps-nfe5.json")));
        ArrayNode times = (ArrayNode) doc.get("times");
        times.set(0, Json.MAPPER.getNodeFactory().numberNode(times.get(0).asDouble() * 0.9));
        Files.writeString(shifted.resolve("timesteps-nfe5.json"), doc.toString());
        SampleCommandTest.Result range = SampleCommandTest.cli(args.apply("5", shifted.toString()));
        assertNotEquals(0, range.code());
        assertTrue(range.err().contains("--grids: ") && range.err().contains("--train teacher"), range.err());
        // no such directory; not a coefficient set
        SampleCommandTest.Result missing = SampleCommandTest.cli(args.apply("5", dir.resolve("nope").toString()));
        assertNotEquals(0, missing.code());
        assertTrue(missing.err().contains("--grids: no such directory"), missing.err());
        Path junk = dir.resolve("junk");
        Files.createDirectories(junk);
        Files.writeString(junk.resolve("timesteps-nfe5.json"), "{\"times\": 1}");
        SampleCommandTest.Result notSet = SampleCommandTest.cli(args.apply("5", junk.toString()));
        assertNotEquals(0, notSet.code());
        assertTrue(notSet.err().contains("--grids: ") && notSet.err().contains("is not a coefficient set"),
                notSet.err());
        // the CMA-ES ablation has no grids
        String[] cmaes = args.apply("5", grids.toString());
        String[] withTrainer = java.util.Arrays.copyOf(cmaes, cmaes.length + 2);
        withTrainer[cmaes.length] = "--trainer";
        withTrainer[cmaes.length + 1] = "CMAES";
        SampleCommandTest.Result c = SampleCommandTest.cli(withTrainer);
        assertNotEquals(0, c.code());
        assertTrue(c.err().contains("--grids: the CMAES ablation"), c.err());
    }
}
