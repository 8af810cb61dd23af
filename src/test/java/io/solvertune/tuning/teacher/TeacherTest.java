package io.solvertune.tuning.teacher;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.numerics.solver.SolverSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Teacher trajectories on a Gaussian whose ODE solution is exact: accuracy, recording, shards, resumption. */
class TeacherTest {
    static GaussianDenoiser model;
    static final int D = 6;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        double[] mean = {0.5, -1, 0.2, 0, 1.5, -0.3};
        double[] var = {0.02, 0.1, 0.5, 1, 2, 4};
        model = GaussianDenoiser.diagonal(VpLinearSchedule.standard(), mean, var);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    static TeacherSettings settings() {
        return new TeacherSettings(DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(), 400, null,
                null, 40, true, 4, "float64", 1e-4, 3);
    }

    static Teacher.Request request(long[] seeds, TeacherSettings st) {
        return new Teacher.Request(model, "test-model-hash", model.schedule().spec(), Guidance.none(), seeds, st);
    }

    @Test
    void recordsExactTrajectoriesAtTheDeclaredTimes() throws IOException {
        TrajectorySet set = Teacher.run(request(Seeds.range(0, 10), settings()), dir, Progress.NONE);
        set.verify();
        TrajectorySetMeta meta = set.meta();
        assertEquals(11, meta.times().length); // grid points 0, 40, ..., 400
        assertEquals(1.0, meta.times()[0]);
        assertEquals(1e-3, meta.times()[10]);
        assertTrue(meta.accuracy().passed());
        assertTrue(meta.accuracy().relRmsDiff() < 1e-4, "half-step difference " + meta.accuracy().relRmsDiff());
        assertEquals(3, meta.accuracy().seedsChecked());
        assertEquals(3, meta.shards().size()); // 4 + 4 + 2 seeds
        int[] all = new int[meta.times().length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Map<Integer, double[]> states = set.states(all, 0, 10);
        Map<Integer, double[]> eps = set.modelOutputs(all, 0, 10);
        double[] xT = Seeds.initialNoise(Seeds.range(0, 10), D, 1.0);
        assertArrayEquals(xT, states.get(0), 0.0);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x0 = m.create(xT, new Shape(10, D));
            for (int k = 1; k < all.length; k++) {
                double t = meta.times()[k];
                double[] exact = model.exactSolution(x0, 1.0, t).toDoubleArray();
                double[] got = states.get(k);
                for (int i = 0; i < exact.length; i++) {
                    // 3M with 400 logSNR steps from t = 1: the half-step check measures ~1e-5 relative
                    assertEquals(exact[i], got[i], 1e-4, "t=" + t);
                }
                // recorded noise predictions are the model's at the recorded states
                NDArray xs = m.create(got, new Shape(10, D));
                double[] direct = new ModelFunction(model, Guidance.none()).noise(xs, t).toDoubleArray();
                double[] rec = eps.get(k);
                for (int i = 0; i < direct.length; i++) {
                    assertEquals(direct[i], rec[i], 1e-12 * Math.max(1, Math.abs(direct[i])), "eps at t=" + t);
                }
            }
        }
        // numpy layout: seeds-major x [N, R, D]
        Map<String, NpyArray> npz = Npy.readNpz(dir.resolve(TrajectorySet.FILE));
        assertArrayEquals(new long[] {10, 11, D}, npz.get("x").shape());
        assertArrayEquals(Seeds.range(0, 10), npz.get("seeds").longs());
    }

    @Test
    void aSeedGivesTheSameTrajectoryInAnyShard() throws IOException {
        TrajectorySet big = Teacher.run(request(Seeds.range(0, 10), settings()), dir.resolve("a"), Progress.NONE);
        TrajectorySet small = Teacher.run(request(new long[] {7, 3}, settings()), dir.resolve("b"), Progress.NONE);
        double[] b7 = big.finalStates(7, 8);
        double[] s7 = small.finalStates(0, 1);
        double[] b3 = big.finalStates(3, 4);
        double[] s3 = small.finalStates(1, 2);
        assertArrayEquals(b7, s7, 1e-13);
        assertArrayEquals(b3, s3, 1e-13);
    }

