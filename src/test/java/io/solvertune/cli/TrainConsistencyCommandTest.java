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

    @Test
    void trainsValidatesResumesAndEvaluateRunsTheSet() throws Exception {
        String train = dir.resolve("train").toString();
        String held = dir.resolve("held").toString();
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "0:24", "--steps", "100", "--record-every", "100", "--out", train).code());
        assertEquals(0, SampleCommandTest.cli("teacher", "--preset", "gmm-sd-d32", "--per-seed-class", "--guidance", "2",
                "--seeds", "1000:16", "--steps", "100", "--record-every", "100", "--out", held).code());
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
}
