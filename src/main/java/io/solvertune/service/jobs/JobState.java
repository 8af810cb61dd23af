package io.solvertune.service.jobs;

import java.util.EnumSet;
import java.util.Set;

/** The states of a job (column {@code jobs.state}, the name). */
public enum JobState {
    /** Planned, no stage claimed yet. */
    QUEUED,
    /** A stage was claimed. */
    RUNNING,
    /** Every stage succeeded and the job was finished (published). */
    SUCCEEDED,
    /** A stage used its attempts, or the finisher refused the output. */
    FAILED,
    /** Cancelled by a caller. */
    CANCELLED;

    /** The states a job stays in. */
    public static final Set<JobState> TERMINAL = EnumSet.of(SUCCEEDED, FAILED, CANCELLED);

    /** The state stored as {@code name}, or null. */
    public static JobState of(String name) {
        for (JobState s : values()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Whether the job has stopped for good. */
    public boolean terminal() {
        return TERMINAL.contains(this);
    }

    /** Whether work may still happen (queued or running). */
    public boolean active() {
        return this == QUEUED || this == RUNNING;
    }
}
