package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.tuning.fit.CoefficientSet;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-consistency} end to end on tiny teacher sets: trains, writes a validated CONSISTENCY set and a summary
 * with the reward curve, resumes from its checkpoint, and {@code evaluate --set} runs the set; bad hyperparameters are
 * refused naming their field.
 */
class TrainConsistencyCommandTest {
    @TempDir
    Path dir;

    /** The tests' teacher sets of the mixture at guidance 2: 24 training seeds and 16 held-out seeds, 100 steps. */
    static void teachers(String train, String held) {
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "0:24", "--steps", "100", "--record-every", "100", "--out", train).code());
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "1000:16", "--steps", "100", "--record-every", "100", "--out", held).code());
    }

    @Test
    void trainsValidatesResumesAndEvaluateRunsTheSet() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        teachers(train, held);
        String out = dir.resolve("cs").toString();
        String[] args = {"train-consistency", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
            "--train", train, "--heldout", held, "--train-rows", "0:8", "--select", "8:16", "--nfe", "5",
            "--iterations", "3", "--noises", "2", "--group", "4", "--min-nfe", "4", "--max-nfe", "6", "--hidden", "8",
            "--spacing", "karras", "--out", out};
        SampleCommandTest.Result r = SampleCommandTest.cli(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| 5 | expected |"), r.out());
        Path set = Path.of(out, "consistency-rl-nfe5.json");
        CoefficientSet cs = CoefficientSet.fromJson(Files.readString(set));
        assertEquals(CoefficientSet.Method.CONSISTENCY, cs.method());
        assertEquals(16, cs.validation().seeds());
        assertTrue(Files.readString(Path.of(out, "summary-rl.json")).contains("rewardCurve"));
        // a rerun resumes from the checkpoint: nothing is left to train, the same set is written again
        SampleCommandTest.Result again = SampleCommandTest.cli(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(cs.values().length, CoefficientSet.fromJson(Files.readString(set)).values().length);
        assertTrue(java.util.Arrays.deepEquals(cs.values(), CoefficientSet.fromJson(Files.readString(set)).values()));
        SampleCommandTest.Result e = SampleCommandTest.cli("evaluate", "--preset", "gmm-sd-d32", "--per-seed-class",
                "--guidance", "2", "--teacher", held, "--set", set.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("consistency-rl-nfe5.json: consistency"), e.out());
        SampleCommandTest.Result bad = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32", "--train",
                train, "--heldout", held, "--group", "1", "--out", out);
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("group:"), bad.err());
        // the classifier term of the reward is RL's: the ablations refuse it (ClassifierRewardTest trains with it)
        SampleCommandTest.Result direct = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows", "0:8",
                "--select", "8:16", "--trainer", "DIRECT", "--reward-classifier",
                "tuning-jobs/fmnist-unet/classifier.pt", "--out", dir.resolve("direct").toString());
        assertNotEquals(0, direct.code());
        assertTrue(direct.err().contains("classifierReward: only the RL trainer"), direct.err());
    }

    @Test
    void theMultistepPriorTrainsAndValidatesAgainstItsSolverAndBadValuesNameTheOption() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        teachers(train, held);
        String out = dir.resolve("prior").toString();
        SampleCommandTest.Result r = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32",
                "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows", "0:8",
                "--select", "8:16", "--nfe", "5", "--iterations", "2", "--noises", "2", "--group", "4", "--hidden", "8",
                "--form", "DATA", "--prior", "MULTISTEP", "--prior-order", "2", "--select-every", "1", "--out", out);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("NFE 5 vs its prior dpmsolver++ multistep o2:"), r.out());
        String summary = Files.readString(Path.of(out, "summary-rl.json"));
        assertTrue(summary.contains("\"prior\" : {") && summary.contains("\"vsPrior\""), summary);
        CoefficientSet cs = CoefficientSet.fromJson(Files.readString(Path.of(out, "consistency-rl-nfe5.json")));
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> prior = (java.util.Map<String, Object>) cs.provenance().settings().get("prior");
        assertEquals("multistep", prior.get("kind"));
        assertEquals(2, prior.get("order"));
        assertEquals("dpmsolver++ multistep o2", prior.get("solver"));
        // the selection curve starts at iteration 0: the prior solver itself
        assertTrue(summary.contains("\"iteration\" : 0,"), summary);
        for (String[] bad : new String[][] {{"--prior", "ADAMS", "prior:", "(--prior)"},
            {"--prior-order", "3", "priorOrder:", "(--prior-order)"},
            {"--prior", "MULTISTEP", "--prior-order", "4", "priorOrder:", "(--prior-order)"},
            {"--prior", "MULTISTEP", "--policy", "CATEGORICAL", "prior:", "(--prior)"},
            {"--prior", "MULTISTEP", "--trainer", "CMAES", "--prior:", "CMAES"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train-consistency", "--preset",
                    "gmm-sd-d32", "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held,
                    "--train-rows", "0:8", "--select", "8:16", "--nfe", "5", "--out", dir.resolve("bad").toString()));
            args.addAll(java.util.Arrays.asList(bad).subList(0, bad.length - 2));
            SampleCommandTest.Result e = SampleCommandTest.cli(args.toArray(new String[0]));
            assertNotEquals(0, e.code(), String.join(" ", bad));
            assertTrue(e.err().contains(bad[bad.length - 2]) && e.err().contains(bad[bad.length - 1]), e.err());
        }
    }

    /**
     * A training killed mid-way (the stage's thread dies at iteration 5 of 8, after the trainer checkpointed
     * iteration 4; nothing of the stage's record, sets or summary written) continues from the trainer's checkpoint
     * on a rerun and writes the same bytes as an uninterrupted run in another directory.
     */
    @Test
    void aKilledTrainingContinuesAndWritesTheSameBytes() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        teachers(train, held);
        java.util.function.Function<Path, String[]> args = out -> new String[] {"train-consistency", "--preset",
            "gmm-sd-d32", "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows",
            "0:8", "--select", "8:16", "--nfe", "4,5", "--iterations", "8", "--checkpoint-every", "2", "--noises", "2",
            "--group", "4", "--hidden", "8", "--policy", "CATEGORICAL", "--progress", "--out", out.toString()};
        Path whole = dir.resolve("whole");
        SampleCommandTest.Result r = SampleCommandTest.cli(args.apply(whole));
        assertEquals(0, r.code(), r.err());

        Path killed = dir.resolve("killed");
        // the "kill": the progress line of iteration 5 throws on the stage's thread (once)
        SampleCommandTest.Result killedRun = SampleCommandTest.cliKilledAt("[consistency-train 5/8]",
                new IllegalStateException("killed at iteration 5"), args.apply(killed));
        int code = killedRun.code();
        String errText = killedRun.err();
        assertNotEquals(0, code, errText.toString());
        assertTrue(errText.toString().contains("killed at iteration 5"), errText.toString());
        Path stage = killed.resolve("consistency-rl");
        assertTrue(Files.isRegularFile(killed.resolve("baseline/stage-output.json")));
        assertTrue(!Files.exists(stage.resolve("stage-output.json")));
        try (java.util.stream.Stream<Path> s = Files.list(stage)) {
            assertEquals(1, s.filter(p -> p.getFileName().toString().startsWith("trainer-")).count());
        }

        SampleCommandTest.Result again = SampleCommandTest.cli(args.apply(killed));
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("resumed training at iteration 4 of 8"), again.err());
        assertTrue(!again.err().contains("[consistency-train 1/8]"), again.err());
        for (String f : new String[] {"consistency-rl-nfe4.json", "consistency-rl-nfe5.json",
            "consistency-rl/consistency.json", "consistency-rl/stage-output.json", "baseline/baseline.json"}) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(whole.resolve(f)),
                    Files.readAllBytes(killed.resolve(f)), f);
        }
        // the summary differs only in the training time
        assertEquals(Files.readString(whole.resolve("summary-rl.json")).replaceAll("\"trainSeconds\" : [0-9.E-]+", ""),
                Files.readString(killed.resolve("summary-rl.json")).replaceAll("\"trainSeconds\" : [0-9.E-]+", ""));
        // a third run recomputes nothing
        SampleCommandTest.Result third = SampleCommandTest.cli(args.apply(killed));
        assertEquals(0, third.code(), third.err());
        assertTrue(third.out().contains("trained (rl) in (checkpoint)"), third.out());
    }

    /** The ablations run through the same stage: their sets are written, validated and named after the trainer. */
    @Test
    void theAblationsRunThroughTheStage() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        teachers(train, held);
        for (String[] t : new String[][] {{"DIRECT", "--iterations", "2"}, {"CMAES", "--cmaes-evaluations", "10"}}) {
            Path out = dir.resolve(t[0]);
            SampleCommandTest.Result r = SampleCommandTest.cli("train-consistency", "--preset", "gmm-sd-d32",
                    "--per-seed-class", "--guidance", "2", "--train", train, "--heldout", held, "--train-rows", "0:8",
                    "--select", "8:16", "--nfe", "5", "--trainer", t[0], t[1], t[2], "--noises", "2", "--group", "4",
                    "--hidden", "8", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("| 5 | expected |"), r.out());
            String name = t[0].toLowerCase(java.util.Locale.ROOT);
            CoefficientSet cs = CoefficientSet.fromJson(Files.readString(out.resolve("consistency-" + name
                    + "-nfe5.json")));
            assertEquals(CoefficientSet.Method.CONSISTENCY, cs.method());
            assertEquals(16, cs.validation().seeds());
            assertTrue(Files.readString(out.resolve("summary-" + name + ".json")).contains("\"trainer\" : \""
                    + name + "\""));
        }
    }
}
