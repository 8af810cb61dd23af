package io.solvertune.cli;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.job.CommandPlans;
import io.solvertune.tuning.job.Dtype;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune teacher}: high-accuracy reference trajectories for a model and a seed range (resumable). An
 * adapter over the pipeline's teacher stage ({@link CommandPlans#teacher}): {@code --out} is the stage's directory,
 * solved in {@code --shard}-seed batches that {@link io.solvertune.tuning.teacher.Teacher} checkpoints, and the stage's
 * finished record ({@code stage-output.json}) makes a rerun return the verified set without recomputing.
 */
@CommandLine.Command(name = "teacher", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Compute (or resume) teacher trajectories into a directory: trajectories.npz + trajectories.json.")
final class TeacherCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--seeds", required = true, converter = SeedRange.Converter.class, paramLabel = "FIRST:COUNT",
            description = "seed range, e.g. 0:1000")
    SeedRange seeds;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (resumed if it exists)")
    Path out;

    @CommandLine.Option(names = "--solver", defaultValue = "dpmsolver++", description = "teacher solver (default ${DEFAULT-VALUE})")
    String solver;

    @CommandLine.Option(names = "--order", defaultValue = "3", description = "teacher order (default ${DEFAULT-VALUE})")
    String order;

    @CommandLine.Option(names = "--steps", defaultValue = "500", description = "teacher steps (default ${DEFAULT-VALUE})")
    int steps;

    @CommandLine.Option(names = "--spacing", defaultValue = "logSNR", description = "teacher spacing (default ${DEFAULT-VALUE})")
    String spacing;

    @CommandLine.Option(names = "--record-every", defaultValue = "10", description = "record every k-th grid point (default ${DEFAULT-VALUE})")
    int recordEvery;

    @CommandLine.Option(names = "--record-model-output", description = "also record the noise prediction at the recorded states")
    boolean recordModelOutput;

    @CommandLine.Option(names = "--shard", defaultValue = "64", description = "seeds per shard/batch (default ${DEFAULT-VALUE})")
    int shard;

    @CommandLine.Option(names = "--dtype", description = "float64 | float32 (default: the spec's)")
    String dtype;

    @CommandLine.Option(names = "--tolerance", defaultValue = "1e-4", description = "half-step check tolerance, relative RMS (default ${DEFAULT-VALUE})")
    double tolerance;

    @CommandLine.Option(names = "--check-seeds", defaultValue = "16", description = "seeds of the half-step check (default ${DEFAULT-VALUE})")
    int checkSeeds;

    @CommandLine.Option(names = "--t-start", description = "start time (default: the schedule's)")
    Double tStart;

    @CommandLine.Option(names = "--t-end", description = "end time (default: the schedule's)")
    Double tEnd;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelOptions.Loaded m = model.load();
        Map<String, String> opts = new LinkedHashMap<>();
        if (!solver.equals("ddim") && !solver.equals("euler") && !solver.equals("heun")) {
            opts.put("order", order);
        }
        SolverSpec spec = SolverCatalog.parse(solver, opts);
        Dtype dt = dtype == null ? null : Dtype.of(dtype);
        if (dtype != null && dt == null) {
            throw new IllegalArgumentException("teacher.dtype: expected float32 or float64, got '" + dtype + "'");
        }
        Path dir = out.toAbsolutePath().normalize();
        if (dir.getParent() == null) {
            throw new IllegalArgumentException("--out: " + out + " has no parent directory");
        }
        // the settings are checked first (errors name the option), then the conditioning against the model
        CommandPlans.teacher(dir.getFileName().toString(), m.guidance().scale(), m.guidance().classLabel(),
                seeds.first(), seeds.count(), shard, steps, recordEvery, tolerance, checkSeeds, dt,
                Dtype.of(m.dtype()), spec, TimestepSpacing.named(spacing, 7.0), tStart, tEnd, recordModelOutput);
        Integer classLabel;
        try (Denoiser d = m.build()) {
            classLabel = CommandPlans.classLabel(m.guidance(), d.numClasses());
        }
        List<PlannedStage> plan = CommandPlans.teacher(dir.getFileName().toString(), m.guidance().scale(), classLabel,
                seeds.first(), seeds.count(), shard, steps, recordEvery, tolerance, checkSeeds, dt,
                Dtype.of(m.dtype()), spec, TimestepSpacing.named(spacing, 7.0), tStart, tEnd, recordModelOutput);
        long t0 = System.nanoTime();
        // the --out directory is the stage's own directory in the work directory that holds it
        LocalJobRunner.tuning().run(0, Json.MAPPER.valueToTree(Map.of("command", "teacher")), plan, Map.of(),
                model.resolved(m), dir.getParent(), new LocalJobRunner.Listener() {
                    @Override
                    public void progress(PlannedStage stage, long done, long total, String message) {
                        // stage messages are "<library stage>: <message>"
                        int i = message.indexOf(": ");
                        o.printf(Locale.ROOT, "[%s] %d/%d %s%n", i > 0 ? message.substring(0, i) : stage.name(), done,
                                total, i > 0 ? message.substring(i + 2) : message);
                    }

                    @Override
                    public void log(PlannedStage stage, String level, String message) {
                        if (!"INFO".equals(level)) {
                            cmd.commandLine().getErr().printf(Locale.ROOT, "%s %s%n", level, message);
                        }
                    }
                }, () -> false);
        TrajectorySet set = TrajectorySet.open(dir);
        TrajectorySetMeta meta = set.meta();
        o.printf(Locale.ROOT, "teacher: %d seeds, %d recorded times, %s; half-step relative RMS difference %.3g"
                        + " (tolerance %.3g); %.1f model calls/s (%.0f sample evaluations/s); %.1f s%n",
                set.size(), meta.times().length, spec.label(), meta.accuracy().relRmsDiff(),
                meta.accuracy().tolerance(), meta.throughput().modelCallsPerSecond(),
                meta.throughput().sampleEvaluationsPerSecond(), (System.nanoTime() - t0) / 1e9);
        o.printf(Locale.ROOT, "wrote %s (sha256 %s)%n", out.resolve(meta.file()), meta.sha256());
        return 0;
    }
}
