package io.solvertune.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.timesteps.GitsInitialiser;
import io.solvertune.tuning.fit.timesteps.LearnedTimesteps;
import io.solvertune.tuning.job.CommandPlans;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.StageKind;
import io.solvertune.tuning.job.StageOutputs;
import io.solvertune.tuning.job.TuningJobSpec;
import io.solvertune.tuning.publish.ConfigProvenance;
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
 *
 * <p>An adapter over the pipeline's stages, like {@code fit}: the options become a plan of the job's stage kinds
 * ({@link CommandPlans#timesteps}: a baseline stage over the NFEs, one for the reference NFE, the
 * {@code learn-timesteps} stage, a fit stage on learned grids per {@code --method}, and with {@code --v3} the snapped
 * DPM-Solver-v3 choice and its learned grid) that {@link LocalJobRunner} runs in {@code --out} as the workers run a
 * job's stages, so a killed run continues from the stages' checkpoints (every CMA-ES loss evaluation is journaled)
 * and writes the same bytes. The command prints the stages' outputs, links each set to {@code <method>-nfe<n>.json}
 * and writes {@code summary.json} from them (the paired verdicts against the reference NFE from the stages' per-seed
 * scores).
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
            + "variant (each costs fit rows x NFE model calls; 1.." + TuningJobSpec.Timesteps.MAX_EVALUATIONS
            + ", default ${DEFAULT-VALUE})")
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
            + "the selection rows) is the start of a grid learned off the statistics grid (interpolated statistics), "
            + "validated on the held-out seeds against the snapped v3 and written as dpmsolver-v3 config values "
            + "(timesteps-v3-nfe<n>.json), as a job's timesteps-dpmsolver-v3 stage")
    Path v3;

    @CommandLine.Option(names = "--seed", defaultValue = "0", description = "CMA-ES seed (default ${DEFAULT-VALUE})")
    long seed;

    @CommandLine.Option(names = "--progress", description = "print progress to stderr")
    boolean progress;

    @CommandLine.Option(names = "--resume", description = "keep the earlier summary rows of NFEs and methods this run "
            + "does not ask for (finished stages are reused from their checkpoints with or without this flag)")
    boolean resume;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (stage "
            + "directories with their checkpoints, sets <method>-nfe<n>.json, summary.json)")
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
        if (gitsRows < 1) {
            throw new IllegalArgumentException("--gits-rows: must be >= 1, got " + gitsRows);
        }
        List<MethodId> joint = new ArrayList<>();
        for (String name : methods) {
            MethodId id = MethodId.parse(MethodCatalog.method(name.trim()).name());
            if (!joint.contains(id)) {
                joint.add(id);
            }
        }
        ModelOptions.Loaded m = model.load();
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
        if (fitFrom < 0 || fitRows.count() < 1 || fitTo > tr.size()) {
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
        int hoFrom = heldoutRows == null ? 0 : (int) heldoutRows.first();
        int hoTo = heldoutRows == null ? ho.size() : (int) Math.min(ho.size(), heldoutRows.first() + heldoutRows.count());
        if (hoFrom < 0 || hoTo <= hoFrom) {
            throw new IllegalArgumentException("--heldout-rows: no rows of the held-out set's " + ho.size() + " selected");
        }
        if (sameSet && (hoFrom < fitTo && hoTo > fitFrom || hoFrom < selTo && hoTo > selFrom)) {
            throw new IllegalArgumentException("--heldout-rows: --heldout is the training set and rows " + hoFrom + ".."
                    + (hoTo - 1) + " overlap --fit-rows or --select");
        }
        if (v3 != null && !Files.isDirectory(v3)) {
            throw new IllegalArgumentException("--v3: no such directory " + v3);
        }
        boolean wholeHeldOut = hoFrom == 0 && hoTo == ho.size();
        Integer classLabel;
        try (io.solvertune.numerics.model.Denoiser d = m.build()) {
            classLabel = CommandPlans.classLabel(m.guidance(), d.numClasses());
        }
        List<Integer> nfeList = java.util.Arrays.stream(nfes).boxed().distinct().toList();
        List<PlannedStage> plan;
        try {
            plan = CommandPlans.timesteps(new CommandPlans.Timesteps(m.guidance().scale(), classLabel, fitFrom,
                    fitTo - fitFrom, selFrom, selTo, wholeHeldOut ? null : hoFrom, wholeHeldOut ? null : hoTo, nfeList,
                    referenceNfe, new TuningJobSpec.Timesteps(evaluations, variants, sigma, 0, seed, gitsPoints,
                    Math.min(gitsRows, fitTo - fitFrom), teacherSteps), joint, v3 != null, batch));
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException(flag(x.getMessage()), x);
        }
        Files.createDirectories(out);
        Path sum = out.resolve("summary.json");
        List<Map<String, Object>> earlier = List.of();
        if (resume && Files.isRegularFile(sum)) {
            earlier = Json.MAPPER.convertValue(Json.MAPPER.readTree(sum.toFile()).path("results"),
                    new TypeReference<List<Map<String, Object>>>() { });
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("fitRows", List.of(fitFrom, fitTo));
        summary.put("selectRows", List.of(selFrom, selTo));
        summary.put("heldOutSeeds", hoTo - hoFrom);
        summary.put("heldOut", sets.heldout.toString() + " rows " + hoFrom + ".." + (hoTo - 1));
        summary.put("settings", Map.of("evaluations", evaluations, "sigma", sigma, "gitsPoints", gitsPoints,
                "gitsRows", gitsRows, "teacherSteps", teacherSteps, "variants", variants, "seed", seed));
        Map<String, JsonNode> given = new LinkedHashMap<>();
        given.put(CommandPlans.TRAIN, CommandPlans.given(tr, "train"));
        given.put(CommandPlans.HELD_OUT, CommandPlans.given(ho, "heldout"));
        if (v3 != null) {
            given.put(CommandPlans.EMS, CommandPlans.givenEms(v3));
        }
        Printer printer = new Printer(o, e);
        LocalJobRunner.tuning().run(0, Json.MAPPER.valueToTree(Map.of("command", "learn-timesteps")), plan, given,
                model.resolved(m), out, printer, () -> false);
        List<Map<String, Object>> rows = results(o, summary, printer, earlier);
        summary.put("results", rows);
        write(sum, summary);
        o.println("wrote " + sum);
        return 0;
    }

    /** An option's name for a setting the plan refused (the job's field names). */
    private static String flag(String message) {
        Map<String, String> flags = Map.of("evaluations", "--evaluations", "variants", "--variants", "sigma",
                "--sigma", "gitsRows", "--gits-rows", "gitsPoints", "--gits-points", "teacherSteps", "--teacher-steps");
        for (Map.Entry<String, String> f : flags.entrySet()) {
            if (message != null && message.startsWith(f.getKey() + ":")) {
                return f.getValue() + message.substring(f.getKey().length());
            }
        }
        return message != null && message.startsWith("--") ? message
                : "--evaluations/--sigma/--gits-points/--teacher-steps: " + message;
    }

    /**
     * The summary rows (and the printed table) from the stages' outputs, per NFE in the order untuned, snapped
     * DPM-Solver-v3, timesteps, DPM-Solver-v3 on its learned grid, methods on learned grids; rows of an earlier run
     * ({@code --resume}) for other NFEs and methods are kept.
     */
    private List<Map<String, Object>> results(PrintWriter o, Map<String, Object> summary, Printer p,
                                              List<Map<String, Object>> earlier) throws java.io.IOException {
        Evaluation.Result reference = null;
        if (referenceNfe != null) {
            BaselineSweep.Choice rc = p.baselines.get(referenceNfe);
            reference = rc.heldOut();
            o.printf(Locale.ROOT, "reference: best untuned at NFE %d (chosen on rows %s): %s, held-out %s%n",
                    referenceNfe, rowsText(summary.get("selectRows")), rc.best().name(), stats(reference));
            summary.put("reference", row(null, referenceNfe, rc.best().name(), reference, null, null));
        }
        o.printf(Locale.ROOT, "| NFE | method | config | held-out mean ± s.e. | median | p99 | own base | vs base "
                + "| best untuned (same NFE) | vs it |%s%n|---:|---|---|---:|---:|---:|---:|---|---:|---|%s%n",
                reference == null ? "" : " vs untuned NFE " + referenceNfe + " |", reference == null ? "" : "---|");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int nfe : nfes) {
            if (rows.stream().anyMatch(r -> Integer.valueOf(nfe).equals(r.get("nfe")))) {
                continue;       // an NFE given twice
            }
            BaselineSweep.Choice bl = p.baselines.get(nfe);
            o.printf(Locale.ROOT, "| %d | untuned | %s | %s | %.4g | %.4g | | | | |%s%n", nfe, bl.best().name(),
                    stats(bl.heldOut()), bl.heldOut().median(), bl.heldOut().p99(),
                    reference == null ? "" : " " + verdict(bl.heldOut(), reference) + " |");
            rows.add(row("untuned", nfe, bl.best().name(), bl.heldOut(), null, reference));
            CommandPlans.V3Pick snapped = p.v3Snapped.get(nfe);
            if (snapped != null) {
                o.printf(Locale.ROOT, "| %d | dpmsolver-v3 (snapped) | %s | %s | %.4g | %.4g | | | %.4g | %s |%s%n",
                        nfe, snapped.name(), stats(snapped.heldOut()), snapped.heldOut().median(),
                        snapped.heldOut().p99(), bl.heldOut().meanMse(), verdict(snapped.heldOut(), bl.heldOut()),
                        reference == null ? "" : " " + verdict(snapped.heldOut(), reference) + " |");
                Map<String, Object> vr = row(V3_SNAPPED, nfe, snapped.name(), snapped.heldOut(), null, reference);
                vr.put("grid", snapped.times());
                vr.put("vsBaseline", verdict(snapped.heldOut(), bl.heldOut()));
                rows.add(vr);
            }
            learned(o, rows, p.timesteps, LearnedTimesteps.METHOD, nfe, bl, reference, true);
            CommandPlans.V3Pick lv = p.v3Learned.get(nfe);
            if (lv != null) {
                String vf = V3_LEARNED + "-nfe" + nfe + ".json";
                writeAtomically(out.resolve(vf), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(
                        lv.values().toJson()));
                Map<String, Object> vr = row(V3_LEARNED, nfe, lv.name(), lv.heldOut(), lv.base(), reference);
                vr.put("file", vf);
                vr.put("grid", lv.times());
                ConfigProvenance.LearnedGrid g = p.v3Grids.stream().filter(x -> x.nfe() == nfe
                        && java.util.Arrays.equals(x.grid(), lv.times())).findFirst().orElse(null);
                if (g != null) {
                    vr.put("startGrid", g.startGrid());
                    vr.put("fitMse", g.endObjective());
                    vr.put("startFitMse", startObjectives(g));
                    vr.put("evaluations", g.evaluations());
                }
                vr.put("seconds", p.seconds.get(CommandPlans.V3_LEARNED));
                vr.put("baseline", bl.best().name());
                vr.put("vsBaseline", verdict(lv.heldOut(), bl.heldOut()));
                vr.put("baselineZ", lv.heldOut().pairedZ(bl.heldOut()));
                rows.add(vr);
                print(o, nfe, V3_LEARNED, lv.name(), lv.heldOut(), lv.base(), bl.heldOut(), reference);
            }
            for (Map.Entry<String, Fitted> f : p.joint.entrySet()) {
                learned(o, rows, f.getValue(), f.getKey(), nfe, bl, reference, false);
            }
        }
        List<Map<String, Object>> all = new ArrayList<>(earlier);
        for (Map<String, Object> row : rows) {
            all.removeIf(x -> java.util.Objects.equals(row.get("method"), x.get("method"))
                    && row.get("nfe").equals(x.get("nfe")));
            all.add(row);
        }
        return all;
    }

    /** The summary row (and table row) of one NFE's set on learned grids: the plain timesteps or a method's. */
    private void learned(PrintWriter o, List<Map<String, Object>> rows, Fitted f, String method, int nfe,
                         BaselineSweep.Choice bl, Evaluation.Result reference, boolean plain)
            throws java.io.IOException {
        if (f == null) {
            return;
        }
        StageOutputs.FitRow fr = f.output.results().stream().filter(r -> r.nfe() == nfe).findFirst().orElse(null);
        if (fr == null) {
            return;
        }
        if (fr.file() == null) {
            o.printf(Locale.ROOT, "| %d | %s | (no variant: %s) | | | | | | | |%n", nfe, method,
                    String.join("; ", fr.failures()));
            return;
        }
        CommandPlans.Scored sc = f.scores.stream().filter(x -> x.nfe() == nfe).findFirst().orElseThrow(
                () -> new IllegalStateException(method + ": no scores of NFE " + nfe));
        CoefficientSet set = CoefficientSet.fromJson(Files.readString(out.resolve(fr.file())));
        String file = method + "-nfe" + nfe + ".json";
        FitEmsCommand.link(out.resolve(fr.file()), out.resolve(file));
        String name = plain ? fr.config() : fr.config() + (set.isNeutral() ? " (neutral)" : "");
        Map<String, Object> row = row(method, nfe, name, sc.heldOut(), sc.base(), reference);
        row.put("file", file);
        row.put("stageFile", fr.file());
        row.put("grid", set.times());
        row.put("selectMse", fr.selectMse());
        row.put("baseline", bl.best().name());
        row.put("vsBaseline", verdict(sc.heldOut(), bl.heldOut()));
        row.put("baselineZ", sc.heldOut().pairedZ(bl.heldOut()));
        row.put("publishable", set.validation().publishable());
        row.put("seconds", f.seconds);
        row.put("failures", fr.failures() == null ? List.of() : fr.failures());
        if (plain) {
            List<Map<String, Object>> learned = new ArrayList<>();
            for (ConfigProvenance.LearnedGrid g : f.grids) {
                if (g.nfe() != nfe) {
                    continue;
                }
                Map<String, Object> lm = new LinkedHashMap<>();
                lm.put("variant", g.variant());
                lm.put("fitMse", g.endObjective());
                lm.put("startFitMse", startObjectives(g));
                lm.put("evaluations", g.evaluations());
                lm.put("grid", g.grid());
                lm.put("gitsGrid", g.gitsGrid());
                learned.add(lm);
            }
            row.put("learned", learned);
            List<Map<String, Object>> sel = new ArrayList<>();
            for (Evaluation.Result s : sc.selection()) {
                sel.add(Map.of("candidate", s.candidate(), "mse", s.meanMse(), "stdErr", s.stdErr()));
            }
            row.put("selection", sel);
        }
        rows.add(row);
        print(o, nfe, method, name, sc.heldOut(), sc.base(), bl.heldOut(), reference);
    }

    private static double[] startObjectives(ConfigProvenance.LearnedGrid g) {
        return g.gitsObjective() == null ? new double[] {g.startObjective()}
                : new double[] {g.startObjective(), g.gitsObjective()};
    }

    private static String rowsText(Object fromTo) {
        List<?> l = (List<?>) fromTo;
        return l.get(0) + ".." + (((Number) l.get(1)).intValue() - 1);
    }

    /** A stage on learned grids: its output, per-seed scores, grids and wall time (null when reused). */
    private record Fitted(StageOutputs.Fit output, List<CommandPlans.Scored> scores,
                          List<ConfigProvenance.LearnedGrid> grids, Double seconds) {
    }

    /** Collects the stages' outputs as they finish and prints their progress. */
    private final class Printer implements LocalJobRunner.Listener {
        final Map<Integer, BaselineSweep.Choice> baselines = new LinkedHashMap<>();
        final Map<Integer, CommandPlans.V3Pick> v3Snapped = new LinkedHashMap<>();
        final Map<Integer, CommandPlans.V3Pick> v3Learned = new LinkedHashMap<>();
        final Map<String, Fitted> joint = new LinkedHashMap<>();
        final Map<String, Double> seconds = new LinkedHashMap<>();
        List<ConfigProvenance.LearnedGrid> v3Grids = List.of();
        Fitted timesteps;
        private final PrintWriter o;
        private final PrintWriter e;

        Printer(PrintWriter o, PrintWriter e) {
            this.o = o;
            this.e = e;
        }

        @Override
        public void stageOutput(PlannedStage stage, JsonNode output, boolean reused, double secs) {
            try {
                o.printf(Locale.ROOT, "%s: %s%n", stage.name(), reused ? "(checkpoint)"
                        : String.format(Locale.ROOT, "%.1f s", secs));
                o.flush();
                Double s = reused ? null : secs;
                seconds.put(stage.name(), s);
                if (stage.stageKind() == StageKind.BASELINE) {
                    for (BaselineSweep.Choice c : CommandPlans.baselines(out, output)) {
                        baselines.put(c.nfe(), c);
                    }
                } else if (stage.stageKind() == StageKind.TIMESTEPS || stage.stageKind() == StageKind.FIT) {
                    StageOutputs.Fit f = CommandPlans.fitOutput(output);
                    Fitted fitted = new Fitted(f, CommandPlans.scores(out, output), CommandPlans.grids(out, output), s);
                    if (stage.stageKind() == StageKind.TIMESTEPS) {
                        timesteps = fitted;
                    } else {
                        joint.put(f.method(), fitted);
                    }
                } else if (stage.stageKind() == StageKind.VALIDATE) {
                    CommandPlans.v3Picks(out, output, v3, false).forEach(x -> v3Snapped.put(x.nfe(), x));
                } else if (stage.stageKind() == StageKind.TIMESTEPS_V3) {
                    CommandPlans.v3Picks(out, output, v3, true).forEach(x -> v3Learned.put(x.nfe(), x));
                    v3Grids = CommandPlans.grids(out, output);
                    for (JsonNode f : output.path("failures")) {
                        e.printf(Locale.ROOT, "WARN %s NFE %d: no grid learned (%s)%n", stage.name(),
                                f.path("nfe").asInt(), f.path("failures").toString());
                    }
                }
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        }

        @Override
        public void progress(PlannedStage stage, long done, long total, String message) {
            if (progress) {
                StageLines.progress(e, stage, done, total, message);
            }
        }

        @Override
        public void log(PlannedStage stage, String level, String message) {
            StageLines.log(e, level, message);
        }
    }

    /** Summary method of the snapped DPM-Solver-v3 row. */
    static final String V3_SNAPPED = "dpmsolver-v3";
    /** Summary method (and file prefix) of DPM-Solver-v3 on its learned grid. */
    static final String V3_LEARNED = LearnedTimesteps.METHOD + "-v3";

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

    private static void write(Path sum, Map<String, Object> summary) throws java.io.IOException {
        writeAtomically(sum, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
    }

    private static void writeAtomically(Path file, String text) throws java.io.IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
