package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune run-job}: runs a tuning job spec end to end without the service (the same planner and stage
 * executors the service's workers run), resumable over its work directory.
 */
@CommandLine.Command(name = "run-job", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a tuning job spec locally (no service): teacher shards, baselines, fits, validation, "
                + "candidates. Rerun with the same --work to resume.")
final class RunJobCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Option(names = "--spec", required = true, paramLabel = "FILE",
            description = "job spec (JSON; its model: a preset name or a model spec file relative to the job spec)")
    Path spec;

    @CommandLine.Option(names = "--work", required = true, paramLabel = "DIR",
            description = "work directory (checkpoints; resumed if it exists)")
    Path work;

    @CommandLine.Option(names = "--job-id", defaultValue = "0", description = "job id recorded in provenance (default ${DEFAULT-VALUE})")
    long jobId;

    @CommandLine.Option(names = "--all", description = "print every candidate, not only the validated ones")
    boolean all;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        JsonNode tree = Json.MAPPER.readTree(Files.readString(spec));
        Path base = spec.toAbsolutePath().getParent();
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), base);
        long t0 = System.nanoTime();
        JsonNode candidates = LocalJobRunner.tuning().run(jobId, tree, model, work, new Printer(o), () -> false);
        ArrayNode shown = Json.MAPPER.createArrayNode();
        int validated = 0;
        for (JsonNode c : candidates) {
            if (c.path("validated").asBoolean()) {
                validated++;
            }
            if (all || c.path("validated").asBoolean()) {
                shown.add(c);
            }
        }
        o.printf(Locale.ROOT, "run-job: %d candidates, %d validated, %.1f s; all candidates in %s%n", candidates.size(),
                validated, (System.nanoTime() - t0) / 1e9, work.resolve(io.solvertune.tuning.job.StageKind.PUBLISH.id()).resolve(
                        io.solvertune.tuning.publish.CandidateFile.NAME));
        o.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(shown));
        return 0;
    }

    /** Stage lines and throttled progress. */
    private static final class Printer implements LocalJobRunner.Listener {
        private final PrintWriter o;
        private long lastNanos;

        Printer(PrintWriter o) {
            this.o = o;
        }

        @Override
        public void stageStarted(PlannedStage stage, int index, int total) {
            o.printf(Locale.ROOT, "[%d/%d] %s (%s)%n", index, total, stage.name(), stage.kind());
            o.flush();
            lastNanos = System.nanoTime();
        }

        @Override
        public void stageFinished(PlannedStage stage, int index, int total, double seconds) {
            o.printf(Locale.ROOT, "[%d/%d] %s done in %.1f s%n", index, total, stage.name(), seconds);
            o.flush();
        }

        @Override
        public void progress(PlannedStage stage, long done, long total, String message) {
            long now = System.nanoTime();
            if (now - lastNanos >= 2_000_000_000L) {
                lastNanos = now;
                o.printf(Locale.ROOT, "    %d/%d %s%n", done, total, message);
                o.flush();
            }
        }

        @Override
        public void log(PlannedStage stage, String level, String message) {
            o.printf(Locale.ROOT, "    %s %s%n", level, message);
        }
    }
}
