package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;

/** What a running stage sees: its job, its model, its directory, its inputs, and channels back to the job. */
public interface StageContext {

    long jobId();

    /** The job spec as submitted (already checked by the {@link JobPlanner}). */
    JsonNode jobSpec();

    PlannedStage stage();

    /** The job's model, resolved from the registry. */
    ResolvedModel model();

    /**
     * The job's working directory, shared by all its stages (on a filesystem every worker sees); a stage writes its
     * checkpoints and outputs under {@code workDir().resolve(stage().name())}.
     */
    Path workDir();

    /** Outputs of the stages this one depends on, by stage name. */
    Map<String, JsonNode> dependencyOutputs();

    /** Progress of this stage (also renews the worker's lease). */
    void progress(long done, long total, String message);

    /** Whether the job was cancelled (or the lease lost): stop soon with a CancellationException. */
    boolean cancelled();

    /** A line in the job's log. */
    void log(String level, String message);

    /** Called by a checkpointed stage whose finished record verified: it returns that output without recomputing. */
    default void reusedCheckpoint() {
    }
}
