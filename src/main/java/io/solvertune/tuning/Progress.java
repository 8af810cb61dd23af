package io.solvertune.tuning;

/** Progress of a long-running stage: {@code done} of {@code total} units, with a short message. */
@FunctionalInterface
public interface Progress {

    void report(String stage, long done, long total, String message);

    /** Ignores all reports. */
    Progress NONE = (stage, done, total, message) -> {
    };
}
