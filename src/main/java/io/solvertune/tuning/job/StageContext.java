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

    /**
     * Tells whoever runs the stage that its directory holds a consistent checkpoint now (every file of it completely
     * written, e.g. right after an atomic rename): a service may copy the directory to a store other hosts reach, so
     * that the stage resumes there if this host dies. Call it on the stage's own thread; it may block for the copy
     * (the service throttles it). The service's workers treat every {@link #progress} report as such a point too, so
     * a stage needs this only for checkpoints it writes between progress reports. Default: nothing (one host).
     */
    default void checkpointCommitted() {
    }

    /**
     * A context that forwards every method to another one ({@link #delegate()}): wrappers (a worker's device, the
     * checkpoint uploads, test hosts) extend it and override only what they change, so a method added to
     * {@code StageContext} reaches every wrapper's delegate without an edit per wrapper.
     */
    abstract class Forwarding implements StageContext {
        private final StageContext delegate;

        protected Forwarding(StageContext delegate) {
            this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
        }

        /** The context this one forwards to. */
        protected final StageContext delegate() {
            return delegate;
        }

        @Override
        public long jobId() {
            return delegate.jobId();
        }

        @Override
        public JsonNode jobSpec() {
            return delegate.jobSpec();
        }

        @Override
        public PlannedStage stage() {
            return delegate.stage();
        }

        @Override
        public ResolvedModel model() {
            return delegate.model();
        }

        @Override
        public Path workDir() {
            return delegate.workDir();
        }

        @Override
        public Map<String, JsonNode> dependencyOutputs() {
            return delegate.dependencyOutputs();
        }

        @Override
        public void progress(long done, long total, String message) {
            delegate.progress(done, total, message);
        }

        @Override
        public boolean cancelled() {
            return delegate.cancelled();
        }

        @Override
        public void log(String level, String message) {
            delegate.log(level, message);
        }

        @Override
        public void reusedCheckpoint() {
            delegate.reusedCheckpoint();
        }

        @Override
        public void checkpointCommitted() {
            delegate.checkpointCommitted();
        }
    }
}
