package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A stage executor with a verified checkpoint: the stage works in {@code workDir/<stage name>}; when it finishes,
 * its output and the sha256 of every file it lists are recorded ({@link StageCheckpoint}) under a key made of its
 * kind, parameters, model hash and dependency outputs. Run again, a stage whose
 * record verifies returns the recorded output without recomputing; a record that does not verify (other parameters,
 * a corrupt or changed file) wipes the directory and the stage is recomputed. A stage interrupted before its record
 * was written resumes from whatever finer checkpoints its library code keeps (teacher shards, EMS grid points).
 */
public abstract class CheckpointedStage implements StageExecutor {

    /** What a finished stage returns: its output and the files (relative to the work directory) it refers to. */
    protected record Result(JsonNode output, List<String> files) {
    }

    @Override
    public final JsonNode execute(StageContext ctx) throws Exception {
        Path dir = StageRuntime.stageDir(ctx);
        // kind, parameters, model and the inputs: a stage is redone when an input it was computed from changed
        String key = Hashing.sha256(ctx.stage().kind() + "\n" + Json.canonical(ctx.stage().params()) + "\n"
                + ctx.model().contentHash() + "\n" + Json.canonical(new java.util.TreeMap<>(ctx.dependencyOutputs())));
        JsonNode done = StageCheckpoint.load(ctx.workDir(), dir, key);
        if (done != null) {
            ctx.log("INFO", ctx.stage().name() + ": already finished (checkpoint verified), not recomputed");
            ctx.progress(1, 1, "already finished");
            ctx.reusedCheckpoint();
            return done;
        }
        if (StageCheckpoint.present(dir)) {
            ctx.log("WARN", ctx.stage().name() + ": checkpoint does not verify (other parameters or a changed file);"
                    + " recomputing");
            StageCheckpoint.wipe(dir);
        }
        Files.createDirectories(dir);
        StageRuntime.checkCancelled(ctx);
        Result r = run(ctx, dir);
        // the output as a reader of the record sees it (same node types whether fresh or from the checkpoint)
        JsonNode output = Json.MAPPER.readTree(Json.canonical(r.output()));
        StageCheckpoint.save(ctx.workDir(), dir, key, output, r.files());
        return output;
    }

    /** Does the stage's work in {@code dir}. */
    protected abstract Result run(StageContext ctx, Path dir) throws Exception;
}
