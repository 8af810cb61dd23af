package io.solvertune.service.jobs;

/** The states of a job's stage (column {@code job_stages.state}, the name). */
public enum StageState {
    /** Waiting for its dependencies. */
    PENDING,
    /** Its dependencies succeeded: a worker may claim it. */
    READY,
    /** Claimed by a worker that holds its lease. */
    RUNNING,
    /** Finished; its output is stored. */
    SUCCEEDED,
    /** Used its attempts. */
    FAILED,
    /** Its job failed or was cancelled before it finished. */
    CANCELLED;

    /** The first state of a planned stage: READY without dependencies, else PENDING. */
    public static StageState initial(boolean hasDependencies) {
        return hasDependencies ? PENDING : READY;
    }
}
