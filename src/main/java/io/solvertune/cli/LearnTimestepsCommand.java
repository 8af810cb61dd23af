package io.solvertune.cli;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.fit.timesteps.GitsInitialiser;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.fit.timesteps.TimestepOptimizer;
import io.solvertune.tuning.teacher.TrajectorySet;
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

/**
 * {@code solvertune learn-timesteps}: per NFE, the best untuned baseline is chosen on the selection rows, its grid
 * (and those of the next best untuned solvers, {@code --variants}) is learned on the fit rows from its own spacing and
 * the GITS grid, the published grid is chosen by absolute selection error and validated on held-out seeds against its
 * own base, the best untuned baseline at the same NFE and, with {@code --reference-nfe}, the best untuned baseline at
 * a higher NFE. Optionally the coefficient methods are fitted on learned grids ({@code --method}). Every chosen set is
 * written as a {@link CoefficientSet} that {@code evaluate --set} scores.
 */
@CommandLine.Command(name = "learn-timesteps", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Learn sampling timesteps per NFE (CMA-ES on the teacher's final state, GITS start), validate on "
                + "held-out seeds against the best untuned solver, write the sets.")
final class LearnTimestepsCommand implements Callable<Integer> {
    /** Limits on what a caller controls. */
    static final int MAX_VARIANTS = 8;
    static final int MAX_NFE = 100;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Mixin
    TeacherSetOptions sets = new TeacherSetOptions();

    @CommandLine.Option(names = "--fit-rows", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            defaultValue = "0:128", description = "training rows the grids are learned on (default ${DEFAULT-VALUE})")
    SeedRange fitRows;

    @CommandLine.Option(names = "--select", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            description = "training rows the baseline and the published grid are chosen on (default: the rows after --fit-rows)")
    SeedRange select;

    @CommandLine.Option(names = "--heldout-rows", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            description = "rows of --heldout to validate on (default: all); --heldout may be the training set itself "
                    + "if these rows overlap neither --fit-rows nor --select")
    SeedRange heldoutRows;

    @CommandLine.Option(names = "--nfe", split = ",", defaultValue = "5", description = "NFE list (default ${DEFAULT-VALUE})")
    int[] nfes;

    @CommandLine.Option(names = "--reference-nfe", paramLabel = "NFE", description = "also score the best untuned "
            + "baseline at this NFE on the held-out seeds and compare (paired) every learned set with it, e.g. 8")
    Integer referenceNfe;

    @CommandLine.Option(names = "--variants", defaultValue = "1", description = "untuned solvers whose grids are "
            + "learned: the best untuned baseline and the next best distinct solvers of the sweep (1.."
            + MAX_VARIANTS + ", default ${DEFAULT-VALUE})")
    int variants;

    @CommandLine.Option(names = "--evaluations", defaultValue = "200", description = "CMA-ES loss evaluations per "
            + "variant (each costs fit rows x NFE model calls; default ${DEFAULT-VALUE})")
    int evaluations;

    @CommandLine.Option(names = "--sigma", defaultValue = "0.3", description = "CMA-ES initial step in log step sizes (default ${DEFAULT-VALUE})")
    double sigma;

    @CommandLine.Option(names = "--gits-points", defaultValue = "60", description = "intervals of the GITS teacher grid; 0: no GITS start (default ${DEFAULT-VALUE})")
    int gitsPoints;

    @CommandLine.Option(names = "--gits-rows", defaultValue = "32", description = "fit rows the GITS costs are computed on (default ${DEFAULT-VALUE})")
    int gitsRows;

    @CommandLine.Option(names = "--teacher-steps", defaultValue = "500", description = "fine steps of the GITS teacher solve (default ${DEFAULT-VALUE})")
    int teacherSteps;

    @CommandLine.Option(names = "--method", split = ",", paramLabel = "NAME", description = "coefficient methods to fit "
            + "on learned grids as well (e.g. dc,dode-teacher): ${COMPLETION-CANDIDATES}",
            completionCandidates = MethodCatalog.Names.class)
    List<String> methods = new ArrayList<>();

    @CommandLine.Option(names = "--v3", paramLabel = "EMS_DIR", description = "also learn DPM-Solver-v3's grid with "
            + "these statistics: per NFE its best snapped setting (of `sweep --v3`, time_uniform or logSNR, chosen on "
            + "the selection rows) is a further variant whose times move off the statistics grid (interpolated "
            + "statistics); its learned grid is scored on the held-out seeds and written as dpmsolver-v3 config "
            + "values (timesteps-v3-nfe<n>.json)")
    Path v3;

    @CommandLine.Option(names = "--seed", defaultValue = "0", description = "CMA-ES seed (default ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Option(names = "--progress", description = "print progress to stderr")
    boolean progress;

    @CommandLine.Option(names = "--resume", description = "keep the sets already written into --out")
    boolean resume;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (sets, summary.json)")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        PrintWriter e = cmd.commandLine().getErr();
        if (variants < 1 || variants > MAX_VARIANTS) {
            throw new IllegalArgumentException("--variants: must be in 1.." + MAX_VARIANTS + ", got " + variants);
        }
        for (int n : nfes) {
            if (n < 1 || n > MAX_NFE) {
                throw new IllegalArgumentException("--nfe: must be in 1.." + MAX_NFE + ", got " + n);
            }
        }
        if (referenceNfe != null && (referenceNfe < 1 || referenceNfe > MAX_NFE)) {
            throw new IllegalArgumentException("--reference-nfe: must be in 1.." + MAX_NFE + ", got " + referenceNfe);
        }
        if (gitsPoints < 0 || gitsPoints > GitsInitialiser.Settings.MAX_POINTS) {
            throw new IllegalArgumentException("--gits-points: must be in 0.." + GitsInitialiser.Settings.MAX_POINTS);
        }
        TimestepOptimizer.Settings opt;
        GitsInitialiser.Settings gits;
        try {
            opt = new TimestepOptimizer.Settings(evaluations, sigma, 0, seed);
            gits = gitsPoints == 0 ? null : new GitsInitialiser.Settings(gitsPoints, new TimestepSpacing.LogSnr(),
                    teacherSteps);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("--evaluations/--sigma/--gits-points/--teacher-steps: " + ex.getMessage());
        }
        LearnedTimesteps.Settings settings = new LearnedTimesteps.Settings(opt, gits, Math.max(1, gitsRows));
        List<TunedMethods.Method> joint = new ArrayList<>();
        for (String name : methods) {
            joint.add(MethodCatalog.method(name.trim()));
        }
        Progress prog = !progress ? Progress.NONE : (stage, done, total, message) -> {
            e.printf(Locale.ROOT, "[%s %d/%d] %s%n", stage, done, total, message);
            e.flush();
        };
        ModelOptions.Loaded m = model.load();
        io.solvertune.numerics.coeff.EmpiricalModelStatistics v3Ems = v3 == null ? null
                : io.solvertune.numerics.coeff.EmsNpz.read(v3);
        TrajectorySet tr = TrajectorySet.open(sets.train);
        TrajectorySet ho = TrajectorySet.open(sets.heldout);
        boolean sameSet = java.util.Arrays.equals(ho.seeds(), tr.seeds());
        if (sameSet) {
            if (heldoutRows == null) {
                throw new IllegalArgumentException("--heldout: is the training set; give --heldout-rows outside "
                        + "--fit-rows and --select");
            }
            ModelOptions.checkTeacher(tr, m, "--train");
        } else {
            ModelOptions.checkTrainHeldOut(tr, ho, m);
        }
        int fitFrom = (int) fitRows.first();
        int fitTo = fitFrom + fitRows.count();
        if (fitFrom < 0 || fitTo > tr.size()) {
            throw new IllegalArgumentException("--fit-rows: rows " + fitFrom + ".." + (fitTo - 1)
                    + " outside the training set's " + tr.size() + " rows");
        }
        int selFrom = select == null ? fitTo : (int) select.first();
        int selTo = select == null ? tr.size() : (int) Math.min(tr.size(), select.first() + select.count());
        if (selTo <= selFrom) {
            throw new IllegalArgumentException("--select: no training rows left to choose on (use --select FROM:COUNT)");
        }
        if (selFrom < fitTo && selTo > fitFrom) {
            throw new IllegalArgumentException("--select: rows " + selFrom + ".." + (selTo - 1) + " overlap --fit-rows");
        }
        Evaluation.Targets fitT = Evaluation.Targets.load(tr, fitFrom, fitTo);
        Evaluation.Targets selT = Evaluation.Targets.load(tr, selFrom, selTo);
        int hoFrom = heldoutRows == null ? 0 : (int) heldoutRows.first();
        int hoTo = heldoutRows == null ? ho.size() : (int) Math.min(ho.size(), heldoutRows.first() + heldoutRows.count());
        if (hoFrom < 0 || hoTo <= hoFrom) {
            throw new IllegalArgumentException("--heldout-rows: no rows of the held-out set's " + ho.size() + " selected");
        }
        if (sameSet && (hoFrom < fitTo && hoTo > fitFrom || hoFrom < selTo && hoTo > selFrom)) {
            throw new IllegalArgumentException("--heldout-rows: --heldout is the training set and rows " + hoFrom + ".."
                    + (hoTo - 1) + " overlap --fit-rows or --select");
        }
        Evaluation.Targets hoT = Evaluation.Targets.load(ho, hoFrom, hoTo);
        Files.createDirectories(out);
        Path sum = out.resolve("summary.json");
        Map<String, Object> summary = new LinkedHashMap<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        if (resume && Files.isRegularFile(sum)) {
            rows = Json.MAPPER.convertValue(Json.MAPPER.readTree(sum.toFile()).path("results"),
                    new com.fasterxml.jackson.core.type.TypeReference<List<Map<String, Object>>>() { });
        }
        summary.put("fitRows", List.of(fitFrom, fitTo));
        summary.put("selectRows", List.of(selFrom, selTo));
        summary.put("heldOutSeeds", hoTo - hoFrom);
        summary.put("heldOut", sets.heldout.toString() + " rows " + hoFrom + ".." + (hoTo - 1));
        summary.put("settings", Map.of("evaluations", evaluations, "sigma", sigma, "gitsPoints", gitsPoints,
                "gitsRows", gitsRows, "teacherSteps", teacherSteps, "variants", variants, "seed", seed));
        try (Denoiser d = m.build()) {
            CoefficientSet.Provenance prov = new CoefficientSet.Provenance(m.hash(), d.schedule().spec(), m.guidance(),
                    tr.meta().teacher(), null, io.solvertune.numerics.CodeVersion.get(), null, null);
            FitContext ctx = new FitContext(d, m.guidance(), fitT.seeds(), fitT.initial(), fitT.sampleShape(),
                    fitT.tStart(), fitT.tEnd(), m.dtype(), batch, prog, prov);
            Evaluation.Result reference = null;
            String referenceName = null;
            if (referenceNfe != null) {
                BaselineSweep.Choice rc = BaselineSweep.run(d, m.guidance(), selT, hoT,
                        BaselineSweep.untunedCandidates(), new int[] {referenceNfe}, batch, m.dtype(), prog).get(0);
                reference = rc.heldOut();
                referenceName = rc.best().name();
                o.printf(Locale.ROOT, "reference: best untuned at NFE %d (chosen on rows %d..%d): %s, held-out %s%n",
                        referenceNfe, selFrom, selTo - 1, referenceName, stats(reference));
                summary.put("reference", row(null, referenceNfe, referenceName, reference, null, null));
            }
            o.printf(Locale.ROOT, "| NFE | method | config | held-out mean ± s.e. | median | p99 | own base | vs base "
                    + "| best untuned (same NFE) | vs it |%s%n|---:|---|---|---:|---:|---:|---:|---|---:|---|%s%n",
                    reference == null ? "" : " vs untuned NFE " + referenceNfe + " |",
                    reference == null ? "" : "---|");
            for (int nfe : nfes) {
                BaselineSweep.Ranked ranked = BaselineSweep.runRanked(d, m.guidance(), selT, hoT,
                        BaselineSweep.untunedCandidates(), new int[] {nfe}, batch, m.dtype(), prog).get(0);
                BaselineSweep.Choice bl = ranked.choice();
                o.printf(Locale.ROOT, "| %d | untuned | %s | %s | %.4g | %.4g | | | | |%s%n", nfe, bl.best().name(),
                        stats(bl.heldOut()), bl.heldOut().median(), bl.heldOut().p99(),
                        reference == null ? "" : " " + verdict(bl.heldOut(), reference) + " |");
                rows.removeIf(r -> "untuned".equals(r.get("method")) && Integer.valueOf(nfe).equals(r.get("nfe")));
                rows.add(row("untuned", nfe, bl.best().name(), bl.heldOut(), null, reference));
                List<LearnedTimesteps.Variant> vs = new ArrayList<>();
                List<String> solvers = new ArrayList<>();
                for (Candidate c : ranked.candidates()) {
                    if (vs.size() >= variants) {
                        break;
                    }
                    if (!solvers.contains(c.solver().label())) {
                        solvers.add(c.solver().label());
                        vs.add(LearnedTimesteps.Variant.of(c));
                    }
                }
                BaselineSweep.Choice v3Snapped = null;
                if (v3Ems != null) {
                    v3Snapped = v3Snapped(d, m, selT, hoT, v3Ems, nfe, prog);
                    o.printf(Locale.ROOT, "| %d | dpmsolver-v3 (snapped) | %s | %s | %.4g | %.4g | | | %.4g | %s |%s%n",
                            nfe, v3Snapped.best().name(), stats(v3Snapped.heldOut()), v3Snapped.heldOut().median(),
                            v3Snapped.heldOut().p99(), bl.heldOut().meanMse(), verdict(v3Snapped.heldOut(),
                            bl.heldOut()), reference == null ? "" : " " + verdict(v3Snapped.heldOut(), reference) + " |");
                    rows.removeIf(r -> V3_SNAPPED.equals(r.get("method")) && Integer.valueOf(nfe).equals(r.get("nfe")));
                    Map<String, Object> vr = row(V3_SNAPPED, nfe, v3Snapped.best().name(), v3Snapped.heldOut(), null,
                            reference);
                    vr.put("grid", v3Times(d, v3Snapped.best(), nfe));
                    vr.put("vsBaseline", verdict(v3Snapped.heldOut(), bl.heldOut()));
                    rows.add(vr);
                    vs.add(io.solvertune.tuning.fit.timesteps.DpmSolverV3Timesteps.variant(ctx, v3Snapped.best(), nfe));
                }
                String file = LearnedTimesteps.METHOD + "-nfe" + nfe + ".json";
                if (!(resume && Files.isRegularFile(out.resolve(file)))) {
                    LearnedTimesteps.Outcome r = LearnedTimesteps.run(ctx, fitT, selT, hoT, nfe, vs, bl, settings);
                    if (r.chosen() == null) {
                        o.printf(Locale.ROOT, "| %d | timesteps | (no variant: %s) | | | | | | | |%n", nfe,
                                String.join("; ", r.failures()));
                    } else {
                        Files.writeString(out.resolve(file), r.chosen().base() instanceof DpmSolverV3
                                ? v3Values(r.chosen()) : r.chosen().toJson());
                        Map<String, Object> row = row(LearnedTimesteps.METHOD, nfe, LearnedTimesteps.name(r.chosen()),
                                r.heldOut(), r.base(), reference);
                        row.put("file", file);
                        row.put("grid", r.chosen().times());
                        row.put("selectMse", r.select().meanMse());
                        row.put("baseline", bl.best().name());
                        row.put("vsBaseline", verdict(r.heldOut(), bl.heldOut()));
                        row.put("baselineZ", r.heldOut().pairedZ(bl.heldOut()));
                        row.put("publishable", r.chosen().validation().publishable());
                        row.put("seconds", r.seconds());
                        row.put("failures", r.failures());
                        List<Map<String, Object>> learned = new ArrayList<>();
                        for (LearnedTimesteps.Learned l : r.learned()) {
                            Map<String, Object> lm = new LinkedHashMap<>();
                            lm.put("variant", l.variant().label());
                            lm.put("fitMse", l.result().loss());
                            lm.put("startFitMse", l.result().startLosses());
                            lm.put("evaluations", l.result().evaluations());
                            lm.put("seconds", l.result().seconds());
                            lm.put("grid", l.result().grid());
                            lm.put("gitsGrid", l.gitsGrid());
                            learned.add(lm);
                        }
                        row.put("learned", learned);
                        List<Map<String, Object>> sel = new ArrayList<>();
                        for (Evaluation.Result s : r.selects()) {
                            sel.add(Map.of("candidate", s.candidate(), "mse", s.meanMse(), "stdErr", s.stdErr()));
                        }
                        row.put("selection", sel);
                        rows.removeIf(x -> LearnedTimesteps.METHOD.equals(x.get("method"))
                                && Integer.valueOf(nfe).equals(x.get("nfe")));
                        rows.add(row);
                        print(o, nfe, LearnedTimesteps.METHOD, LearnedTimesteps.name(r.chosen()), r.heldOut(), r.base(),
                                bl.heldOut(), reference);
                    }
                    for (LearnedTimesteps.Learned l : r.learned()) {
                        if (v3Snapped == null || !(l.variant().solver() instanceof DpmSolverV3)) {
                            continue;
                        }
                        // v3's learned grid on the held-out seeds, whether chosen or not, against the snapped v3
                        io.solvertune.tuning.fit.timesteps.DpmSolverV3Timesteps.Outcome lv =
                                io.solvertune.tuning.fit.timesteps.DpmSolverV3Timesteps.validate(ctx, l, null, hoT,
                                        v3Snapped.heldOut(), bl.best().name(), bl.heldOut());
                        CoefficientSet ls = lv.set();
                        Evaluation.Result lh = lv.heldOut();
                        String vf = V3_LEARNED + "-nfe" + nfe + ".json";
                        Files.writeString(out.resolve(vf), v3Values(ls));
                        Map<String, Object> vr = row(V3_LEARNED, nfe, LearnedTimesteps.name(ls), lh, v3Snapped.heldOut(),
                                reference);
                        vr.put("file", vf);
                        vr.put("grid", ls.times());
                        vr.put("startGrid", l.startGrid());
                        vr.put("fitMse", l.result().loss());
                        vr.put("startFitMse", l.result().startLosses());
                        vr.put("evaluations", l.result().evaluations());
                        vr.put("seconds", l.result().seconds());
                        vr.put("baseline", bl.best().name());
                        vr.put("vsBaseline", verdict(lh, bl.heldOut()));
                        vr.put("baselineZ", lh.pairedZ(bl.heldOut()));
                        rows.removeIf(x -> V3_LEARNED.equals(x.get("method")) && Integer.valueOf(nfe).equals(x.get("nfe")));
                        rows.add(vr);
                        print(o, nfe, V3_LEARNED, LearnedTimesteps.name(ls), lh, v3Snapped.heldOut(), bl.heldOut(),
                                reference);
                    }
                    write(sum, summary, rows);
                }
                for (TunedMethods.Method method : joint) {
                    TunedMethods.Method jm = LearnedTimesteps.joint(method, fitT, LearnedTimesteps.Variant.of(bl.best()),
                            settings);
                    String jf = jm.name() + "-nfe" + nfe + ".json";
                    if (resume && Files.isRegularFile(out.resolve(jf))) {
                        continue;
                    }
                    TunedMethods.Outcome r = TunedMethods.run(jm, ctx, d, m.guidance(), selT, hoT, new int[] {nfe},
                            List.of(bl), batch, m.dtype(), prog, TunedMethods.GainTest.PAIRED_MEAN,
                            TunedMethods.Selection.ABSOLUTE_ERROR).get(0);
                    if (r.chosen() == null) {
                        o.printf(Locale.ROOT, "| %d | %s | (no variant: %s) | | | | | | | |%n", nfe, jm.name(),
                                String.join("; ", r.failures()));
                        continue;
                    }
                    Files.writeString(out.resolve(jf), r.chosen().toJson());
                    String name = TunedMethods.name(jm.name(), r.chosen()) + (r.chosen().isNeutral()
                            ? " (neutral)" : "");
                    Map<String, Object> row = row(jm.name(), nfe, name, r.heldOut(), r.base(), reference);
                    row.put("file", jf);
                    row.put("grid", r.chosen().times());
                    row.put("selectMse", r.select().meanMse());
                    row.put("baseline", bl.best().name());
                    row.put("vsBaseline", verdict(r.heldOut(), bl.heldOut()));
                    row.put("baselineZ", r.heldOut().pairedZ(bl.heldOut()));
                    row.put("publishable", r.chosen().validation().publishable());
                    row.put("seconds", r.fitSeconds());
                    row.put("failures", r.failures());
                    rows.removeIf(x -> jm.name().equals(x.get("method")) && Integer.valueOf(nfe).equals(x.get("nfe")));
                    rows.add(row);
                    print(o, nfe, jm.name(), name, r.heldOut(), r.base(), bl.heldOut(), reference);
                    write(sum, summary, rows);
                }
                write(sum, summary, rows);
            }
        }
        write(sum, summary, rows);
        o.println("wrote " + sum);
        return 0;
    }

    /** Summary method of the snapped DPM-Solver-v3 row. */
    static final String V3_SNAPPED = "dpmsolver-v3";
    /** Summary method (and file prefix) of DPM-Solver-v3 on its learned grid. */
    static final String V3_LEARNED = LearnedTimesteps.METHOD + "-v3";

    /** The best snapped DPM-Solver-v3 setting at {@code nfe} (as {@code sweep --v3}), chosen on the selection rows. */
    private BaselineSweep.Choice v3Snapped(Denoiser d, ModelOptions.Loaded m, Evaluation.Targets selT,
                                           Evaluation.Targets hoT,
                                           io.solvertune.numerics.coeff.EmpiricalModelStatistics ems, int nfe,
                                           Progress prog) {
        List<Candidate> cands = new ArrayList<>();
        for (DpmSolverV3 spec : SweepCommand.v3Variants(ems)) {
            for (String sp : List.of("time_uniform", "logSNR")) {
                cands.add(new Candidate(spec.label() + " " + sp, spec, TimestepSpacing.named(sp, 7.0), true, false,
                        ems.tStart(), ems.tEnd()));
            }
        }
        return BaselineSweep.run(d, m.guidance(), selT, hoT, cands, new int[] {nfe}, batch, m.dtype(), prog).get(0);
    }

    /** The times a candidate runs on at {@code nfe}. */
    private static double[] v3Times(Denoiser d, Candidate c, int nfe) {
        io.solvertune.numerics.solver.SamplerConfig cfg = new io.solvertune.numerics.solver.SamplerConfig(c.solver(),
                c.spacing(), c.stepsFor(nfe), c.tStart(), c.tEnd(), c.lowerOrderFinal(), c.denoiseToZero());
        return c.solver().create().grid(d.schedule(), cfg, c.tStart(), c.tEnd());
    }

    /**
     * A timesteps set on DPM-Solver-v3 as config values (statistics, solver settings, grid): what {@code evaluate
     * --set} scores and the service publishes; a coefficient set's JSON has no room for the statistics.
     */
    private static String v3Values(CoefficientSet set) throws java.io.IOException {
        return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(
                io.solvertune.tuning.fit.timesteps.DpmSolverV3Timesteps.values(set).toJson());
    }

    private static void print(PrintWriter o, int nfe, String method, String name, Evaluation.Result held,
                              Evaluation.Result base, Evaluation.Result baseline, Evaluation.Result reference) {
        o.printf(Locale.ROOT, "| %d | %s | %s | %s | %.4g | %.4g | %.4g | %s | %.4g | %s |%s%n", nfe, method, name,
                stats(held), held.median(), held.p99(), base.meanMse(), verdict(held, base), baseline.meanMse(),
                verdict(held, baseline), reference == null ? "" : " " + verdict(held, reference) + " |");
        o.flush();
    }

    static String stats(Evaluation.Result r) {
        return String.format(Locale.ROOT, "%.4g ± %.2g", r.meanMse(), r.stdErr());
    }

    /** "beats (z)", "tie (z)" or "worse (z)": the paired difference in standard errors. */
    static String verdict(Evaluation.Result a, Evaluation.Result b) {
        double z = a.pairedZ(b);
        String v = a.beats(b) ? "beats" : b.beats(a) ? "worse" : "tie";
        return String.format(Locale.ROOT, "%s (%+.1f s.e.)", v, z);
    }

    private static Map<String, Object> row(String method, int nfe, String config, Evaluation.Result held,
                                           Evaluation.Result base, Evaluation.Result reference) {
        Map<String, Object> row = new LinkedHashMap<>();
        if (method != null) {
            row.put("method", method);
        }
        row.put("nfe", nfe);
        row.put("config", config);
        row.put("heldOut", Map.of("seeds", held.seeds(), "mean", held.meanMse(), "stdErr", held.stdErr(),
                "median", held.median(), "p99", held.p99()));
        if (base != null) {
            row.put("base", Map.of("mean", base.meanMse(), "stdErr", base.stdErr(), "median", base.median(),
                    "p99", base.p99()));
            row.put("vsBase", verdict(held, base));
        }
        if (reference != null && method != null) {
            row.put("vsReference", verdict(held, reference));
            row.put("referenceZ", held.pairedZ(reference));
        }
        return row;
    }

    private static void write(Path sum, Map<String, Object> summary, List<Map<String, Object>> rows)
            throws java.io.IOException {
        summary.put("results", rows);
        Path tmp = sum.resolveSibling(sum.getFileName() + ".tmp");
        Files.writeString(tmp, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
        Files.move(tmp, sum, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
