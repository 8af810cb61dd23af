package io.solvertune.tuning.job;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;

/** What every stage executor shares: its directory, the model, conditioning, progress and cancellation. */
final class StageRuntime {
    private StageRuntime() {
    }

    /** {@code workDir/<stage name>}. */
    static Path stageDir(StageContext ctx) {
        return ctx.workDir().resolve(ctx.stage().name());
    }

    /** A path relative to the job's work directory (stage outputs are portable and reproducible). */
    static String relative(StageContext ctx, Path p) {
        return ctx.workDir().toAbsolutePath().normalize().relativize(p.toAbsolutePath().normalize()).toString()
                .replace('\\', '/');
    }

    /** Opens (and verifies) the trajectory set a teacher-merge dependency produced. */
    static TrajectorySet trajectories(StageContext ctx, String stage) throws IOException {
        TrajectorySet set = TrajectorySet.open(TypedStage.file(ctx, TypedStage.input(ctx, stage,
                StageOutputs.TeacherSet.class).dir()));
        set.verify();
        if (!set.meta().modelHash().equals(ctx.model().contentHash())) {
            throw new IllegalStateException(stage + ": trajectories of another model");
        }
        return set;
    }

    /** Builds the job's model (file references are absolute, or relative to the working directory). */
    static Denoiser model(StageContext ctx) throws IOException {
        return ctx.model().spec().build(Presets.baseDir());
    }

    /** The model's arithmetic. */
    static DataType dtype(StageContext ctx) {
        return ctx.model().spec().dataType();
    }

    /**
     * Conditioning at guidance {@code scale}: the spec's class label if given, else per-seed classes on a conditional
     * model (seed s gets class s mod classes, as the benchmark scripts' {@code --per-seed-class}), else none.
     */
    static Guidance guidance(Denoiser model, Integer classLabel, double scale) {
        return guidance(model.numClasses(), classLabel, scale);
    }

    /** {@link #guidance(Denoiser, Integer, double)} on a model with {@code numClasses} classes. */
    static Guidance guidance(int numClasses, Integer classLabel, double scale) {
        if (classLabel != null) {
            return new Guidance(classLabel, scale);
        }
        return numClasses > 0 ? Guidance.perSeed(scale) : new Guidance(null, scale);
    }

    static void checkCancelled(StageContext ctx) {
        if (ctx.cancelled()) {
            throw new CancellationException(ctx.stage().name() + ": cancelled");
        }
    }

    /** A library progress listener that reports to the job and stops the work (CancellationException) on cancel. */
    static Progress progress(StageContext ctx) {
        return (stage, done, total, message) -> {
            checkCancelled(ctx);
            ctx.progress(done, total, stage + ": " + message);
        };
    }
}
