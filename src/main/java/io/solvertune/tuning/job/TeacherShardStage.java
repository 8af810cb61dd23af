package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import java.nio.file.Path;
import java.util.List;

/**
 * One teacher shard: {@link Teacher#run} over the shard's seeds in one batch (the first shard of a split also runs
 * the half-step check). The {@code teacher} command runs one such stage over all its seeds in batches of its
 * {@code --shard} size ({@link CommandPlans#teacher}); its output then names the first of the set's shards. Every seed's noise depends only on the seed, so the shards assembled by
 * {@link TeacherMergeStage} equal one unsharded teacher run over the same seeds with the same shard size.
 */
final class TeacherShardStage extends TypedStage<StageParams.Teacher, StageOutputs.TeacherShard> {

    TeacherShardStage() {
        super(StageParams.Teacher.class);
    }

    @Override
    protected Output<StageOutputs.TeacherShard> run(StageContext ctx, StageParams.Teacher p, Path dir)
            throws Exception {
        TrajectorySet set = solve(ctx, p, dir);
        TrajectorySetMeta m = set.meta();
        TrajectorySetMeta.Shard shard = m.shards().get(0);
        StageOutputs.TeacherShard out = new StageOutputs.TeacherShard(StageRuntime.relative(ctx, dir), p.split(),
                p.firstSeed(), p.count(), m.sha256(), StageRuntime.relative(ctx, dir.resolve(shard.file())),
                shard.modelCalls(), m.accuracy() != null && m.accuracy().seedsChecked() > 0 ? m.accuracy() : null);
        // a pipeline shard is one batch; a teacher command's set may hold several, and every shard file is verified
        List<String> files = new java.util.ArrayList<>(List.of(StageRuntime.relative(ctx, dir.resolve(m.file()))));
        for (TrajectorySetMeta.Shard s : m.shards()) {
            files.add(StageRuntime.relative(ctx, dir.resolve(s.file())));
        }
        return new Output<>(out, files);
    }

    /** Runs (or resumes) the teacher of {@code p}'s seeds into {@code dir}. */
    static TrajectorySet solve(StageContext ctx, StageParams.Teacher p, Path dir) throws Exception {
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, p.classLabel(), p.guidance());
            TeacherSettings st = p.settings(modelDtype(ctx));
            Teacher.Request req = new Teacher.Request(d, ctx.model().contentHash(), ctx.model().spec().schedule(), g,
                    Seeds.range(p.firstSeed(), p.count()), st);
            TrajectorySet set = Teacher.run(req, dir, StageRuntime.progress(ctx));
            ctx.log("INFO", String.format(java.util.Locale.ROOT, "%s: %d seeds from %d, %d recorded times",
                    ctx.stage().name(), set.size(), p.firstSeed(), set.times().length));
            return set;
        }
    }

    static Dtype modelDtype(StageContext ctx) {
        return Dtype.of(StageRuntime.dtype(ctx));
    }
}
