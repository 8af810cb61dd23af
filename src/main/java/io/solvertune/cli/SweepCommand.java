package io.solvertune.cli;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.eval.HyperparameterSearch;
import io.solvertune.tuning.Json;
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
 * {@code solvertune sweep}: the best untuned baseline per NFE (chosen on training seeds, scored on held-out seeds),
 * and the hyperparameter-search method (time-power rho, stop level, denoise) validated the same way.
 */
@CommandLine.Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Best untuned baseline per NFE (train seeds) and its held-out error; optionally the hyperparameter search.")
final class SweepCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Mixin
    TeacherSetOptions sets = new TeacherSetOptions();

    @CommandLine.Option(names = "--nfe", split = ",", defaultValue = "5,6,8,10", description = "NFE list (default ${DEFAULT-VALUE})")
    int[] nfes;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--hyperparameters", description = "also run the hyperparameter search (rho, stop level, denoise)")
    boolean hyperparameters;

    @CommandLine.Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    @CommandLine.Option(names = "--v3", paramLabel = "EMS_DIR", description = "also DPM-Solver-v3 with these statistics (repeatable); variants chosen on the training seeds")
    List<Path> v3 = new java.util.ArrayList<>();

    @CommandLine.Option(names = "--select", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            description = "rows of the training set used for choosing (default: all); e.g. keep the rows an EMS was fitted on out")
    SeedRange select;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelOptions.Loaded m = model.load();
        TrajectorySet tr = TrajectorySet.open(sets.train);
        TrajectorySet ho = TrajectorySet.open(sets.heldout);
        ModelOptions.checkTrainHeldOut(tr, ho, m);
        int selFrom = select == null ? 0 : (int) select.first();
        int selTo = select == null ? tr.size() : (int) Math.min(tr.size(), select.first() + select.count());
        Evaluation.Targets trT = Evaluation.Targets.load(tr, selFrom, selTo);
        Evaluation.Targets hoT = Evaluation.Targets.load(ho, 0, ho.size());
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> comparisons = new java.util.ArrayList<>();
        try (Denoiser d = m.build()) {
            long t0 = System.nanoTime();
            List<BaselineSweep.Choice> base = BaselineSweep.run(d, m.guidance(), trT, hoT,
                    BaselineSweep.untunedCandidates(), nfes, batch, m.dtype(), io.solvertune.tuning.Progress.NONE);
            o.printf(Locale.ROOT, "best untuned baseline (%d train / %d held-out seeds, %.1f s)%n", selTo - selFrom, ho.size(),
                    (System.nanoTime() - t0) / 1e9);
            o.printf(Locale.ROOT, "| NFE | chosen on train | train MSE | held-out MSE ± s.e. |%n|---:|---|---:|---:|%n");
            for (BaselineSweep.Choice c : base) {
                o.printf(Locale.ROOT, "| %d | %s | %.5g | %.5g ± %.2g |%n", c.nfe(), c.best().name(),
                        c.train().meanMse(), c.heldOut().meanMse(), c.heldOut().stdErr());
            }
            out.put("baseline", base);
            if (!v3.isEmpty()) {
                t0 = System.nanoTime();
                List<io.solvertune.tuning.eval.Candidate> cands = new java.util.ArrayList<>();
                for (Path dir : v3) {
                    io.solvertune.numerics.coeff.EmpiricalModelStatistics ems = io.solvertune.numerics.coeff.EmsNpz.read(dir);
                    for (io.solvertune.numerics.solver.v3.DpmSolverV3 spec : v3Variants(ems)) {
                        for (io.solvertune.numerics.schedule.TimestepSpacing sp : List.of(
                                new io.solvertune.numerics.schedule.TimestepSpacing.TimeUniform(),
                                new io.solvertune.numerics.schedule.TimestepSpacing.LogSnr())) {
                            cands.add(new io.solvertune.tuning.eval.Candidate(dir.getFileName() + ": " + spec.label() + " "
                                    + sp.id(), spec, sp, true, false, ems.tStart(), ems.tEnd()));
                        }
                    }
                }
                List<BaselineSweep.Choice> v3Choices = BaselineSweep.run(d, m.guidance(), trT, hoT, cands, nfes, batch,
                        m.dtype(), io.solvertune.tuning.Progress.NONE);
                o.printf(Locale.ROOT, "DPM-Solver-v3 (%d variants, %.1f s)%n", cands.size(), (System.nanoTime() - t0) / 1e9);
                o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. | vs baseline | beats (2 paired s.e.) |%n|---:|---|---:|---:|---|%n");
                for (int i = 0; i < v3Choices.size(); i++) {
                    BaselineSweep.Choice f = v3Choices.get(i);
                    BaselineSweep.Choice b = base.get(i);
                    o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.3f | %s |%n", f.nfe(), f.best().name(),
                            f.heldOut().meanMse(), f.heldOut().stdErr(), f.heldOut().meanMse() / b.heldOut().meanMse(),
                            f.heldOut().verdict(b.heldOut()));
                }
                out.put("dpmSolverV3", v3Choices);
                for (int i = 0; i < v3Choices.size(); i++) {
                    comparisons.add(compare("dpmsolver-v3", v3Choices.get(i).best().name(), v3Choices.get(i).heldOut(),
                            base.get(i).heldOut()));
                }
            }
            if (hyperparameters) {
                t0 = System.nanoTime();
                List<HyperparameterSearch.Fit> fits = HyperparameterSearch.run(d, m.guidance(), trT, hoT,
                        HyperparameterSearch.defaultSpace(), nfes, batch, m.dtype(), io.solvertune.tuning.Progress.NONE);
                o.printf(Locale.ROOT, "hyperparameter search (%.1f s)%n", (System.nanoTime() - t0) / 1e9);
                o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. | vs baseline | beats (2 paired s.e.) |%n|---:|---|---:|---:|---|%n");
                for (int i = 0; i < fits.size(); i++) {
                    HyperparameterSearch.Fit f = fits.get(i);
                    BaselineSweep.Choice b = base.get(i);
                    o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.3f | %s |%n", f.nfe(), f.best().name(),
                            f.heldOut().meanMse(), f.heldOut().stdErr(), f.heldOut().meanMse() / b.heldOut().meanMse(),
                            f.heldOut().verdict(b.heldOut()));
                }
                out.put("hyperparameterSearch", fits);
                for (int i = 0; i < fits.size(); i++) {
                    comparisons.add(compare("hyperparameter-search", fits.get(i).best().name(), fits.get(i).heldOut(),
                            base.get(i).heldOut()));
                }
            }
        }
        out.put("comparisons", comparisons);
        out.put("trainRows", List.of(selFrom, selTo));
        out.put("heldOutSeeds", ho.size());
        if (json != null) {
            Files.writeString(json, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            o.println("wrote " + json);
        }
        return 0;
    }

    /** The v3 settings tried: the official code's combinations (order 2/3, corrector, pseudo orders). */
    static List<io.solvertune.numerics.solver.v3.DpmSolverV3> v3Variants(
            io.solvertune.numerics.coeff.EmpiricalModelStatistics ems) {
        return List.of(
                new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, 2, false, true, true, false, false, null),
                new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, 2, false, false, false, false, false, null),
                new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, 3, false, true, false, false, false, null),
                new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, 3, true, true, false, false, false, null),
                new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, 3, false, false, false, false, false, null));
    }

    /** One method vs the best baseline at one NFE, as reported. */
    static Map<String, Object> compare(String method, String config, io.solvertune.tuning.eval.Evaluation.Result r,
                                       io.solvertune.tuning.eval.Evaluation.Result base) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("method", method);
        c.put("nfe", r.nfe());
        c.put("config", config);
        c.put("heldOutMse", r.meanMse());
        c.put("heldOutStdErr", r.stdErr());
        c.put("baseline", base.candidate());
        c.put("baselineMse", base.meanMse());
        c.put("baselineStdErr", base.stdErr());
        c.put("ratio", r.meanMse() / base.meanMse());
        c.put("pairedDiffStdErr", r.diffStdErr(base));
        c.put("verdict", r.verdict(base));
        return c;
    }
}
