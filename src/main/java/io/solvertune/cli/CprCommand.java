package io.solvertune.cli;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.fit.CprStudy;
import io.solvertune.tuning.fit.DcFitter;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.TeacherSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune cpr}: DC-Solver's cascade polynomial regression fitted on our own ratio searches over an
 * (NFE, guidance) grid, scored at unseen (NFE, guidance) on held-out seeds ({@link CprStudy}); writes the official
 * {@code cpr.npy} layout and a summary.
 */
@CommandLine.Command(name = "cpr", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fit DC-Solver's cascade polynomial regression on searched ratios over an (NFE, guidance) grid "
                + "and score its predictions at unseen (NFE, guidance) on held-out seeds.")
final class CprCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--train-nfe", split = ",", defaultValue = "5,6,8,10",
            description = "NFE of the fitted grid (default ${DEFAULT-VALUE}; at least 3 distinct)")
    int[] trainNfe;

    @CommandLine.Option(names = "--train-guidance", split = ",", defaultValue = "1,3,5,7.5",
            description = "guidance scales of the fitted grid (default ${DEFAULT-VALUE}; at least 3 distinct)")
    double[] trainGuidance;

    @CommandLine.Option(names = "--test-nfe", split = ",", defaultValue = "7,9",
            description = "unseen NFE, scored at every guidance (default ${DEFAULT-VALUE})")
    int[] testNfe;

    @CommandLine.Option(names = "--test-guidance", split = ",", defaultValue = "2,6",
            description = "unseen guidance scales, scored at every NFE (default ${DEFAULT-VALUE})")
    double[] testGuidance;

    @CommandLine.Option(names = "--variant", defaultValue = "BH2", description = "UniPC variant of the base: BH1 | BH2 "
            + "(default ${DEFAULT-VALUE}; order 3, data prediction, as the official DC-Solver)")
    UniPc.Variant variant;

    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform",
            description = "grid of every run (default ${DEFAULT-VALUE}, the official DC-Solver grid)")
    String spacing;

    @CommandLine.Option(names = "--fit-seeds", defaultValue = "0:128", converter = SeedRange.Converter.class,
            paramLabel = "FIRST:COUNT", description = "search samples (default ${DEFAULT-VALUE})")
    SeedRange fitSeeds;

    @CommandLine.Option(names = "--heldout-seeds", defaultValue = "1000000:1024", converter = SeedRange.Converter.class,
            paramLabel = "FIRST:COUNT", description = "held-out seeds (default ${DEFAULT-VALUE})")
    SeedRange heldOutSeeds;

    @CommandLine.Option(names = "--objective", defaultValue = "FINAL",
            description = "ratio search objective: NEXT_STEP | FINAL (default ${DEFAULT-VALUE})")
    DcFitter.Objective objective;

    @CommandLine.Option(names = "--teacher-steps", defaultValue = "500",
            description = "held-out teacher: DPM-Solver++ 3M steps on logSNR (default ${DEFAULT-VALUE})")
    int teacherSteps;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR",
            description = "output directory (held-out teachers, cpr.npy, summary.json)")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        List<CprStudy.Point> train = new ArrayList<>();
        for (int n : trainNfe) {
            for (double g : trainGuidance) {
                train.add(new CprStudy.Point(n, g));
            }
        }
        LinkedHashSet<CprStudy.Point> test = new LinkedHashSet<>();
        List<Double> allGuidance = new ArrayList<>();
        for (double g : trainGuidance) {
            allGuidance.add(g);
        }
        for (double g : testGuidance) {
            allGuidance.add(g);
        }
        for (int n : testNfe) {
            for (double g : allGuidance) {
                test.add(new CprStudy.Point(n, g));
            }
        }
        for (int n : trainNfe) {
            for (double g : testGuidance) {
                test.add(new CprStudy.Point(n, g));
            }
        }
        test.removeAll(train);
        ModelOptions.Loaded m = model.load();
        String dt = io.solvertune.tuning.job.Dtype.of(m.dtype()).id();
        TeacherSettings teacher = new TeacherSettings(DpmSolver.plusPlusMultistep(3),
                new TimestepSpacing.LogSnr(), teacherSteps, null, null, teacherSteps, false, 64, dt, 1e-4, 16);
        SolverSpec base = new UniPc(PredictionType.DATA, variant, 3);
        DcFitter.Settings dc = DcFitter.Settings.defaults().withSamples(fitSeeds.count()).withObjective(objective);
        Files.createDirectories(out);
        CprStudy.Result res;
        try (Denoiser d = m.build()) {
            CprStudy.Request req = new CprStudy.Request(d, m.hash(), m.spec().schedule(), m.guidance(), base,
                    TimestepSpacing.named(spacing, 7.0), train, List.copyOf(test),
                    Seeds.range(fitSeeds.first(), fitSeeds.count()),
                    Seeds.range(heldOutSeeds.first(), heldOutSeeds.count()), teacher, dc, batch, m.dtype());
            res = CprStudy.run(req, out, (stage, done, total, msg) ->
                    o.printf(Locale.ROOT, "[%s] %d/%d %s%n", stage, done, total, msg));
        }
        res.fit().model().save(out.resolve("cpr.npy"));
        o.printf(Locale.ROOT, "cpr: fitted on %d searched configurations (%d free steps), rms residual %.4f, max %.4f,"
                        + " condition number %.3g; %.1f s%n", train.size(), res.fit().points(), res.fit().rmsResidual(),
                res.fit().maxResidual(), res.fit().conditionNumber(), res.seconds());
        o.printf(Locale.ROOT, "| NFE | guidance | seen | UniPC MSE | searched DC MSE | CPR DC MSE ± s.e. | CPR / UniPC | "
                + "CPR beats UniPC? | CPR / searched | CPR vs searched |%n|---:|---:|---|---:|---:|---:|---:|---|---:|---|%n");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (CprStudy.Row r : res.rows()) {
            o.printf(Locale.ROOT, "| %d | %s | %s | %.4g | %.4g | %.4g ± %.2g | %.2f | %s | %.2f | %s |%n",
                    r.point().nfe(), fmt(r.point().guidance()), r.seen() ? "yes" : "no", r.base().meanMse(),
                    r.searchedResult().meanMse(), r.predictedResult().meanMse(), r.predictedResult().stdErr(),
                    r.predictedResult().meanMse() / r.base().meanMse(), r.predictedVsBase(),
                    r.predictedResult().meanMse() / r.searchedResult().meanMse(), r.predictedVsSearched());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("nfe", r.point().nfe());
            row.put("guidance", r.point().guidance());
            row.put("seen", r.seen());
            row.put("searched", r.searched());
            row.put("predicted", r.predicted());
            row.put("baseMse", r.base().meanMse());
            row.put("baseStdErr", r.base().stdErr());
            row.put("searchedMse", r.searchedResult().meanMse());
            row.put("searchedStdErr", r.searchedResult().stdErr());
            row.put("cprMse", r.predictedResult().meanMse());
            row.put("cprStdErr", r.predictedResult().stdErr());
            row.put("cprVsBase", r.predictedVsBase());
            row.put("cprVsSearched", r.predictedVsSearched());
            row.put("searchSeconds", r.searchSeconds());
            rows.add(row);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("base", base.label());
        summary.put("spacing", spacing);
        summary.put("objective", objective.name());
        summary.put("fitSeeds", List.of(fitSeeds.first(), fitSeeds.count()));
        summary.put("heldOutSeeds", List.of(heldOutSeeds.first(), heldOutSeeds.count()));
        summary.put("coefficients", res.fit().model().coefficients());
        summary.put("rmsResidual", res.fit().rmsResidual());
        summary.put("maxResidual", res.fit().maxResidual());
        summary.put("conditionNumber", res.fit().conditionNumber());
        summary.put("seconds", res.seconds());
        summary.put("rows", rows);
        Path sum = out.resolve("summary.json");
        Files.writeString(sum, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
        o.println("wrote " + out.resolve("cpr.npy") + " and " + sum);
        return 0;
    }

    private static String fmt(double g) {
        return g == Math.rint(g) ? Long.toString((long) g) : Double.toString(g);
    }
}
