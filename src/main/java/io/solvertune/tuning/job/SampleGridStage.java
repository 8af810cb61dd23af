package io.solvertune.tuning.job;

import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.eval.ImageGrid;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Sample grids of an image model for one guidance scale: per NFE, one PNG with a row per seed (the first
 * {@code seeds} held-out seeds, so a grid shows what the held-out MSE was measured on) and the columns teacher (the
 * held-out teacher set's own final states) | best untuned baseline | every tuned result the job chose at that NFE
 * (each fitted coefficient set, DPM-Solver-v3), each run exactly as it was validated (same candidate, same initial
 * noise). Writes {@code nfe<n>.png} per NFE and the index {@value #INDEX} (columns, per-seed MSE against the teacher,
 * provenance); a model whose samples are not images ([1|3, H, W]) gets no grid, and the output says why. The files
 * depend only on the inputs (no wall times), so a rerun writes the same bytes.
 */
final class SampleGridStage extends TypedStage<StageParams.Grids, StageOutputs.Grids> {
    static final String INDEX = "grids.json";
    /** Pixels between tiles. */
    static final int GAP = 2;

    /**
     * The index file: the output's grids with what they were computed from.
     *
     * @param teacher the held-out teacher's settings (its final states are the first column)
     */
    record Index(String modelHash, double guidance, Guidance conditioning, long[] sampleShape, List<Long> seeds,
                 TeacherSettings teacher, String codeVersion, List<StageOutputs.GridRow> grids) {
    }

    SampleGridStage() {
        super(StageParams.Grids.class);
    }

    @Override
    protected Output<StageOutputs.Grids> run(StageContext ctx, StageParams.Grids p, Path dir) throws Exception {
        StageParams.Group grp = p.group();
        TrajectorySet held = StageRuntime.trajectories(ctx, p.heldOut());
        long[] shape = held.meta().sampleShape();
        if (!ImageGrid.isImage(shape)) {
            String why = "samples of shape " + Arrays.toString(shape) + " are not images ([1|3, H, W]): no sample grid";
            ctx.log("INFO", ctx.stage().name() + ": " + why);
            return new Output<>(new StageOutputs.Grids(null, null, null, List.of(), why), List.of());
        }
        int n = Math.min(p.seeds(), held.size());
        Evaluation.Targets targets = Scores.targets(held, 0, n);
        List<Long> seeds = Arrays.stream(targets.seeds()).boxed().toList();
        Scores.Baselines base = Scores.readBaselines(file(ctx, input(ctx, grp.baseline(),
                StageOutputs.Baselines.class).file()));
        List<StageOutputs.Fit> fits = new ArrayList<>();
        for (String f : grp.fits()) {
            fits.add(input(ctx, f, StageOutputs.Fit.class));
        }
        DpmSolverV3Stage.Picks v3 = null;
        EmpiricalModelStatistics ems = null;
        if (grp.v3() != null) {
            StageOutputs.V3 vo = input(ctx, grp.v3(), StageOutputs.V3.class);
            v3 = DpmSolverV3Stage.read(file(ctx, vo.file()));
            ems = PublishStage.statistics(ctx, vo.emsOutput());
        }
        DpmSolverV3Stage.Picks v3Learned = null;
        if (grp.v3Timesteps() != null) {
            StageOutputs.V3Timesteps vt = input(ctx, grp.v3Timesteps(), StageOutputs.V3Timesteps.class);
            v3Learned = DpmSolverV3Stage.read(file(ctx, vt.file()));
            ems = ems != null ? ems : PublishStage.statistics(ctx, vt.emsOutput());
        }
        String teacherName = String.format(Locale.ROOT, "DPM-Solver++ 3M logSNR, %d steps",
                held.meta().teacher().steps());
        List<StageOutputs.GridRow> rows = new ArrayList<>();
        List<String> files = new ArrayList<>();
        Guidance g;
        try (Denoiser d = StageRuntime.model(ctx)) {
            g = StageRuntime.guidance(d, p.classLabel(), grp.guidance());
            for (Scores.BaselinePick b : base.picks()) {
                int nfe = b.nfe();
                List<Run> runs = new ArrayList<>();
                runs.add(new Run("baseline", grp.baseline(), b.candidate()));
                for (int i = 0; i < fits.size(); i++) {
                    StageOutputs.Fit fo = fits.get(i);
                    for (StageOutputs.FitRow row : fo.results()) {
                        if (row.nfe() == nfe && row.file() != null) {
                            CoefficientSet set = CoefficientSet.fromJson(Files.readString(file(ctx, row.file())));
                            runs.add(new Run(fo.method(), grp.fits().get(i), new Candidate(
                                    TunedMethods.name(fo.method(), set), MethodCatalog.spec(set), set.spacing(), true,
                                    false, null, null)));
                        }
                    }
                }
                if (v3 != null) {
                    for (DpmSolverV3Stage.Pick pk : v3.picks()) {
                        if (pk.nfe() == nfe) {
                            DpmSolverV3 spec = new DpmSolverV3(ems, pk.order(), pk.pPseudo(), pk.useCorrector(),
                                    pk.cPseudo(), false, false, null);
                            runs.add(new Run(TuningJobSpec.DPM_SOLVER_V3, grp.v3(), new Candidate(pk.name(), spec,
                                    pk.spacing(), true, false, ems.tStart(), ems.tEnd())));
                        }
                    }
                }
                if (v3Learned != null) {
                    for (DpmSolverV3Stage.Pick pk : v3Learned.picks()) {
                        if (pk.nfe() == nfe) {
                            // as validated: interpolated positions on the learned (explicit) grid
                            DpmSolverV3 spec = new DpmSolverV3(ems, pk.order(), pk.pPseudo(), pk.useCorrector(),
                                    pk.cPseudo(), false, false, null).withPositions(DpmSolverV3.Positions.INTERPOLATED);
                            runs.add(new Run(TuningJobSpec.DPM_SOLVER_V3 + StageOutputs.TIMESTEPS_SUFFIX,
                                    grp.v3Timesteps(), new Candidate(pk.name(), spec, pk.spacing(), true, false, null,
                                    null)));
                        }
                    }
                }
                List<double[]> columns = new ArrayList<>();
                List<StageOutputs.GridColumn> described = new ArrayList<>();
                columns.add(targets.fin());
                described.add(new StageOutputs.GridColumn("teacher", teacherName, p.heldOut(), null));
                for (Run r : runs) {
                    StageRuntime.checkCancelled(ctx);
                    Evaluation.Scored s = Evaluation.evaluate(d, g, targets, r.candidate(), nfe, p.batch(),
                            StageRuntime.dtype(ctx), n);
                    columns.add(s.firstSamples());
                    described.add(new StageOutputs.GridColumn(r.method(), r.candidate().name(), r.stage(),
                            s.perSeedMse()));
                }
                Path png = dir.resolve(String.format(Locale.ROOT, "nfe%d.png", nfe));
                Path tmp = dir.resolve(png.getFileName() + ".tmp");
                ImageGrid.write(tmp, columns, n, shape, GAP);
                Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                int w = (int) (columns.size() * (shape[2] + GAP) + GAP);
                int h = (int) (n * (shape[1] + GAP) + GAP);
                rows.add(new StageOutputs.GridRow(nfe, StageRuntime.relative(ctx, png), Hashing.sha256(png), w, h,
                        described));
                files.add(StageRuntime.relative(ctx, png));
                ctx.progress(rows.size(), base.picks().size(), "NFE " + nfe + ": " + columns.size() + " columns");
                ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: %d columns x %d seeds (%s)",
                        ctx.stage().name(), nfe, columns.size(), n, String.join(" | ",
                                described.stream().map(StageOutputs.GridColumn::config).toList())));
            }
        }
        Path index = dir.resolve(INDEX);
        Scores.write(index, new Index(ctx.model().contentHash(), grp.guidance(), g, shape, seeds,
                held.meta().teacher(), CodeVersion.get(), rows));
        files.add(0, StageRuntime.relative(ctx, index));
        return new Output<>(new StageOutputs.Grids(StageRuntime.relative(ctx, index), seeds,
                held.meta().teacher().steps(), rows, null), files);
    }

    /** One column's run: the method, the stage that chose it, the candidate. */
    private record Run(String method, String stage, Candidate candidate) {
    }
}
