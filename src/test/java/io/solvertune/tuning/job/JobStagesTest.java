package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Teacher shards, checkpoints and cancellation of the stage executors on the reference mixture. */
class JobStagesTest {
    static ResolvedModel model;
    static JsonNode spec;

    @TempDir
    Path work;

    @BeforeAll
    static void setUp() throws Exception {
        model = LocalJobRunner.resolveLocal(TuningJobSpecTest.json("'gmm-sd-d32'"), Path.of("."));
        spec = TuningJobSpecTest.json("{'model': 'gmm-sd-d32', 'methods': ['dode'], 'nfe': [5], 'guidance': [7.5],"
                + " 'spacings': ['logSNR'], 'teacher': {'steps': 100, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-3},"
                + " 'seeds': {'train': 40, 'heldOut': 8, 'shardSize': 16, 'fitRows': 20}}");
    }

    /** The plan's stages up to and including {@code last}. */
    static List<PlannedStage> upTo(String last) {
        List<PlannedStage> out = new ArrayList<>();
        for (PlannedStage s : new TuningJobPlanner().plan(spec)) {
            out.add(s);
            if (s.name().equals(last)) {
                return out;
            }
        }
        throw new AssertionError("no stage " + last);
    }

    static JsonNode runUpTo(String last, Path work, java.util.function.BooleanSupplier cancel) throws Exception {
        return new LocalJobRunner(s -> upTo(last), TuningStages.executors()).run(0, spec, model, work,
                new LocalJobRunner.Listener() { }, cancel);
    }

    @Test
    void shardedTeacherEqualsUnshardedTeacher() throws Exception {
        JsonNode merged = runUpTo("g7.5/teacher-train", work, () -> false);
        TrajectorySet sharded = TrajectorySet.open(work.resolve(merged.get("dir").asText()));
        sharded.verify();
        assertEquals(40, sharded.size());
        assertEquals(3, sharded.meta().shards().size());

        Path one = work.resolve("unsharded");
        PlannedStage mergeStage = upTo("g7.5/teacher-train").get(3);
        StageParams.Teacher p = StageParams.read(mergeStage.params().get("teacher"), StageParams.Teacher.class);
        TrajectorySet whole;
        try (Denoiser d = model.spec().build(Path.of("."))) {
            whole = Teacher.run(new Teacher.Request(d, model.contentHash(), model.spec().schedule(), Guidance.perSeed(7.5),
                    Seeds.range(0, 40), p.settings(Dtype.FLOAT64)), one, io.solvertune.tuning.Progress.NONE);
        }
        assertArrayEquals(whole.seeds(), sharded.seeds());
        assertArrayEquals(whole.times(), sharded.times());
        int[] all = new int[whole.times().length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        var a = whole.states(all, 0, 40);
        var b = sharded.states(all, 0, 40);
        for (int i : all) {
            assertArrayEquals(a.get(i), b.get(i), "recorded time " + i);
        }
        assertEquals(whole.meta().accuracy(), sharded.meta().accuracy());
        assertEquals(whole.meta().sha256(), sharded.meta().sha256(), "byte-identical trajectories.npz");
    }

    @Test
    void finishedStagesAreNotRecomputedAndCorruptOnesAre() throws Exception {
        JsonNode first = runUpTo("g7.5/teacher-train-000", work, () -> false);
        Path npz = work.resolve(first.get("dir").asText()).resolve(TrajectorySet.FILE);
        String sha = Hashing.sha256(npz);
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(npz, old);
        JsonNode again = runUpTo("g7.5/teacher-train-000", work, () -> false);
        assertEquals(first, again);
        assertEquals(old, Files.getLastModifiedTime(npz), "a verified stage is not recomputed");

        byte[] bytes = Files.readAllBytes(npz);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(npz, bytes);
        assertNotEquals(sha, Hashing.sha256(npz));
        JsonNode redone = runUpTo("g7.5/teacher-train-000", work, () -> false);
        assertEquals(first, redone);
        assertEquals(sha, Hashing.sha256(npz), "the corrupt stage was recomputed to the same bytes");
        assertNotEquals(old, Files.getLastModifiedTime(npz));
    }

    @Test
    void localModelsArePresetsOrSpecFilesWithAbsolutePaths() throws Exception {
        // a spec file relative to the job spec's directory, its npz relative to the spec file
        ResolvedModel m = LocalJobRunner.resolveLocal(TuningJobSpecTest.json("'models/gmm_sd_d8.json'"),
                Path.of("tuning-jobs"));
        var gm = (io.solvertune.numerics.spec.DenoiserSpec.GaussianMixture) m.spec().model();
        assertTrue(Path.of(gm.npz()).isAbsolute(), gm.npz());
        try (Denoiser d = m.spec().build(Path.of("/nonexistent"))) {
            assertArrayEquals(new long[] {8}, d.sampleShape());
        }
        assertEquals(io.solvertune.tuning.ModelHash.of(io.solvertune.numerics.spec.ModelSpec.read(
                Path.of("tuning-jobs/models/gmm_sd_d8.json")), Path.of("tuning-jobs/models").toAbsolutePath()),
                m.contentHash());
        assertEquals(64, model.contentHash().length());
        String err = assertThrows(IllegalArgumentException.class, () -> LocalJobRunner.resolveLocal(
                TuningJobSpecTest.json("'no-such-model'"), work)).getMessage();
        assertTrue(err.startsWith("model: 'no-such-model' is neither a preset"), err);
    }

    @Test
    void cancellationStopsATeacherStage() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        assertThrows(CancellationException.class, () -> runUpTo("g7.5/teacher-train-000", work,
                () -> polls.incrementAndGet() > 1));
        Path dir = work.resolve("g7.5/teacher-train-000");
        assertFalse(Files.exists(dir.resolve(StageCheckpoint.FILE)), "a cancelled stage records no output");
        assertFalse(Files.exists(dir.resolve(TrajectorySet.FILE)));
        assertTrue(polls.get() >= 2);
        // resumed afterwards, it finishes
        JsonNode out = runUpTo("g7.5/teacher-train-000", work, () -> false);
        assertEquals(16, out.get("count").asInt());
    }
}
