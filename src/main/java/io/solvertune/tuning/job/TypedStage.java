package io.solvertune.tuning.job;

import io.solvertune.tuning.Json;
import java.nio.file.Path;
import java.util.List;

/**
 * A checkpointed stage that declares its parameter record {@code P} (what {@link PlannedStage#params()} holds) and
 * its output record {@code O} (what it stores and its dependants read with {@link #input}); the JSON in between is
 * the records' Jackson form.
 *
 * @param <P> the parameters (from {@link StageParams})
 * @param <O> the output (from {@link StageOutputs}, or the publish stage's rows)
 */
abstract class TypedStage<P, O> extends CheckpointedStage {
    private final Class<P> paramsType;

    protected TypedStage(Class<P> paramsType) {
        this.paramsType = paramsType;
    }

    /** What a typed stage returns: its output and the files (relative to the work directory) it refers to. */
    protected record Output<O>(O value, List<String> files) {
    }

    @Override
    protected final Result run(StageContext ctx, Path dir) throws Exception {
        Output<O> out = run(ctx, StageParams.read(ctx.stage().params(), paramsType), dir);
        return new Result(Json.MAPPER.valueToTree(out.value()), out.files());
    }

    /** Does the stage's work in {@code dir}. */
    protected abstract Output<O> run(StageContext ctx, P params, Path dir) throws Exception;

    /** The output of dependency {@code stage}, as the record its stage declares. */
    static <T> T input(StageContext ctx, String stage, Class<T> type) {
        var out = ctx.dependencyOutputs().get(stage);
        if (out == null) {
            throw new IllegalStateException(ctx.stage().name() + ": no output of stage " + stage);
        }
        try {
            return Json.MAPPER.treeToValue(out, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(ctx.stage().name() + ": output of " + stage + " is no "
                    + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    /** A file of the work directory named by a dependency's output. */
    static Path file(StageContext ctx, String relative) {
        return ctx.workDir().resolve(relative);
    }
}
