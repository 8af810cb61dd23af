package io.solvertune.cli;

import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.tuning.fit.DataSampler;
import io.solvertune.tuning.fit.EmsEstimator;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** {@code solvertune fit-ems}: DPM-Solver-v3 empirical model statistics (l.npz, sb.npz) for a model. */
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
        EmsEstimator.Source src = switch (source.toLowerCase(Locale.ROOT)) {
            case "data" -> EmsEstimator.Source.NOISED_DATA;
            case "teacher" -> EmsEstimator.Source.TEACHER_TRAJECTORY;
            default -> throw new IllegalArgumentException("--source: expected data or teacher, got '" + source + "'");
        };
        EmsEstimator.LMethod lm = switch (lMethod.toLowerCase(Locale.ROOT)) {
            case "vjp" -> EmsEstimator.LMethod.VJP;
            case "fd" -> EmsEstimator.LMethod.FINITE_DIFFERENCE;
            case "exact" -> EmsEstimator.LMethod.EXACT;
            default -> throw new IllegalArgumentException("--l-method: expected vjp, fd or exact, got '" + lMethod + "'");
        };
        TrajectorySet set = teacher == null ? null : TrajectorySet.open(teacher);
        if (set != null) {
            ModelOptions.checkTeacher(set, m, "--teacher");
        }
        if (src == EmsEstimator.Source.TEACHER_TRAJECTORY && set == null) {
            throw new IllegalArgumentException("--source teacher needs --teacher DIR");
        }
        int k = grid > 0 ? grid : set != null ? set.times().length - 1 : 120;
        double step = fdStep != null ? fdStep : m.dtype() == ai.djl.ndarray.types.DataType.FLOAT32 ? 1e-2 : 1e-4;
        EmsEstimator.Settings st = new EmsEstimator.Settings(k, src, samples, firstSeed, probes, lm, step, batch, smooth);
        long t0 = System.nanoTime();
        EmpiricalModelStatistics ems;
        try (Denoiser d = m.build()) {
            String key = io.solvertune.tuning.Hashing.sha256(m.hash() + Json.canonical(m.guidance()) + Json.canonical(st)
                    + (set == null ? "" : set.meta().sha256()) + tStart + tEnd);
            EmsEstimator est = new EmsEstimator(d, m.guidance(), st, m.dtype()).withCheckpoints(out, key);
            io.solvertune.tuning.Progress p = (stage, done, total, msg) -> {
                if (done == total || done % 20 == 0) {
                    o.printf(Locale.ROOT, "[%s] %d/%d%n", stage, done, total);
                }
            };
            if (src == EmsEstimator.Source.TEACHER_TRAJECTORY) {
                ems = est.fromTeacher(set, p);
            } else {
                double ts = tStart != null ? tStart : set != null ? set.times()[0] : d.schedule().defaultTStart();
                double te = tEnd != null ? tEnd : set != null ? set.times()[set.times().length - 1] : d.schedule().defaultTEnd();
                if (dataPreset != null) {
                    try (Denoiser dataModel = io.solvertune.tuning.Presets.load(dataPreset)
                            .build(io.solvertune.tuning.Presets.baseDir())) {
                        if (!java.util.Arrays.equals(dataModel.sampleShape(), d.sampleShape())) {
                            throw new IllegalArgumentException("--data-preset: " + dataPreset + " has samples of shape "
                                    + java.util.Arrays.toString(dataModel.sampleShape()) + ", the model "
                                    + java.util.Arrays.toString(d.sampleShape()));
                        }
                        ems = est.fromData(DataSampler.of(dataModel), ts, te, p);
                    }
                } else {
                    ems = est.fromData(DataSampler.of(d), ts, te, p);
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        String desc = String.format(Locale.ROOT, "model %s, guidance %s, source %s, K %d, %d samples, l %s, %.1f s",
                m.hash().substring(0, 12), Json.canonical(m.guidance()), source, k, samples, lMethod, secs);
        ems = ems.withProvenance(m.spec().schedule(), desc);
        Files.createDirectories(out);
        EmsNpz.write(out, ems);
        Map<String, Object> prov = new LinkedHashMap<>();
        prov.put("kind", "ems");
        prov.put("modelHash", m.hash());
        prov.put("schedule", m.spec().schedule());
        prov.put("guidance", m.guidance());
        prov.put("settings", st);
        prov.put("teacher", set == null ? null : Map.of("dir", teacher.toString(), "sha256", set.meta().sha256()));
        prov.put("tStart", ems.tStart());
        prov.put("tEnd", ems.tEnd());
        prov.put("seconds", secs);
        prov.put("codeVersion", CodeVersion.get());
        Files.writeString(out.resolve("provenance.json"), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(prov));
        Files.deleteIfExists(out.resolve("ems-progress.npz"));
        Files.deleteIfExists(out.resolve("ems-progress.json"));
        o.printf(Locale.ROOT, "fit-ems: K %d, %d samples, source %s, l %s: %.1f s; wrote %s%n", k, samples, source, lMethod,
                secs, out);
        return 0;
    }
}
