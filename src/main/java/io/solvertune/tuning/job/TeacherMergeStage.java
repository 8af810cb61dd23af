package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Assembles a split's teacher shards into one trajectory set, through {@link io.solvertune.tuning.teacher.Teacher}'s own
 * resume: the shard files are linked (or copied) into the stage directory under the names and indexes an unsharded
 * run would have given them, with a manifest listing them (and the first shard's half-step check), so that
 * {@code Teacher.run} over all the seeds finds every shard done and only assembles {@code trajectories.npz}.
 */
final class TeacherMergeStage extends TypedStage<StageParams.Merge, StageOutputs.TeacherSet> {
    /** {@code Teacher}'s resume manifest. */
    private static final String MANIFEST = "manifest.json";

    TeacherMergeStage() {
        super(StageParams.Merge.class);
    }

    @Override
    protected Output<StageOutputs.TeacherSet> run(StageContext ctx, StageParams.Merge p, Path dir) throws Exception {
        StageParams.Teacher t = p.teacher();
        TeacherSettings st = t.settings(TeacherShardStage.modelDtype(ctx));
        List<TrajectorySetMeta.Shard> shards = new ArrayList<>();
        TrajectorySetMeta first = null;
        int from = 0;
        for (int i = 0; i < p.shards().size(); i++) {
            StageRuntime.checkCancelled(ctx);
            String name = p.shards().get(i);
            TrajectorySet part = TrajectorySet.open(file(ctx, input(ctx, name, StageOutputs.TeacherShard.class).dir()));
            TrajectorySetMeta m = part.meta();
            if (m.shards().size() != 1 || m.seeds().length != Math.min(t.shardSize(), t.count() - from)
                    || m.seeds()[0] != t.firstSeed() + from) {
                throw new IllegalStateException(name + ": not shard " + i + " of " + ctx.stage().name());
            }
            TrajectorySetMeta.Shard s = m.shards().get(0);
            Path src = part.directory().resolve(s.file());
            if (!Hashing.sha256(src).equals(s.sha256())) {
                throw new IOException(src + ": sha256 does not match its shard record");
            }
            String file = String.format(Locale.ROOT, "shard-%05d.npz", i);
            link(src, dir.resolve(file));
            shards.add(new TrajectorySetMeta.Shard(i, from, from + m.seeds().length, file, s.sha256(), s.modelCalls(),
                    s.seconds()));
            from += m.seeds().length;
            if (first == null) {
                first = m;
            }
            ctx.progress(i + 1, p.shards().size() + 1, "linked " + name);
        }
        long[] seeds = io.solvertune.tuning.Seeds.range(t.firstSeed(), t.count());
        TrajectorySetMeta manifest = new TrajectorySetMeta(TrajectorySetMeta.FORMAT_VERSION, TrajectorySetMeta.KIND,
                first.modelHash(), first.schedule(), first.guidance(), st, seeds, first.times(), first.gridIndexes(),
                first.sampleShape(), first.dtype(), first.device(), first.codeVersion(), first.modelOutputType(),
                first.accuracy(), null, shards, null, null, null);
        StageCheckpoint.writeAtomically(dir.resolve(MANIFEST),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
        TrajectorySet set = TeacherShardStage.solve(ctx, t, dir);
        ctx.progress(p.shards().size() + 1, p.shards().size() + 1, "assembled " + set.size() + " seeds");
        StageOutputs.TeacherSet out = new StageOutputs.TeacherSet(StageRuntime.relative(ctx, dir), t.split(),
                t.firstSeed(), t.count(), set.meta().sha256(), set.times().length, set.meta().accuracy());
        return new Output<>(out, List.of(StageRuntime.relative(ctx, dir.resolve(set.meta().file()))));
    }

    /** A hard link where the filesystem allows it, else a copy (written under a temp name, then moved). */
    private static void link(Path src, Path dst) throws IOException {
        Files.deleteIfExists(dst);
        try {
            Files.createLink(dst, src);
        } catch (IOException | UnsupportedOperationException e) {
            Path tmp = dst.resolveSibling(dst.getFileName() + ".tmp");
            Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, dst, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
