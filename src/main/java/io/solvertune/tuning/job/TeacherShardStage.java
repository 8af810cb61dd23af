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
 * the half-step check). Every seed's noise depends only on the seed, so the shards assembled by
 * {@link TeacherMergeStage} equal one unsharded teacher run over the same seeds with the same shard size.
 */
final class TeacherShardStage extends CheckpointedStage {

    @Override
    protected Result run(StageContext ctx, Path dir) throws Exception {
        StageParams.Teacher p = StageParams.read(ctx.stage().params(), StageParams.Teacher.class);
        TrajectorySet set = solve(ctx, p, dir);
        TrajectorySetMeta m = set.meta();
        TrajectorySetMeta.Shard shard = m.shards().get(0);
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("dir", StageRuntime.relative(ctx, dir));
        out.put("split", p.split());
        out.put("firstSeed", p.firstSeed());
        out.put("count", p.count());
        out.put("sha256", m.sha256());
        out.put("shardFile", StageRuntime.relative(ctx, dir.resolve(shard.file())));
        out.put("modelCalls", shard.modelCalls());
        if (m.accuracy() != null && m.accuracy().seedsChecked() > 0) {
            out.set("accuracy", Json.MAPPER.valueToTree(m.accuracy()));
        }
        return new Result(out, List.of(StageRuntime.relative(ctx, dir.resolve(m.file())),
                StageRuntime.relative(ctx, dir.resolve(shard.file()))));
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

    static String modelDtype(StageContext ctx) {
        return StageRuntime.dtype(ctx) == ai.djl.ndarray.types.DataType.FLOAT32 ? "float32" : "float64";
    }
}
