package io.solvertune.cli;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** {@code solvertune teacher}: high-accuracy reference trajectories for a model and a seed range (resumable). */
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
        String dt = dtype != null ? dtype : io.solvertune.tuning.job.Dtype.of(m.dtype()).id();
        TeacherSettings st = new TeacherSettings(spec, TimestepSpacing.named(spacing, 7.0), steps, tStart, tEnd,
                recordEvery, recordModelOutput, shard, dt, tolerance, checkSeeds);
        long t0 = System.nanoTime();
        try (Denoiser d = m.build()) {
            Teacher.Request req = new Teacher.Request(d, m.hash(), m.spec().schedule(), m.guidance(),
                    Seeds.range(seeds.first(), seeds.count()), st);
            TrajectorySet set = Teacher.run(req, out, (stage, done, total, msg) ->
                    o.printf(Locale.ROOT, "[%s] %d/%d %s%n", stage, done, total, msg));
            TrajectorySetMeta meta = set.meta();
            o.printf(Locale.ROOT, "teacher: %d seeds, %d recorded times, %s; half-step relative RMS difference %.3g"
                            + " (tolerance %.3g); %.1f model calls/s (%.0f sample evaluations/s); %.1f s%n",
                    set.size(), meta.times().length, spec.label(), meta.accuracy().relRmsDiff(),
                    meta.accuracy().tolerance(), meta.throughput().modelCallsPerSecond(),
                    meta.throughput().sampleEvaluationsPerSecond(), (System.nanoTime() - t0) / 1e9);
            o.printf(Locale.ROOT, "wrote %s (sha256 %s)%n", out.resolve(meta.file()), meta.sha256());
        }
        return 0;
    }
}
