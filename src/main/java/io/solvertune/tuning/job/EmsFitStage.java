package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.JacobianDiagonal;
import io.solvertune.numerics.model.TorchScriptDenoiser;
import io.solvertune.tuning.fit.DataSampler;
import io.solvertune.tuning.fit.EmsEstimator;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DPM-Solver-v3 empirical model statistics ({@link EmsEstimator}, as {@code fit-ems}) on the training teacher's
 * recorded logSNR grid: from the teacher's own states on the fit rows, or from noised data samples. Resumes from the
 * estimator's per-grid-point checkpoints; writes {@code ems/l.npz}, {@code ems/sb.npz}, {@code ems/ems.json}. The
 * {@code fit-ems} command runs it alone ({@link CommandPlans#ems}) with its {@link StageParams.EmsOptions}.
 */
final class EmsFitStage extends TypedStage<StageParams.Ems, StageOutputs.Ems> {
    /** Grid intervals of statistics from data without a teacher set. */
    static final int DEFAULT_GRID = 120;

    EmsFitStage() {
        super(StageParams.Ems.class);
    }

    @Override
    protected Output<StageOutputs.Ems> run(StageContext ctx, StageParams.Ems p, Path dir) throws Exception {
        StageParams.EmsOptions x = p.options() != null ? p.options()
                : new StageParams.EmsOptions(null, null, null, null, null, null, null);
        TrajectorySet train = p.train() == null ? null : StageRuntime.trajectories(ctx, p.train());
        double[] times = train == null ? null : train.times();
        int k = x.grid() != null ? x.grid() : times != null ? times.length - 1 : DEFAULT_GRID;
        Path emsDir = dir.resolve("ems");
        EmpiricalModelStatistics ems;
        EmsEstimator.Settings st;
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, p.classLabel(), p.guidance());
            boolean f32 = StageRuntime.dtype(ctx) == ai.djl.ndarray.types.DataType.FLOAT32;
            EmsEstimator.Source src = p.source().estimator();
            st = new EmsEstimator.Settings(k, src, p.samples(), p.firstSeed(), x.probes() != null ? x.probes() : 1,
                    lMethod(p.lMethod(), d), x.fdStep() != null ? x.fdStep() : f32 ? 1e-2 : 1e-4, p.batch(),
                    x.smooth() != null ? x.smooth() : 0);
            String key = Hashing.sha256(ctx.model().contentHash() + Json.canonical(g) + Json.canonical(st)
                    + (train == null ? "" : train.meta().sha256()) + (p.options() == null ? "" : Json.canonical(x)));
            EmsEstimator est = new EmsEstimator(d, g, st, StageRuntime.dtype(ctx)).withCheckpoints(dir, key);
            if (src == EmsEstimator.Source.TEACHER_TRAJECTORY) {
                if (train == null) {
                    throw new IllegalArgumentException("source teacher needs a teacher set");
                }
                ems = est.fromTeacher(train, StageRuntime.progress(ctx));
            } else {
                double ts = x.tStart() != null ? x.tStart() : times != null ? times[0] : d.schedule().defaultTStart();
                double te = x.tEnd() != null ? x.tEnd() : times != null ? times[times.length - 1]
                        : d.schedule().defaultTEnd();
                if (x.dataPreset() != null) {
                    try (Denoiser data = io.solvertune.tuning.Presets.load(x.dataPreset())
                            .build(io.solvertune.tuning.Presets.baseDir())) {
                        if (!java.util.Arrays.equals(data.sampleShape(), d.sampleShape())) {
                            throw new IllegalArgumentException("data preset: " + x.dataPreset() + " has samples of "
                                    + "shape " + java.util.Arrays.toString(data.sampleShape()) + ", the model "
                                    + java.util.Arrays.toString(d.sampleShape()));
                        }
                        ems = est.fromData(DataSampler.of(data), ts, te, StageRuntime.progress(ctx));
                    }
                } else {
                    ems = est.fromData(DataSampler.of(d), ts, te, StageRuntime.progress(ctx));
                }
            }
            ems = ems.withProvenance(ctx.model().spec().schedule(), String.format(Locale.ROOT,
                    "model %s, guidance %s, source %s, K %d, %d samples, l %s, job %d", ctx.model().contentHash(),
                    Json.canonical(g), p.source().id(), k, st.samples(), st.lMethod(), ctx.jobId()));
        }
        Files.createDirectories(emsDir);
        EmsNpz.write(emsDir, ems);
        Files.deleteIfExists(dir.resolve("ems-progress.npz"));
        Files.deleteIfExists(dir.resolve("ems-progress.json"));
        List<String> files = new ArrayList<>();
        java.util.Map<String, String> sha = new java.util.TreeMap<>();
        for (String f : List.of(EmsNpz.L_FILE, EmsNpz.SB_FILE, EmsNpz.METADATA_FILE)) {
            Path file = emsDir.resolve(f);
            if (Files.isRegularFile(file)) {
                files.add(StageRuntime.relative(ctx, file));
                sha.put(f, Hashing.sha256(file));
            }
        }
        return new Output<>(new StageOutputs.Ems(StageRuntime.relative(ctx, emsDir), k, p.source().id(), st.samples(),
                st.lMethod().name().toLowerCase(Locale.ROOT), sha), files);
    }

    /** {@code auto}: the exact Jacobian diagonal where the model has one, central differences for TorchScript, VJP. */
    static EmsEstimator.LMethod lMethod(String name, Denoiser d) {
        return switch (name) {
            case "exact" -> EmsEstimator.LMethod.EXACT;
            case "vjp" -> EmsEstimator.LMethod.VJP;
            case "fd" -> EmsEstimator.LMethod.FINITE_DIFFERENCE;
            default -> d instanceof JacobianDiagonal ? EmsEstimator.LMethod.EXACT
                    : d instanceof TorchScriptDenoiser ? EmsEstimator.LMethod.FINITE_DIFFERENCE : EmsEstimator.LMethod.VJP;
        };
    }
}
