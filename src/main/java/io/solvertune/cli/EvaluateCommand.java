package io.solvertune.cli;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.eval.ImageGrid;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import io.solvertune.tuning.fit.TunedMethods;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** {@code solvertune evaluate}: solver configs x NFE list on teacher seeds, MSE vs teacher (+ PNG grid). */
@CommandLine.Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Score solver configs at each NFE against teacher trajectories (per-seed MSE, mean and standard error).")
final class EvaluateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--teacher", required = true, paramLabel = "DIR", description = "trajectory set (from `teacher`)")
    Path teacher;

    @CommandLine.Option(names = "--nfe", split = ",", defaultValue = "5,6,8,10", description = "NFE list (default ${DEFAULT-VALUE})")
    int[] nfes;

    @CommandLine.Option(names = "--solver", paramLabel = "NAME", description = "one solver to score (default: every untuned baseline)")
    String solver;

    @CommandLine.Option(names = "--option", paramLabel = "KEY=VALUE", description = "solver option, e.g. order=3 (repeatable)")
    Map<String, String> options = new LinkedHashMap<>();

    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform", description = "spacing of --solver (default ${DEFAULT-VALUE})")
    String spacing;

    @CommandLine.Option(names = "--rho", defaultValue = "7.0", description = "rho of karras / time_power (default ${DEFAULT-VALUE})")
    double rho;

    @CommandLine.Option(names = "--rows", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            description = "rows of the trajectory set to use (default: all)")
    SeedRange rows;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--grid", paramLabel = "FILE.png", description = "PNG grid: teacher | each candidate, first 8 seeds (image models)")
    Path grid;

    @CommandLine.Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    @CommandLine.Option(names = "--v3", paramLabel = "EMS_DIR", description = "score DPM-Solver-v3 with these statistics (its standard variants, at --spacing)")
    Path v3;

    @CommandLine.Option(names = "--per-seed", paramLabel = "FILE.csv", description = "write every scored row's "
            + "per-seed MSE as CSV: a seed column, then one column per row in the order printed (which seeds decide a "
            + "mean)")
    Path perSeed;

    @CommandLine.Option(names = "--quantiles", description = "also print the median, 90th and 99th percentile and the maximum of the per-seed MSE")
    boolean quantiles;

    @CommandLine.Option(names = "--set", paramLabel = "FILE.json", description = "score a fitted coefficient set "
            + "(from `fit` or the API) at its own NFE next to its untuned base solver, with the paired verdict "
            + "(repeatable)")
    List<Path> sets;

    @CommandLine.Option(names = "--paired", description = "also compare every row with the FIRST row printed, on the "
            + "same seeds: ratio of means, paired z (per-seed differences) and the verdict at two paired standard "
            + "errors; e.g. --solver/--spacing/--nfe 8 for the best untuned NFE-8 solver, then --set for an NFE-5 set")
    boolean paired;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelOptions.Loaded m = model.load();
        TrajectorySet set = TrajectorySet.open(teacher);
        ModelOptions.checkTeacher(set, m, "--teacher");
        int from = rows == null ? 0 : (int) rows.first();
        int to = rows == null ? set.size() : (int) Math.min(set.size(), rows.first() + rows.count());
        List<Candidate> cands = new ArrayList<>();
        if (v3 != null) {
            io.solvertune.numerics.coeff.EmpiricalModelStatistics ems = io.solvertune.numerics.coeff.EmsNpz.read(v3);
            for (io.solvertune.numerics.solver.v3.DpmSolverV3 spec : SweepCommand.v3Variants(ems)) {
                cands.add(new Candidate(v3.getFileName() + ": " + spec.label() + " " + spacing, spec,
                        TimestepSpacing.named(spacing, rho), true, false, ems.tStart(), ems.tEnd()));
            }
        }
        if (solver != null) {
            cands.add(Candidate.of(SolverCatalog.parse(solver, options), TimestepSpacing.named(spacing, rho)));
        } else if (v3 == null && sets == null) {
            cands.addAll(BaselineSweep.untunedCandidates());
        }
        // a coefficient set scores two rows (itself and its base), a DPM-Solver-v3 one one: checked again at the end
        if (paired && cands.size() * nfes.length + (sets == null ? 0 : 2 * sets.size()) < 2) {
            throw new IllegalArgumentException("--paired: needs at least two scored rows (a solver at two NFEs, or a "
                    + "solver and a --set, ...), got one");
        }
        Evaluation.Targets targets = Evaluation.Targets.load(set, from, to);
        List<Evaluation.Result> results = new ArrayList<>();
        List<double[]> columns = new ArrayList<>();
        int keep = grid != null ? Math.min(8, to - from) : 0;
        if (keep > 0) {
            columns.add(java.util.Arrays.copyOf(targets.fin(), keep * set.perSample()));
        }
        o.printf(Locale.ROOT, "| candidate | NFE | seeds | MSE vs teacher | std err |%s%n|---|---:|---:|---:|---:|%s%n",
                quantiles ? " median | p90 | p99 | max |" : "", quantiles ? "---:|---:|---:|---:|" : "");
        try (Denoiser d = m.build()) {
          for (int nfe : nfes) {
            for (Candidate c : cands) {
                if (c.stepsFor(nfe) < 1) {
                    continue;
                }
                Evaluation.Scored s = Evaluation.evaluate(d, m.guidance(), targets, c, nfe, batch, m.dtype(), keep);
                results.add(s.result());
                if (keep > 0) {
                    columns.add(s.firstSamples());
                }
                o.printf(Locale.ROOT, "| %s | %d | %d | %.6g | %.2g |%s%n", c.name(), nfe, s.result().seeds(),
                        s.result().meanMse(), s.result().stdErr(), quantiles ? quantiles(s.perSeedMse()) : "");
            }
          }
          for (Path f : sets == null ? List.<Path>of() : sets) {
              io.solvertune.tuning.publish.ConfigValues v3Values = v3Values(f);
              if (v3Values != null) {
                  // DPM-Solver-v3 config values (e.g. a learned grid from learn-timesteps --v3): scored on its grid
                  io.solvertune.numerics.solver.SamplerConfig sc = v3Values.samplerConfig();
                  Candidate c = new Candidate(f.getFileName() + ": " + sc.solver().label() + " " + sc.spacing().id(),
                          sc.solver(), sc.spacing(), sc.lowerOrderFinal(), sc.denoiseToZero(), null, null);
                  Evaluation.Scored s = Evaluation.evaluate(d, m.guidance(), targets, c, v3Values.nfe(), batch,
                          m.dtype(), keep);
                  results.add(s.result());
                  if (keep > 0) {
                      columns.add(s.firstSamples());
                  }
                  o.printf(Locale.ROOT, "| %s | %d | %d | %.6g | %.2g |%s%n", c.name(), v3Values.nfe(),
                          s.result().seeds(), s.result().meanMse(), s.result().stdErr(),
                          quantiles ? quantiles(s.perSeedMse()) : "");
                  continue;
              }
              io.solvertune.tuning.fit.CoefficientSet cs = readSet(f, m);
              Candidate tuned = new Candidate(f.getFileName() + ": " + TunedMethods.name(cs.method().name()
                      .toLowerCase(Locale.ROOT), cs), io.solvertune.tuning.fit.MethodCatalog.spec(cs), cs.spacing(), true,
                      false, null, null);
              Evaluation.Scored st = Evaluation.evaluate(d, m.guidance(), targets, tuned, cs.nfe(), batch, m.dtype(), keep);
              Evaluation.Scored sb = Evaluation.evaluate(d, m.guidance(), targets, TunedMethods.baseCandidate(cs),
                      cs.nfe(), batch, m.dtype(), keep);
              for (Evaluation.Scored s : List.of(st, sb)) {
                  results.add(s.result());
                  if (keep > 0) {
                      columns.add(s.firstSamples());
                  }
                  o.printf(Locale.ROOT, "| %s | %d | %d | %.6g | %.2g |%s%n", s.result().candidate(), cs.nfe(),
                          s.result().seeds(), s.result().meanMse(), s.result().stdErr(),
                          quantiles ? quantiles(s.perSeedMse()) : "");
              }
              o.printf(Locale.ROOT, "| %s vs its base | | | x%.3f | %s |%n", f.getFileName(),
                      st.result().meanMse() / sb.result().meanMse(),
                      io.solvertune.tuning.fit.CoefficientSet.Verdict.of(st.result(), sb.result()).name().toLowerCase(Locale.ROOT)
                              + (quantiles ? " | | | | |" : ""));
          }
        }
        if (paired) {
            printPaired(o, results);
        }
        if (grid != null) {
            if (!ImageGrid.isImage(set.meta().sampleShape())) {
                throw new IllegalArgumentException("--grid: samples of shape " + java.util.Arrays.toString(set.meta().sampleShape())
                        + " are not images");
            }
            ImageGrid.write(grid, columns, keep, set.meta().sampleShape(), 2);
            o.println("wrote " + grid + " (columns: teacher, then each candidate x NFE in the order above)");
        }
        if (perSeed != null) {
            writePerSeed(perSeed, targets.seeds(), results);
            o.println("wrote " + perSeed);
        }
        if (json != null) {
            Files.writeString(json, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(results));
            o.println("wrote " + json);
        }
        return 0;
    }

    /** The per-seed MSE of every row, one column each (header: the row's candidate and NFE), one line per seed. */
    static void writePerSeed(Path file, long[] seeds, List<Evaluation.Result> results) throws java.io.IOException {
        StringBuilder b = new StringBuilder("seed");
        for (Evaluation.Result r : results) {
            b.append(",\"").append(r.candidate().replace("\"", "\"\"")).append(" NFE ").append(r.nfe()).append('"');
        }
        b.append('\n');
        for (int i = 0; i < seeds.length; i++) {
            b.append(seeds[i]);
            for (Evaluation.Result r : results) {
                b.append(',').append(r.perSeed()[i]);
            }
            b.append('\n');
        }
        Files.writeString(file, b);
    }

    /**
     * Every row after the first against the first, on the same seeds: ratio of means, paired z (negative: the row's
     * error is lower) and the verdict at two paired standard errors.
     */
    static void printPaired(PrintWriter o, List<Evaluation.Result> results) {
        if (results.size() < 2) {
            throw new IllegalArgumentException("--paired: needs at least two scored rows, got " + results.size());
        }
        Evaluation.Result ref = results.get(0);
        o.printf(Locale.ROOT, "%npaired against the first row (%s, NFE %d, %d seeds):%n", ref.candidate(), ref.nfe(),
                ref.seeds());
        o.printf(Locale.ROOT, "| candidate | NFE | MSE | ratio to first | paired z | verdict |%n"
                + "|---|---:|---:|---:|---:|---|%n");
        for (Evaluation.Result r : results.subList(1, results.size())) {
            io.solvertune.tuning.fit.CoefficientSet.Verdict v = io.solvertune.tuning.fit.CoefficientSet.Verdict.of(r, ref);
            o.printf(Locale.ROOT, "| %s | %d | %.6g | %.4f | %+.2f | %s |%n", r.candidate(), r.nfe(), r.meanMse(),
                    r.meanMse() / ref.meanMse(), r.pairedZ(ref), v.name().toLowerCase(Locale.ROOT));
        }
    }

    /** The DPM-Solver-v3 config values in {@code f}, or null if it holds something else. */
    private static io.solvertune.tuning.publish.ConfigValues v3Values(Path f) throws java.io.IOException {
        if (!Files.isRegularFile(f)) {
            return null;
        }
        com.fasterxml.jackson.databind.JsonNode n;
        try {
            n = io.solvertune.tuning.Json.MAPPER.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
        }
        if (n == null || !io.solvertune.tuning.publish.ConfigValues.DPMSOLVER_V3.equals(n.path("type").asText())) {
            return null;
        }
        try {
            return io.solvertune.tuning.publish.ConfigValues.parse(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--set: " + f + ": " + e.getMessage());
        }
    }

    private static io.solvertune.tuning.fit.CoefficientSet readSet(Path f, ModelOptions.Loaded m) throws java.io.IOException {
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("--set: no such file " + f);
        }
        io.solvertune.tuning.fit.CoefficientSet cs;
        try {
            cs = io.solvertune.tuning.fit.CoefficientSet.fromJson(Files.readString(f));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--set: " + f + " is not a coefficient set: " + e.getMessage());
        }
        String hash = cs.provenance() == null ? null : cs.provenance().modelHash();
        if (hash != null && !hash.equals(m.hash())) {
            throw new IllegalArgumentException("--set: " + f + " was fitted for model " + hash + ", not this model ("
                    + m.hash() + ")");
        }
        if (cs.provenance() != null && cs.provenance().guidance() != null
                && !cs.provenance().guidance().equals(m.guidance())) {
            throw new IllegalArgumentException("--set: " + f + " was fitted at guidance " + cs.provenance().guidance()
                    + ", not " + m.guidance());
        }
        return cs;
    }

    static String quantiles(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return String.format(Locale.ROOT, " %.3g | %.3g | %.3g | %.3g |", s[n / 2], s[(int) (n * 0.9)],
                s[Math.min(n - 1, (int) (n * 0.99))], s[n - 1]);
    }
}
