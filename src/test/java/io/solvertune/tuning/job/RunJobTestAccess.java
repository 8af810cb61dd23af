package io.solvertune.tuning.job;

/** The tiny job spec of {@link RunJobTest} for tests in other packages. */
public final class RunJobTestAccess {
    public static final String SPEC = RunJobTest.SPEC;

    private RunJobTestAccess() {
    }
}
