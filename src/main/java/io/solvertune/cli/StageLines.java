package io.solvertune.cli;

import io.solvertune.tuning.job.PlannedStage;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The lines the plan-running commands ({@code fit}, {@code learn-timesteps}) print for their stages' progress and
 * non-INFO log entries. Stage progress messages are {@code "<library stage>: <message>"}.
 */
final class StageLines {
    private StageLines() {
    }

    /** {@code [<library stage> done/total] <message>} (the stage's name when the message names no library stage). */
    static void progress(PrintWriter e, PlannedStage stage, long done, long total, String message) {
        int i = message.indexOf(": ");
        e.printf(Locale.ROOT, "[%s %d/%d] %s%n", i > 0 ? message.substring(0, i) : stage.name(), done, total,
                i > 0 ? message.substring(i + 2) : message);
        e.flush();
    }

    /** {@code <LEVEL> <message>} for every entry above INFO. */
    static void log(PrintWriter e, String level, String message) {
        if (!"INFO".equals(level)) {
            e.printf(Locale.ROOT, "%s %s%n", level, message);
            e.flush();
        }
    }
}
