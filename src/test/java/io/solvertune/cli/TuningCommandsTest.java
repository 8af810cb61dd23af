package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** teacher → fit-ems → evaluate / sweep on the reference mixture preset, and their one-line errors. */
class TuningCommandsTest {
    @TempDir
    Path dir;

    static SampleCommandTest.Result cli(String... args) {
        return SampleCommandTest.cli(args);
    }

    @Test
    void pipelineFromTheCommandLine() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        SampleCommandTest.Result t = cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--seeds", "0:48", "--steps", "200", "--record-every", "4", "--shard", "24", "--out", train);
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("teacher: 48 seeds, 51 recorded times"), t.out());
        TrajectorySet set = TrajectorySet.open(Path.of(train));
        set.verify();
        assertTrue(set.meta().guidance().perSeedClass());
        SampleCommandTest.Result h = cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--seeds", "1000:32", "--steps", "200", "--record-every", "200", "--out", held);
        assertEquals(0, h.code(), h.err());
        // a teacher killed after its first shard (the stage's record, the second shard and the set not yet written)
        // continues from that shard and writes the same trajectories
        String wrote = t.out().lines().filter(l -> l.startsWith("wrote ")).findFirst().orElseThrow();
        byte[] npz = Files.readAllBytes(Path.of(train, set.meta().file()));
        Files.delete(Path.of(train, "stage-output.json"));
        Files.delete(Path.of(train, set.meta().shards().get(1).file()));
        Files.delete(Path.of(train, set.meta().file()));
        Files.delete(Path.of(train, "trajectories.json"));
        SampleCommandTest.Result again = cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance",
                "3", "--seeds", "0:48", "--steps", "200", "--record-every", "4", "--shard", "24", "--out", train);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains(wrote), again.out());
        org.junit.jupiter.api.Assertions.assertArrayEquals(npz, Files.readAllBytes(Path.of(train, set.meta().file())));
        TrajectorySet.open(Path.of(train)).verify();

        String ems = dir.resolve("ems").toString();
        SampleCommandTest.Result f = cli("fit-ems", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--source", "teacher", "--teacher", train, "--samples", "24", "--l-method", "exact", "--out", ems);
        assertEquals(0, f.code(), f.err());
        EmpiricalModelStatistics stats = EmsNpz.read(Path.of(ems));
        assertEquals(50, stats.gridSteps());
        assertTrue(Files.isRegularFile(Path.of(ems, "provenance.json")));
        // killed before its record was written: the rerun computes the statistics again, the same bytes
        byte[] l = Files.readAllBytes(Path.of(ems, EmsNpz.L_FILE));
        Files.delete(Path.of(ems, "stage-output.json"));
        SampleCommandTest.Result f2 = cli("fit-ems", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--source", "teacher", "--teacher", train, "--samples", "24", "--l-method", "exact", "--out", ems);
        assertEquals(0, f2.code(), f2.err());
        org.junit.jupiter.api.Assertions.assertArrayEquals(l, Files.readAllBytes(Path.of(ems, EmsNpz.L_FILE)));
        org.junit.jupiter.api.Assertions.assertArrayEquals(l, Files.readAllBytes(Path.of(ems, "ems", EmsNpz.L_FILE)));

        Path grid = dir.resolve("grid.json");
        SampleCommandTest.Result e = cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--teacher", held, "--nfe", "5,8", "--solver", "unipc", "--option", "variant=bh2", "--json", grid.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("| unipc data bh2 o2 time_uniform | 5 | 32 |"), e.out());

        SampleCommandTest.Result s = cli("sweep", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--select", "24:24", "--nfe", "6", "--v3", ems);
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("best untuned baseline (24 train / 32 held-out seeds"), s.out());
        assertTrue(s.out().contains("DPM-Solver-v3 (10 variants"), s.out());

        // coefficient methods: fitted on rows 0..15, chosen on 16..47, validated on the held-out seeds
        Path fitOut = dir.resolve("fit");
        SampleCommandTest.Result c = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--nfe", "6", "--method", "dode,iia-ddim",
                "--out", fitOut.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("dode (fitted on rows 0..15, from the best untuned baseline's solver and spacing where it can "
                + "use them, then its 15 own variants)"), c.out());
        assertTrue(c.out().contains("iia-ddim (fitted on rows 0..15, from the best untuned baseline's solver and spacing where it "
                + "can use them, then its 3 own variants)"), c.out());
        // every method fits on the given rows, whatever its default sample count (IIA's is 128)
        assertTrue(!c.out().contains("no variant could be fitted"), c.out());
        assertTrue(Files.exists(fitOut.resolve("iia-ddim-nfe6.json")), c.out());
        io.solvertune.tuning.fit.CoefficientSet dode = io.solvertune.tuning.fit.CoefficientSet.fromJson(
                Files.readString(fitOut.resolve("dode-nfe6.json")));
        assertEquals(io.solvertune.tuning.fit.CoefficientSet.Method.DODE, dode.method());
        assertEquals(6, dode.steps());
        assertEquals(32, dode.validation().seeds());
        assertEquals(16, dode.provenance().trainSeeds().length);
        assertTrue(Files.readString(fitOut.resolve("summary.json")).contains("\"vsBase\""));
        // a fit killed while fitting iia-ddim (its stage's record and set not yet written) continues with that stage
        // alone, and writes the same bytes
        byte[] iia = Files.readAllBytes(fitOut.resolve("iia-ddim-nfe6.json"));
        String summaryBefore = Files.readString(fitOut.resolve("summary.json"));
        Files.delete(fitOut.resolve("fit-iia-ddim-nfe6/stage-output.json"));
        Files.delete(fitOut.resolve("fit-iia-ddim-nfe6/iia-ddim-nfe6.json"));
        SampleCommandTest.Result cont = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--nfe", "6", "--method", "dode,iia-ddim",
                "--out", fitOut.toString());
        assertEquals(0, cont.code(), cont.err());
        assertTrue(cont.out().contains("kept from the stage checkpoints"), cont.out());
        assertTrue(cont.out().matches("(?s).*\\| 6 \\| dode [^\n]* \\| \\(checkpoint\\) \\|\n.*"), cont.out());
        assertTrue(cont.out().matches("(?s).*\\| 6 \\| iia-ddim [^\n]* \\| [0-9.]+ \\|\n.*"), cont.out());
        org.junit.jupiter.api.Assertions.assertArrayEquals(iia, Files.readAllBytes(fitOut.resolve("iia-ddim-nfe6.json")));
        org.junit.jupiter.api.Assertions.assertArrayEquals(iia,
                Files.readAllBytes(fitOut.resolve("fit-iia-ddim-nfe6/iia-ddim-nfe6.json")));
        try (java.util.stream.Stream<Path> left = Files.list(fitOut)) {
            assertEquals(java.util.List.of(), left.filter(p -> p.toString().endsWith(".tmp")).toList());
        }
        // the summary differs only in the recomputed stage's fit time
        assertEquals(summaryBefore.replaceAll("\"fitSeconds\" : [0-9.E-]+", ""),
                Files.readString(fitOut.resolve("summary.json")).replaceAll("\"fitSeconds\" : [0-9.E-]+", ""));
        // evaluate --set scores a written set and its base on a teacher set: the held-out numbers of its validation
        SampleCommandTest.Result ev = cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--teacher", held, "--set", fitOut.resolve("dode-nfe6.json").toString());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().contains(String.format(java.util.Locale.ROOT, " | 6 | 32 | %.6g |", dode.validation().mse())),
                ev.out());
        assertTrue(ev.out().contains(String.format(java.util.Locale.ROOT, " | 6 | 32 | %.6g |",
                dode.validation().baseMse())), ev.out());
        assertTrue(ev.out().contains("| dode-nfe6.json vs its base | | | x"), ev.out());
        assertTrue(!ev.out().contains("unipc data bh2 o2 time_uniform | 5"), "--set alone scores no untuned baselines");
        // --paired: every row against the first (here the set, then its base) on the same seeds; the base's verdict
        // against the set mirrors the set's recorded verdict against its base, the ratio is the ratio of the means
        SampleCommandTest.Result pr = cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--teacher", held, "--set", fitOut.resolve("dode-nfe6.json").toString(), "--paired", "--per-seed",
                dir.resolve("per-seed.csv").toString());
        assertEquals(0, pr.code(), pr.err());
        // --per-seed: a seed column (the held-out seeds in order), then one column per printed row whose mean is the
        // row's printed mean
        java.util.List<String> csv = Files.readAllLines(dir.resolve("per-seed.csv"));
        assertEquals(33, csv.size(), "header + 32 seeds");
        assertTrue(csv.get(0).startsWith("seed,\"dode-nfe6.json: ") && csv.get(0).endsWith(" NFE 6\""), csv.get(0));
        assertEquals("1000", csv.get(1).split(",")[0]);
        assertEquals("1031", csv.get(32).split(",")[0]);
        double[] colMean = new double[2];
        for (String line : csv.subList(1, 33)) {
            String[] cells = line.split(",");
            assertEquals(3, cells.length, line);
            colMean[0] += Double.parseDouble(cells[1]) / 32;
            colMean[1] += Double.parseDouble(cells[2]) / 32;
        }
        assertEquals(dode.validation().mse(), colMean[0], 1e-9 * dode.validation().mse());
        assertEquals(dode.validation().baseMse(), colMean[1], 1e-9 * dode.validation().baseMse());
        assertTrue(pr.out().contains("paired against the first row (dode-nfe6.json: "), pr.out());
        java.util.regex.Matcher pm = java.util.regex.Pattern.compile("\\n\\| [^|]+ \\| 6 \\| ([0-9.e+-]+) \\| ([0-9.]+) \\| "
                + "([+-][0-9.]+|[+-]Infinity) \\| (beats|tie|worse) \\|").matcher(pr.out().substring(pr.out().indexOf("paired against")));
        assertTrue(pm.find(), pr.out());
        assertEquals(dode.validation().baseMse(), Double.parseDouble(pm.group(1)), 1e-5 * dode.validation().baseMse());
        assertEquals(dode.validation().baseMse() / dode.validation().mse(), Double.parseDouble(pm.group(2)), 1e-3);
        String mirrored = switch (dode.validation().vsBase()) {
            case BEATS -> "worse";
            case WORSE -> "beats";
            case TIE -> "tie";
        };
        assertEquals(mirrored, pm.group(4), pr.out());
        assertEquals(dode.validation().baseMse() > dode.validation().mse(), pm.group(3).startsWith("+"), pr.out());
        SampleCommandTest.Result one = cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--teacher", held, "--nfe", "5", "--solver", "ddim", "--paired");
        assertTrue(one.code() != 0 && one.err().contains("--paired: needs at least two scored rows"), one.err());
        SampleCommandTest.Result notSet = cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance",
                "3", "--teacher", held, "--set", fitOut.resolve("summary.json").toString());
        assertTrue(notSet.code() != 0 && notSet.err().contains("--set: ") && notSet.err().contains("is not a coefficient set"),
                notSet.err());
        // --resume keeps the written (method, NFE) pairs, reuses the stored baseline choice and adds the new ones
        String before = Files.readString(fitOut.resolve("dode-nfe6.json"));
        SampleCommandTest.Result more = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--nfe", "6", "--method", "dode,dc",
                "--resume", "--progress", "--out", fitOut.toString());
        assertEquals(0, more.code(), more.err());
        // the fit starts from the best untuned baseline's solver and spacing, then tries the method's own variants
        String best6 = null;
        for (com.fasterxml.jackson.databind.JsonNode b : io.solvertune.tuning.Json.MAPPER.readTree(
                fitOut.resolve("summary.json").toFile()).path("baseline")) {
            if (b.path("nfe").asInt() == 6) {
                best6 = b.path("best").path("name").asText().replaceAll("\\(.*\\)$", ""); // without karras's rho
            }
        }
        assertTrue(more.err().contains("[dc 1/10] NFE 6 dc " + best6 + ": select MSE"), best6 + "\n" + more.err());
        assertTrue(more.err().contains("NFE 6 dc unipc data bh1 o3 time_uniform: select MSE"), more.err());
        assertTrue(more.out().contains("kept from the stage checkpoints in " + fitOut), more.out());
        assertTrue(more.out().matches("(?s).*\\| 6 \\| dode [^\n]* \\| \\(checkpoint\\) \\|\n.*"), more.out());
        assertTrue(more.out().contains("dc (fitted on rows 0..15"), more.out());
        assertEquals(before, Files.readString(fitOut.resolve("dode-nfe6.json")));
        com.fasterxml.jackson.databind.JsonNode sum = io.solvertune.tuning.Json.MAPPER.readTree(
                fitOut.resolve("summary.json").toFile());
        java.util.Set<String> methods = new java.util.TreeSet<>();
        sum.path("results").forEach(r -> methods.add(r.path("method").asText() + "@" + r.path("nfe").asInt()));
        assertEquals(java.util.Set.of("dode@6", "iia-ddim@6", "dc@6"), methods);
        // a resumed run at another NFE sweeps that NFE and keeps the stored choice of the others
        SampleCommandTest.Result nfe5 = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--nfe", "5", "--method", "dode",
                "--resume", "--out", fitOut.toString());
        assertEquals(0, nfe5.code(), nfe5.err());
        com.fasterxml.jackson.databind.JsonNode sum5 = io.solvertune.tuning.Json.MAPPER.readTree(
                fitOut.resolve("summary.json").toFile());
        assertEquals(2, sum5.path("baseline").size(), sum5.path("baseline").toString());
        assertEquals(5, sum5.path("baseline").get(0).path("nfe").asInt());
        assertEquals(sum.path("baseline").get(0), sum5.path("baseline").get(1));
        assertEquals(4, sum5.path("results").size());
        SampleCommandTest.Result otherRows = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:8", "--nfe", "6", "--method", "dode", "--resume",
                "--out", fitOut.toString());
        assertTrue(otherRows.code() != 0 && otherRows.err().contains("--fit-rows: --resume continues a run made with "
                + "fitRows [0, 16]"), otherRows.err());
        // a stored baseline that does not re-score to its recorded held-out MSE (another model or set) is refused
        Path forged = dir.resolve("forged.json");
        com.fasterxml.jackson.databind.node.ObjectNode tree = (com.fasterxml.jackson.databind.node.ObjectNode)
                io.solvertune.tuning.Json.MAPPER.readTree(fitOut.resolve("summary.json").toFile());
        tree.path("baseline").forEach(choice -> {
            if (choice.path("nfe").asInt() == 6) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) choice.path("heldOut")).put("meanMse", 12345.0);
            }
        });
        Files.writeString(forged, tree.toString());
        SampleCommandTest.Result forgedRun = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--nfe", "6", "--method", "dode",
                "--baseline", forged.toString(), "--out", dir.resolve("fit2").toString());
        assertTrue(forgedRun.code() != 0 && forgedRun.err().contains("--baseline: the stored choice for NFE 6"), forgedRun.err());
        SampleCommandTest.Result notSummary = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance",
                "3", "--train", train, "--heldout", held, "--fit-rows", "0:16", "--method", "dode", "--baseline",
                fitOut.resolve("dode-nfe6.json").toString(), "--out", dir.resolve("fit3").toString());
        assertTrue(notSummary.code() != 0 && notSummary.err().contains("has no \"baseline\" list"), notSummary.err());
        SampleCommandTest.Result overlap = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--fit-rows", "0:16", "--select", "8:8", "--method", "dode",
                "--out", fitOut.toString());
        assertTrue(overlap.err().contains("--select: rows 8..15 overlap --fit-rows"), overlap.err());
        SampleCommandTest.Result unknown = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                "--train", train, "--heldout", held, "--method", "magic", "--out", fitOut.toString());
        assertTrue(unknown.err().contains("--method: unknown method 'magic'"), unknown.err());

        for (String[] bad : new String[][] {{"1.2:1.5", "lower < 1 < upper"}, {"0.5", "expected LO:HI"},
                {"a:b", "two numbers"}}) {
            SampleCommandTest.Result r = cli("fit", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "3",
                    "--train", train, "--heldout", held, "--method", "dc", "--dc-bounds", bad[0], "--out",
                    fitOut.toString());
            assertTrue(r.code() != 0 && r.err().contains("--dc-bounds") && r.err().contains(bad[1]), r.err());
        }

        // a teacher set of another model (different guidance) is refused by name
        SampleCommandTest.Result wrong = cli("evaluate", "--preset", "gmm-sd-d32", "--teacher", held, "--nfe", "5");
        assertTrue(wrong.code() != 0);
        assertTrue(wrong.err().contains("guidance") || wrong.err().contains("another model"), wrong.err());
    }

    @Test
    void badInputIsNamed() {
        String[][] cases = {
            {"teacher", "--preset", "no-such-model", "--seeds", "0:4", "--out", dir.resolve("a").toString()},
            {"teacher", "--preset", "gmm-sd-d32", "--spec", "x.json", "--seeds", "0:4", "--out", dir.resolve("b").toString()},
            {"teacher", "--preset", "gmm-sd-d32", "--seeds", "0-4", "--out", dir.resolve("c").toString()},
            {"teacher", "--preset", "gmm-sd-d32", "--seeds", "0:4", "--steps", "0", "--out", dir.resolve("d").toString()},
            {"fit-ems", "--preset", "gmm-sd-d32", "--source", "teacher", "--out", dir.resolve("e").toString()},
            {"fit-ems", "--preset", "gmm-sd-d32", "--source", "magic", "--out", dir.resolve("f").toString()},
            {"evaluate", "--preset", "gmm-sd-d32", "--teacher", dir.resolve("missing").toString()},
        };
        String[] expected = {
            "unknown preset 'no-such-model'",
            "give exactly one of --spec FILE or --preset NAME",
            "expected FIRST:COUNT",
            "teacher.steps: must be >= 1",
            "--source teacher needs --teacher DIR",
            "--source: expected data or teacher",
            "not a finished trajectory set",
        };
        for (int i = 0; i < cases.length; i++) {
            SampleCommandTest.Result r = cli(cases[i]);
            assertTrue(r.code() != 0, expected[i]);
            assertTrue(r.err().contains(expected[i]), "expected '" + expected[i] + "' in " + r.err());
        }
    }

    /** The trained Fashion-MNIST network through the user-model path, labelled by the project's classifier. */
    @Test
    void qualityOfTheTrainedNetwork() {
        Path root = Path.of("tuning-jobs/fmnist-unet");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(root.resolve("unet.pt")), "network not present");
        Path png = dir.resolve("q.png");
        SampleCommandTest.Result r = cli("quality", "--preset", "fmnist-unet", "--guidance", "3", "--classifier",
                root.resolve("classifier.pt").toString(), "--per-class", "2", "--steps", "20", "--grid", png.toString());
        assertEquals(0, r.code(), r.err());
        // 20 samples at guidance 3 (99.4% agreement over 1000 in the job's own evaluation)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+) of 20 samples").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Integer.parseInt(m.group(1)) >= 17, r.out());
        assertTrue(Files.isRegularFile(png));
        SampleCommandTest.Result bad = cli("quality", "--preset", "fmnist-unet", "--classifier",
                dir.resolve("none.pt").toString());
        assertTrue(bad.code() != 0 && bad.err().contains("file not found"), bad.err());
    }
}
