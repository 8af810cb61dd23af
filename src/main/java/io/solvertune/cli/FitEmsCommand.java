package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.job.CommandPlans;
import io.solvertune.tuning.job.EmsSource;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.StageOutputs;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune fit-ems}: DPM-Solver-v3 empirical model statistics (l.npz, sb.npz) for a model. An adapter over
 * the pipeline's statistics stage ({@link CommandPlans#ems}): {@code --out} is the stage's directory (its per-grid-point
 * checkpoints, {@code ems/} and the finished record); the statistics are linked into {@code --out} itself, beside a
 * {@code provenance.json}.
 */
@CommandLine.Command(name = "fit-ems", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Estimate DPM-Solver-v3 statistics (l, s, b) from noised data or from teacher trajectories.")
final class FitEmsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--source", defaultValue = "data", description = "data (noised data samples) | teacher (its trajectory states); default ${DEFAULT-VALUE}")
    String source;

    @CommandLine.Option(names = "--teacher", paramLabel = "DIR", description = "trajectory set: the points (source teacher) or the time range (source data)")
    Path teacher;

    @CommandLine.Option(names = "--grid", defaultValue = "0", description = "K, grid intervals (default: the teacher's recorded grid, or 120)")
    int grid;

    @CommandLine.Option(names = "--samples", defaultValue = "1024", description = "samples (default ${DEFAULT-VALUE})")
    int samples;

    @CommandLine.Option(names = "--first-seed", defaultValue = "5000000", description = "first data seed for --source data (default ${DEFAULT-VALUE})")
    long firstSeed;

    @CommandLine.Option(names = "--l-method", defaultValue = "vjp", description = "vjp | fd | exact (default ${DEFAULT-VALUE})")
    String lMethod;

    @CommandLine.Option(names = "--probes", defaultValue = "1", description = "Hutchinson probes per sample (default ${DEFAULT-VALUE})")
    int probes;

    @CommandLine.Option(names = "--fd-step", description = "lambda step of the central differences (default 1e-4 float64, 1e-2 float32)")
    Double fdStep;

    @CommandLine.Option(names = "--smooth", defaultValue = "0", description = "moving-average half-width for l' (official: 5; default ${DEFAULT-VALUE})")
    int smooth;

    @CommandLine.Option(names = "--batch", defaultValue = "256", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--data-preset", paramLabel = "NAME", description = "for --source data: draw data samples from this preset's data (e.g. fmnist-empirical for a Fashion-MNIST network)")
    String dataPreset;

    @CommandLine.Option(names = "--t-start", description = "start time for --source data without --teacher")
    Double tStart;

    @CommandLine.Option(names = "--t-end", description = "end time for --source data without --teacher")
    Double tEnd;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "writes l.npz, sb.npz, ems.json, provenance.json")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelOptions.Loaded m = model.load();
        EmsSource src = EmsSource.of(source.toLowerCase(Locale.ROOT));
        if (src == null) {
            throw new IllegalArgumentException("--source: expected data or teacher, got '" + source + "'");
        }
        String lm = lMethod.toLowerCase(Locale.ROOT);
        if (!List.of("vjp", "fd", "exact").contains(lm)) {
            throw new IllegalArgumentException("--l-method: expected vjp, fd or exact, got '" + lMethod + "'");
        }
        TrajectorySet set = teacher == null ? null : TrajectorySet.open(teacher);
        if (set != null) {
            ModelOptions.checkTeacher(set, m, "--teacher");
        }
        if (src == EmsSource.TEACHER && set == null) {
            throw new IllegalArgumentException("--source teacher needs --teacher DIR");
        }
        Integer classLabel;
        try (Denoiser d = m.build()) {
            classLabel = CommandPlans.classLabel(m.guidance(), d.numClasses());
        }
        Path dir = out.toAbsolutePath().normalize();
        if (dir.getParent() == null) {
            throw new IllegalArgumentException("--out: " + out + " has no parent directory");
        }
        // the --out directory is the stage's own directory in the work directory that holds it
        List<PlannedStage> plan = CommandPlans.ems(dir.getFileName().toString(), m.guidance().scale(), classLabel,
                set != null, src, samples, firstSeed, lm, batch, grid > 0 ? grid : null, probes, fdStep, smooth,
                dataPreset, tStart, tEnd);
        long t0 = System.nanoTime();
        JsonNode output;
        try {
            output = LocalJobRunner.tuning().run(0, Json.MAPPER.valueToTree(Map.of("command", "fit-ems")), plan,
                    set == null ? Map.of() : Map.of(CommandPlans.TRAIN, CommandPlans.given(set, "train")),
                    model.resolved(m), dir.getParent(), new LocalJobRunner.Listener() {
                        @Override
                        public void progress(PlannedStage stage, long done, long total, String message) {
                            if (done == total || done % 20 == 0) {
                                int i = message.indexOf(": ");
                                o.printf(Locale.ROOT, "[%s] %d/%d%n", i > 0 ? message.substring(0, i) : stage.name(),
                                        done, total);
                            }
                        }

                        @Override
                        public void log(PlannedStage stage, String level, String message) {
                            if (!"INFO".equals(level)) {
                                cmd.commandLine().getErr().printf(Locale.ROOT, "%s %s%n", level, message);
                            }
                        }
                    }, () -> false);
        } catch (IllegalArgumentException x) {
            if (x.getMessage() != null && x.getMessage().startsWith("data preset: ")) {
                throw new IllegalArgumentException("--data-preset: " + x.getMessage().substring(13), x);
            }
            throw x;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        StageOutputs.Ems e = CommandPlans.emsOutput(output);
        // the statistics under the names earlier versions wrote them to, in --out itself (the same bytes, linked)
        Path stats = dir.getParent().resolve(e.dir());
        for (String f : e.sha256().keySet()) {
            link(stats.resolve(f), dir.resolve(f));
        }
        EmpiricalModelStatistics ems = EmsNpz.read(dir);
        Map<String, Object> prov = new LinkedHashMap<>();
        prov.put("kind", "ems");
        prov.put("modelHash", m.hash());
        prov.put("schedule", m.spec().schedule());
        prov.put("guidance", m.guidance());
        prov.put("stage", plan.get(0).params());
        prov.put("gridSteps", e.gridSteps());
        prov.put("lMethod", e.lMethod());
        prov.put("teacher", set == null ? null : Map.of("dir", teacher.toString(), "sha256", set.meta().sha256()));
        prov.put("tStart", ems.tStart());
        prov.put("tEnd", ems.tEnd());
        prov.put("sha256", e.sha256());
        prov.put("codeVersion", CodeVersion.get());
        Files.writeString(dir.resolve("provenance.json"),
                Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(prov));
        o.printf(Locale.ROOT, "fit-ems: K %d, %d samples, source %s, l %s: %.1f s; wrote %s%n", e.gridSteps(), samples,
                src.id(), lMethod, secs, out);
        return 0;
    }

    /** A hard link {@code name} to {@code target} (a copy where links are not possible), replacing an older one. */
    static void link(Path target, Path name) throws java.io.IOException {
        if (Files.exists(name) && Files.isSameFile(name, target)) {
            return;     // already linked (renaming a link onto another link of the same file would do nothing)
        }
        Path tmp = name.resolveSibling(name.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createLink(tmp, target);
        } catch (java.io.IOException | UnsupportedOperationException x) {
            Files.copy(target, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, name, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