    @Test
    void resumesOnlyMissingShardsAndRefusesAnotherRun() throws IOException {
        Path d = dir.resolve("run");
        Teacher.run(request(Seeds.range(0, 10), settings()), d, Progress.NONE);
        byte[] shard0 = Files.readAllBytes(d.resolve("shard-00000.npz"));
        // simulate a crash during shard 1: its file is gone, the assembled outputs are not there yet
        Files.delete(d.resolve("shard-00001.npz"));
        Files.delete(d.resolve(TrajectorySet.FILE));
        Files.delete(d.resolve(TrajectorySet.META));
        List<String> log = new ArrayList<>();
        TrajectorySet again = Teacher.run(request(Seeds.range(0, 10), settings()), d,
                (stage, done, total, msg) -> log.add(stage + " " + msg));
        assertTrue(log.contains("teacher shard 0 already done"), log.toString());
        assertTrue(log.contains("teacher shard 2 already done"), log.toString());
        assertTrue(log.stream().anyMatch(s -> s.startsWith("teacher shard 2/3")), log.toString());
        assertArrayEquals(shard0, Files.readAllBytes(d.resolve("shard-00000.npz")));
        again.verify();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Teacher.run(request(Seeds.range(100, 10), settings()), d, Progress.NONE));
        assertTrue(e.getMessage().contains("different seeds"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> Teacher.run(request(Seeds.range(0, 10), settings().withSteps(200, 20)), d, Progress.NONE));
        assertTrue(e2.getMessage().contains("teacher settings"), e2.getMessage());
    }

    @Test
    void corruptedFileFailsVerification() throws IOException {
        TrajectorySet set = Teacher.run(request(Seeds.range(0, 4), settings()), dir, Progress.NONE);
        byte[] b = Files.readAllBytes(dir.resolve(TrajectorySet.FILE));
        b[b.length / 2] ^= 1;
        Files.write(dir.resolve(TrajectorySet.FILE), b);
        IOException e = assertThrows(IOException.class, set::verify);
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
    }

    @Test
    void tooCoarseTeacherIsRefusedWithItsMeasuredError() {
        TeacherSettings coarse = new TeacherSettings(new Ddim(), new TimestepSpacing.TimeUniform(), 10, null,
                null, 5, false, 4, "float64", 1e-6, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Teacher.run(request(Seeds.range(0, 4), coarse), dir, Progress.NONE));
        assertTrue(e.getMessage().contains("relative RMS of"), e.getMessage());
        // a looser tolerance re-judges the recorded figure without recomputing anything
        List<String> log = new ArrayList<>();
        TrajectorySet ok = assertDoesNotThrow(() -> Teacher.run(request(Seeds.range(0, 4), coarse.withAccuracy(0.5, 2)),
                dir, (stage, done, total, msg) -> log.add(stage + " " + msg)));
        assertTrue(ok.meta().accuracy().passed());
        assertEquals(0.5, ok.meta().accuracy().tolerance());
        assertTrue(log.stream().noneMatch(m -> m.startsWith("teacher-check")), log.toString());
    }

    @Test
    void duplicateSeedsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> request(new long[] {1, 2, 1}, settings()));
        assertTrue(e.getMessage().contains("seed 1 appears twice"), e.getMessage());
    }

    /** The same request gives byte-identical files (same sha256), and a finished set is not rewritten. */
    @Test
    void identicalRunsGiveIdenticalFilesAndFinishedSetsAreKept() throws IOException {
        TrajectorySet a = Teacher.run(request(Seeds.range(0, 6), settings()), dir.resolve("a"), Progress.NONE);
        TrajectorySet b = Teacher.run(request(Seeds.range(0, 6), settings()), dir.resolve("b"), Progress.NONE);
        assertEquals(a.meta().sha256(), b.meta().sha256());
        Path file = dir.resolve("a").resolve(TrajectorySet.FILE);
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(file);
        List<String> log = new ArrayList<>();
        TrajectorySet again = Teacher.run(request(Seeds.range(0, 6), settings()), dir.resolve("a"),
                (stage, done, total, msg) -> log.add(msg));
        assertEquals(a.meta().sha256(), again.meta().sha256());
        assertEquals(before, Files.getLastModifiedTime(file));
        assertTrue(log.contains("already finished"), log.toString());
    }
}
