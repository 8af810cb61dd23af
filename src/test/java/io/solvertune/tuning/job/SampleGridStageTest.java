package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.testing.RequiresFashionMnist;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's sample grids: a job on an image-shaped model writes one PNG per NFE (teacher | best untuned
 * baseline | every tuned result, a row per held-out seed) and its index; the tiles are the runs that were scored
 * (the baseline's per-seed errors on the grid's seeds equal its held-out errors on them, the teacher tile is the
 * held-out teacher's final state), and a recomputed stage writes the same bytes.
 */
class SampleGridStageTest {

    @TempDir
    Path dir;

    /** A tiny TorchScript model with [1, 28, 28] samples (CI without the dataset still runs this). */
    @Test
    void torchScriptImageModelGetsGridsOfTheScoredRunsOnTheHeldOutSeeds() throws Exception {
        Path res = Path.of("src/test/resources/torchscript");
        Files.copy(res.resolve("cond_eps.pt"), dir.resolve("cond_eps.pt"));
        Files.copy(res.resolve("cond_eps_spec.json"), dir.resolve("model.json"));
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, ("{'model': 'model.json', 'methods': ['iia-ddim', 'dode'], 'nfe': [3, 4],"
                + " 'guidance': [2], 'spacings': ['logSNR'], 'teacher': {'steps': 20, 'recordEvery': 2,"
                + " 'checkSeeds': 0}, 'seeds': {'train': 12, 'heldOut': 6, 'shardSize': 12, 'fitRows': 6},"
                + " 'sampleGrids': {'seeds': 4}, 'batch': 8}").replace('\'', '"'));
        Path work = dir.resolve("work");
        runJob(spec, work);
        Path stage = work.resolve("g2/sample-grids");
        JsonNode out = Json.MAPPER.readTree(stage.resolve(StageCheckpoint.FILE).toFile()).get("output");
        assertNotNull(out, "the stage's recorded output");
        assertEquals(List.of(1_000_000L, 1_000_001L, 1_000_002L, 1_000_003L),
                Json.MAPPER.convertValue(out.get("seeds"), List.class).stream().map(o -> ((Number) o).longValue())
                        .toList());
        JsonNode index = Json.MAPPER.readTree(work.resolve(out.get("index").asText()).toFile());
        assertEquals(out.get("grids"), index.get("grids"), "the index lists the output's grids");
        assertEquals(2.0, index.get("guidance").asDouble());
        assertEquals("[1,28,28]", index.get("sampleShape").toString());
        assertEquals(20, out.get("teacherSteps").asInt());
        assertEquals(20, index.get("teacher").get("steps").asInt());

        Scores.Baselines base = Scores.readBaselines(work.resolve("g2/baseline/" + BaselineStage.FILE));
        TrajectorySet held = TrajectorySet.open(heldOutDir(work));
        int perSample = 28 * 28;
        double[] teacherFinal = Scores.targets(held, 0, 4).fin();
        Map<String, String> shas = new TreeMap<>();
        assertEquals(2, out.get("grids").size());
        for (int k = 0; k < 2; k++) {
            JsonNode grid = out.get("grids").get(k);
            int nfe = grid.get("nfe").asInt();
            assertEquals(k == 0 ? 3 : 4, nfe);
            List<String> methods = new ArrayList<>();
            grid.get("columns").forEach(c -> methods.add(c.get("method").asText()));
            assertEquals(List.of("teacher", "baseline", "iia-ddim", "dode"), methods, grid.toString());
            Path png = work.resolve(grid.get("file").asText());
            assertEquals(Hashing.sha256(png), grid.get("sha256").asText());
            shas.put(grid.get("file").asText(), grid.get("sha256").asText());
            BufferedImage img = ImageIO.read(png.toFile());
            assertEquals(4 * (28 + 2) + 2, img.getWidth());
            assertEquals(4 * (28 + 2) + 2, img.getHeight());
            assertEquals(img.getWidth(), grid.get("width").asInt());
            assertEquals(img.getHeight(), grid.get("height").asInt());
            // the teacher tiles are the held-out teacher's final states
            for (int row = 0; row < 4; row++) {
                for (int p : new int[] {0, 97, 404, 783}) {
                    int x = 2 + p % 28;
                    int y = 2 + row * 30 + p / 28;
                    int want = grey(teacherFinal[row * perSample + p]);
                    assertEquals(want, img.getRGB(x, y) & 0xff, "teacher tile, seed row " + row + ", pixel " + p);
                }
            }
            // the baseline column is the scored run: its errors on the grid's seeds are its held-out errors there
            Scores.BaselinePick pick = base.picks().get(k);
            assertEquals(pick.candidate().name(), grid.get("columns").get(1).get("config").asText());
            double[] gridErr = Json.MAPPER.convertValue(grid.get("columns").get(1).get("perSeedMse"), double[].class);
            double[] heldErr = pick.heldOut().perSeed();
            assertEquals(4, gridErr.length);
            for (int i = 0; i < 4; i++) {
                assertEquals(heldErr[i], gridErr[i], 1e-6 * heldErr[i], "baseline, seed row " + i);
            }
            assertFalse(grid.get("columns").get(0).has("perSeedMse"), "no error of the teacher against itself");
        }

        // recomputed from scratch, the stage writes the same bytes
        for (var e : shas.entrySet()) {
            Files.delete(work.resolve(e.getKey()));
        }
        Files.delete(stage.resolve(StageCheckpoint.FILE));
        byte[] indexBefore = Files.readAllBytes(work.resolve(out.get("index").asText()));
        runJob(spec, work);
        for (var e : shas.entrySet()) {
            assertEquals(e.getValue(), Hashing.sha256(work.resolve(e.getKey())), e.getKey());
        }
        assertArrayEquals(indexBefore, Files.readAllBytes(work.resolve(out.get("index").asText())));
    }

    /** The Fashion-MNIST empirical preset, with DPM-Solver-v3 among the columns. */
    @Test
    @RequiresFashionMnist
    void fashionMnistEmpiricalPresetGetsGridsWithEveryMethod() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, ("{'model': 'fmnist-empirical', 'methods': ['dpmsolver-v3'], 'nfe': [5],"
                + " 'guidance': [1], 'spacings': ['logSNR'], 'teacher': {'steps': 20, 'recordEvery': 2,"
                + " 'checkSeeds': 0}, 'seeds': {'train': 40, 'heldOut': 4, 'shardSize': 40, 'fitRows': 32},"
                + " 'sampleGrids': {'seeds': 3}, 'batch': 16}").replace('\'', '"'));
        Path work = dir.resolve("work");
        runJob(spec, work);
        JsonNode out = Json.MAPPER.readTree(work.resolve("g1/sample-grids/" + StageCheckpoint.FILE).toFile())
                .get("output");
        JsonNode grid = out.get("grids").get(0);
        List<String> methods = new ArrayList<>();
        grid.get("columns").forEach(c -> methods.add(c.get("method").asText()));
        assertEquals(List.of("teacher", "baseline", "dpmsolver-v3"), methods, grid.toString());
        BufferedImage img = ImageIO.read(work.resolve(grid.get("file").asText()).toFile());
        assertEquals(3 * 30 + 2, img.getWidth());
        assertEquals(3 * 30 + 2, img.getHeight());
        DpmSolverV3Stage.Picks v3 = DpmSolverV3Stage.read(work.resolve("g1/validate-dpmsolver-v3/"
                + DpmSolverV3Stage.FILE));
        double[] gridErr = Json.MAPPER.convertValue(grid.get("columns").get(2).get("perSeedMse"), double[].class);
        double[] heldErr = v3.picks().get(0).heldOut().perSeed();
        for (int i = 0; i < 3; i++) {
            assertEquals(heldErr[i], gridErr[i], 1e-5 * heldErr[i], "dpmsolver-v3, seed row " + i);
        }
    }

    /** With learned timesteps, DPM-Solver-v3 on its learned grid is a column too, run exactly as validated. */
    @Test
    @RequiresFashionMnist
    void dpmSolverV3OnItsLearnedGridIsAColumn() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, ("{'model': 'fmnist-empirical', 'methods': ['dpmsolver-v3'], 'nfe': [5],"
                + " 'guidance': [1], 'spacings': ['logSNR'], 'teacher': {'steps': 20, 'recordEvery': 2,"
                + " 'checkSeeds': 0}, 'seeds': {'train': 40, 'heldOut': 4, 'shardSize': 40, 'fitRows': 32,"
                + " 'coefficientFitRows': 4}, 'timesteps': {'mode': 'learned', 'evaluations': 4, 'gitsPoints': 0},"
                + " 'sampleGrids': {'seeds': 3}, 'batch': 16}").replace('\'', '"'));
        Path work = dir.resolve("work");
        runJob(spec, work);
        JsonNode grid = Json.MAPPER.readTree(work.resolve("g1/sample-grids/" + StageCheckpoint.FILE).toFile())
                .get("output").get("grids").get(0);
        List<String> methods = new ArrayList<>();
        grid.get("columns").forEach(c -> methods.add(c.get("method").asText()));
        assertEquals(List.of("teacher", "baseline", "timesteps", "dpmsolver-v3", "dpmsolver-v3+timesteps"), methods,
                grid.toString());
        assertEquals("g1/timesteps-dpmsolver-v3", grid.get("columns").get(4).get("stage").asText());
        DpmSolverV3Stage.Picks learned = DpmSolverV3Stage.read(work.resolve("g1/timesteps-dpmsolver-v3/"
                + DpmSolverV3Stage.FILE));
        double[] gridErr = Json.MAPPER.convertValue(grid.get("columns").get(4).get("perSeedMse"), double[].class);
        double[] heldErr = learned.picks().get(0).heldOut().perSeed();
        for (int i = 0; i < 3; i++) {
            assertEquals(heldErr[i], gridErr[i], 1e-5 * heldErr[i], "dpmsolver-v3+timesteps, seed row " + i);
        }
    }

    private static void runJob(Path spec, Path work) throws Exception {
        JsonNode tree = Json.MAPPER.readTree(spec.toFile());
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), spec.getParent());
        LocalJobRunner.tuning().run(0, tree, model, work, new LocalJobRunner.Listener() { }, () -> false);
    }

    private static Path heldOutDir(Path work) throws Exception {
        try (var files = Files.walk(work.resolve("g2/teacher-heldout"))) {
            return files.filter(f -> f.getFileName().toString().equals(TrajectorySet.META)).findFirst()
                    .orElseThrow().getParent();
        }
    }

    /** [-1, 1] to 0..255, as documented for the grids. */
    private static int grey(double v) {
        return (int) Math.max(0, Math.min(255, Math.round((v + 1.0) * 127.5)));
    }
}
