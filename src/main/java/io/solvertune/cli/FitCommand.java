package io.solvertune.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import io.solvertune.tuning.job.CommandPlans;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageKind;
import io.solvertune.tuning.job.StageOutputs;
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
 * {@code solvertune fit}: fits coefficient methods (DC-Solver, D-ODE, IIA, BIIA) on training teacher rows, chooses
 * the variant per NFE on other training rows, validates on held-out seeds against the base solver and the best untuned
 * baseline, and writes every chosen {@link CoefficientSet} (with its validation) as JSON.
 *
 * <p>An adapter over the pipeline's stages: the options become a plan of one baseline stage per NFE and one fit stage
 * per (method, NFE) ({@link CommandPlans#fit}) that {@link LocalJobRunner} runs in {@code --out} as the workers run a
 * job's stages, so every finished pair is checkpointed (a killed run continues where it stopped, with the same
 * bytes). The command prints the stages' outputs, links each set to {@code <method>-nfe<n>.json} and writes
 * {@code summary.json} from them.
 */
@CommandLine.Command(name = "fit", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fit DC-Solver / D-ODE / IIA coefficients, validate on held-out seeds, write the coefficient sets.")
final class FitCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--method", required = true, split = ",", paramLabel = "NAME",
            description = "methods (comma-separated or repeated): ${COMPLETION-CANDIDATES}",
            completionCandidates = MethodCatalog.Names.class)
    List<String> methods;

    @CommandLine.Mixin
    TeacherSetOptions sets = new TeacherSetOptions();

    @CommandLine.Option(names = "--fit-rows", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            defaultValue = "0:128", description = "training rows the coefficients are fitted on (default ${DEFAULT-VALUE})")
    SeedRange fitRows;

    @CommandLine.Option(names = "--select", paramLabel = "FROM:COUNT", converter = SeedRange.Converter.class,
            description = "training rows the variant and the baseline are chosen on (default: the rows after --fit-rows)")
    SeedRange select;

    @CommandLine.Option(names = "--nfe", split = ",", defaultValue = "5,6,8,10", description = "NFE list (default ${DEFAULT-VALUE})")
    int[] nfes;

    @CommandLine.Option(names = "--gain-test", defaultValue = "PAIRED_MEAN", paramLabel = "TEST",
            description = "when a fit counts as gaining over its base on the selection rows (else the method falls "
                    + "back to its best base with neutral coefficients): ${COMPLETION-CANDIDATES} (default "
                    + "${DEFAULT-VALUE})")
    TunedMethods.GainTest gainTest;

    @CommandLine.Option(names = "--dc-bounds", paramLabel = "LO:HI", defaultValue = "0.5:1.5",
            description = "bounds of DC-Solver's compensation ratios, dc and dc-final (default ${DEFAULT-VALUE})")
    String dcBounds;

    @CommandLine.Option(names = "--resume", description = "continue an earlier run into the same --out with the same "
            + "rows and settings: keep its summary rows of other methods and NFEs (finished (method, NFE) stages are "
            + "reused from their checkpoints with or without this flag)")
    boolean resume;

    @CommandLine.Option(names = "--baseline", paramLabel = "SUMMARY", description = "reuse the best untuned baseline "
            + "chosen by an earlier fit (its summary.json) instead of sweeping the 40 untuned candidates again; "
            + "it is re-scored and must match")
    Path baselineFile;

    @CommandLine.Option(names = "--consistency", paramLabel = "JSON", description = "with --method "
            + "consistency-solver: its training settings as a job spec's \"consistency\" object (e.g. "
            + "'{\"iterations\": 1000, \"spacing\": \"time_uniform\"}'; default: the job defaults); one network "
            + "trained on rows 0..trainRows-1 serves every --nfe")
    String consistency;

    @CommandLine.Option(names = "--progress", description = "print each fitted variant's selection error and "
            + "each baseline candidate to stderr as it finishes")
    boolean progress;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (stage "
            + "directories with their checkpoints, coefficient sets <method>-nfe<n>.json, summary.json)")
    Path out;

    /** ConsistencySolver's training rows (with --method consistency-solver). */
    private int trainRows;

    static MethodCatalog.DcOptions dcOptions(String bounds) {
        String[] p = bounds.split(":");
        if (p.length != 2) {
            throw new IllegalArgumentException("--dc-bounds: expected LO:HI (e.g. 0.5:1.5), got '" + bounds + "'");
        }
        try {
            return new MethodCatalog.DcOptions(Double.parseDouble(p[0].trim()), Double.parseDouble(p[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--dc-bounds: expected two numbers LO:HI, got '" + bounds + "'");
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        PrintWriter e = cmd.commandLine().getErr();
        MethodCatalog.DcOptions dc = dcOptions(dcBounds);
        List<MethodId> chosen = new ArrayList<>();
        Map<MethodId, Integer> variants = new LinkedHashMap<>();
        for (String name : methods) {
            if (MethodId.CONSISTENCY_SOLVER.id().equals(name.trim())) {
                if (!chosen.contains(MethodId.CONSISTENCY_SOLVER)) {
                    chosen.add(MethodId.CONSISTENCY_SOLVER);
                }
                continue;
            }
            TunedMethods.Method method = MethodCatalog.method(name.trim(), dc);
            MethodId id = MethodId.parse(method.name());
            if (!chosen.contains(id)) {
                chosen.add(id);
            }
            variants.put(id, method.variants().size());
        }
        ModelOptions.Loaded m = model.load();
        TrajectorySet tr = TrajectorySet.open(sets.train);
        TrajectorySet ho = TrajectorySet.open(sets.heldout);
        ModelOptions.checkTrainHeldOut(tr, ho, m);
        int fitFrom = (int) fitRows.first();
        int fitTo = fitFrom + fitRows.count();
        if (fitFrom < 0 || fitTo > tr.size()) {
            throw new IllegalArgumentException("--fit-rows: rows " + fitFrom + ".." + (fitTo - 1) + " outside the training set's "
                    + tr.size() + " rows");
        }
        int selFrom = select == null ? fitTo : (int) select.first();
        int selTo = select == null ? tr.size() : (int) Math.min(tr.size(), select.first() + select.count());
        if (selTo <= selFrom) {
            throw new IllegalArgumentException("--select: no training rows left to choose on (use --select FROM:COUNT)");
        }
        if (selFrom < fitTo && selTo > fitFrom) {
            throw new IllegalArgumentException("--select: rows " + selFrom + ".." + (selTo - 1) + " overlap --fit-rows");
        }
        Files.createDirectories(out);
        Path sum = out.resolve("summary.json");
        Map<String, Object> summary = new LinkedHashMap<>();
        if (resume && Files.isRegularFile(sum)) {
            summary = Json.MAPPER.readValue(sum.toFile(), new TypeReference<LinkedHashMap<String, Object>>() { });
            checkSame(summary, "fitRows", List.of(fitFrom, fitTo), "--fit-rows");
            checkSame(summary, "selectRows", List.of(selFrom, selTo), "--select");
            checkSame(summary, "heldOutSeeds", ho.size(), "--heldout");
            checkSame(summary, "gainTest", gainTest.id(), "--gain-test");
            checkSame(summary, "dcBounds", List.of(dc.lower(), dc.upper()), "--dc-bounds");
        }
        List<Map<String, Object>> earlier = resume ? Json.MAPPER.convertValue(summary.getOrDefault("results",
                List.of()), new TypeReference<List<Map<String, Object>>>() { }) : List.of();
        summary.put("fitRows", List.of(fitFrom, fitTo));
        summary.put("selectRows", List.of(selFrom, selTo));
        summary.put("heldOutSeeds", ho.size());
        summary.put("gainTest", gainTest.id());
        summary.put("dcBounds", List.of(dc.lower(), dc.upper()));
        Map<Integer, CommandPlans.KnownBaseline> known = known(baselineFile);
        ResolvedModel resolved = model.resolved(m);
        Integer classLabel;
        try (io.solvertune.numerics.model.Denoiser d = m.build()) {
            classLabel = CommandPlans.classLabel(m.guidance(), d.numClasses());
        }
        List<Integer> nfeList = java.util.Arrays.stream(nfes).boxed().toList();
        io.solvertune.tuning.job.ConsistencyTraining training = null;
        if (chosen.contains(MethodId.CONSISTENCY_SOLVER)) {
            JsonNode c;
            try {
                c = consistency == null ? null : Json.MAPPER.readTree(consistency);
            } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
                throw new IllegalArgumentException("--consistency: not JSON: " + x.getOriginalMessage());
            }
            if (c != null && !c.isObject()) {
                throw new IllegalArgumentException("--consistency: expected a JSON object, got " + c);
            }
            try {
                training = CommandPlans.consistencyTraining(c, nfeList, fitTo - fitFrom);
                trainRows = training.trainRows();
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("--consistency: " + x.getMessage(), x);
            }
        } else if (consistency != null) {
            throw new IllegalArgumentException("--consistency: given, but " + MethodId.CONSISTENCY_SOLVER.id()
                    + " is not among the methods");
        }
        List<PlannedStage> plan = CommandPlans.fit(new CommandPlans.Fit(m.guidance().scale(), classLabel, fitFrom,
                fitTo - fitFrom, selFrom, selTo, nfeList, chosen, gainTest, dc, batch, known, training));
        Printer printer = new Printer(o, e, earlier, fitFrom, fitTo, selFrom, selTo, ho.size(), variants);
        try {
            LocalJobRunner.tuning().run(0, Json.MAPPER.valueToTree(Map.of("command", "fit")), plan,
                    Map.of(CommandPlans.TRAIN, CommandPlans.given(tr, "train"),
                            CommandPlans.HELD_OUT, CommandPlans.given(ho, "heldout")),
                    resolved, out, printer, () -> false);
        } catch (IllegalArgumentException x) {
            if (baselineFile != null && x.getMessage() != null && x.getMessage().startsWith(CommandPlans.STORED_CHOICE)) {
                throw new IllegalArgumentException("--baseline: " + x.getMessage() + " (" + baselineFile + ")", x);
            }
            throw x;
        }
        // NFEs of an earlier run that this one does not ask for keep their stored choice (their rows refer to it)
        java.util.TreeMap<Integer, Object> byNfe = new java.util.TreeMap<>();
        if (resume && summary.get("baseline") instanceof List<?> stored) {
            for (Object c : stored) {
                if (c instanceof Map<?, ?> mc && mc.get("nfe") instanceof Number n) {
                    byNfe.put(n.intValue(), c);
                }
            }
        }
        for (BaselineSweep.Choice c : printer.baselines) {
            byNfe.put(c.nfe(), c);
        }
        summary.put("baseline", new ArrayList<>(byNfe.values()));
        List<Map<String, Object>> rows = new ArrayList<>(earlier);
        for (Map<String, Object> row : printer.rows) {
            rows.removeIf(x -> row.get("method").equals(x.get("method")) && row.get("nfe").equals(x.get("nfe")));
            rows.add(row);
        }
        summary.put("results", rows);
        writeAtomically(sum, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
        o.println("wrote " + sum);
        return 0;
    }

    private static void checkSame(Map<String, Object> stored, String key, Object now, String flag) {
        Object was = stored.get(key);
        if (was != null && !Json.MAPPER.valueToTree(was).equals(Json.MAPPER.valueToTree(now))) {
            throw new IllegalArgumentException(flag + ": --resume continues a run made with " + key + " " + was
                    + ", not " + now + " (use another --out, or the same settings)");
        }
    }

    private static void writeAtomically(Path file, String text) throws java.io.IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The baseline choices of an earlier fit's summary.json (its "baseline" list), by NFE; none without a file (also
     * {@code train-consistency --baseline}).
     */
    static Map<Integer, CommandPlans.KnownBaseline> known(Path stored) throws java.io.IOException {
        Map<Integer, CommandPlans.KnownBaseline> kept = new java.util.HashMap<>();
        if (stored == null) {
            return kept;
        }
        if (!Files.isRegularFile(stored)) {
            throw new IllegalArgumentException("--baseline: no such file " + stored);
        }
        JsonNode list;
        try {
            list = Json.MAPPER.readTree(stored.toFile()).path("baseline");
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new IllegalArgumentException("--baseline: " + stored + " is not JSON: " + x.getOriginalMessage());
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException("--baseline: " + stored + " has no \"baseline\" list (expected the "
                    + "summary.json of an earlier fit)");
        }
        for (JsonNode c : list) {
            int nfe = c.path("nfe").asInt();
            Candidate winner;
            try {
                winner = Json.MAPPER.treeToValue(c.path("best"), Candidate.class);
            } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException x) {
                throw new IllegalArgumentException("--baseline: the stored choice for NFE " + nfe + " in " + stored
                        + " is not a candidate: " + x.getMessage());
            }
            kept.put(nfe, new CommandPlans.KnownBaseline(nfe, winner,
                    c.path("heldOut").path("meanMse").asDouble(Double.NaN), c.path("candidatesTried").asInt()));
        }
        return kept;
    }

    /** Prints the stages' outputs as they finish and collects the summary rows. */
    private final class Printer implements LocalJobRunner.Listener {
        final List<BaselineSweep.Choice> baselines = new ArrayList<>();
        final List<Map<String, Object>> rows = new ArrayList<>();
        private final PrintWriter o;
        private final PrintWriter e;
        private final List<Map<String, Object>> earlier;
        private final int fitFrom;
        private final int fitTo;
        private final int selFrom;
        private final int selTo;
        private final int heldOut;
        private final Map<MethodId, Integer> variants;
        private double baselineSeconds;
        private boolean baselinesReused = true;
        private MethodId current;

        Printer(PrintWriter o, PrintWriter e, List<Map<String, Object>> earlier, int fitFrom, int fitTo, int selFrom,
                int selTo, int heldOut, Map<MethodId, Integer> variants) {
            this.o = o;
            this.e = e;
            this.earlier = earlier;
            this.fitFrom = fitFrom;
            this.fitTo = fitTo;
            this.selFrom = selFrom;
            this.selTo = selTo;
            this.heldOut = heldOut;
            this.variants = variants;
        }

        @Override
        public void stageOutput(PlannedStage stage, JsonNode output, boolean reused, double seconds) {
            try {
                if (stage.stageKind() == StageKind.BASELINE) {
                    baselines.addAll(CommandPlans.baselines(out, output));
                    baselineSeconds += seconds;
                    baselinesReused &= reused;
                    if (baselines.size() == nfes.length) {
                        printBaselines();
                    }
                } else if (stage.stageKind() == StageKind.FIT) {
                    fitted(CommandPlans.fitOutput(output), reused, seconds);
                } else if (stage.stageKind() == StageKind.TRAIN_CONSISTENCY) {
                    StageOutputs.Consistency c = CommandPlans.consistencyOutput(output);
                    fitted(new StageOutputs.Fit(c.method(), c.results()), reused, seconds);
                }
                o.flush();
            } catch (java.io.IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        }

        private void printBaselines() {
            o.printf(Locale.ROOT, "best untuned baseline (chosen on rows %d..%d%s, %d held-out seeds, %.1f s)%n",
                    selFrom, selTo - 1, baselineFile != null ? "; stored choice from " + baselineFile + " re-scored"
                            : baselinesReused ? "; kept from the stage checkpoints in " + out : "", heldOut,
                    baselineSeconds);
            o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. |%n|---:|---|---:|%n");
            for (BaselineSweep.Choice c : baselines) {
                o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g |%n", c.nfe(), c.best().name(), c.heldOut().meanMse(),
                        c.heldOut().stdErr());
            }
        }

        private void fitted(StageOutputs.Fit f, boolean reused, double seconds) throws java.io.IOException {
            if (f.methodId() != current) {
                current = f.methodId();
                if (current == MethodId.CONSISTENCY_SOLVER) {
                    o.printf(Locale.ROOT, "%s (one network trained by RL on rows 0..%d for every NFE, the snapshot and "
                            + "inference mode chosen on rows %d..%d)%n", current, trainRows - 1, selFrom, selTo - 1);
                } else {
                    o.printf(Locale.ROOT, "%s (fitted on rows %d..%d, from the best untuned baseline's solver and "
                            + "spacing where it can use them, then its %d own variants)%n", current, fitFrom, fitTo - 1,
                            variants.get(current));
                }
                o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. | base MSE | vs base | beats base | "
                        + "vs best baseline | beats baseline | fit s |%n|---:|---|---:|---:|---:|---|---:|---|---:|%n");
            }
            String secs = reused ? "(checkpoint)" : String.format(Locale.ROOT, "%.1f", seconds);
            for (StageOutputs.FitRow r : f.results()) {
                if (r.file() == null) {
                    o.printf(Locale.ROOT, "| %d | %s | | | | | | | %s |%n", r.nfe(), r.failures().isEmpty()
                            ? "(no variant spends exactly " + r.nfe() + " NFE)"
                            : "(no variant could be fitted: " + String.join("; ", r.failures()) + ")", secs);
                    continue;
                }
                CoefficientSet set = CoefficientSet.fromJson(Files.readString(out.resolve(r.file())));
                CoefficientSet.Validation v = set.validation();
                o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.5g | %.3f | %s | %.3f | %s | %s |%n", r.nfe(),
                        r.config() + (set.isNeutral() ? " (reset to neutral)" : ""), v.mse(), v.stdErr(), v.baseMse(),
                        v.mse() / v.baseMse(), verdict(v.vsBase()), v.mse() / v.baselineMse(), verdict(v.vsBaseline()),
                        secs);
                // the set under the name earlier versions wrote it to (the same bytes, linked)
                String file = f.method() + "-nfe" + r.nfe() + ".json";
                FitEmsCommand.link(out.resolve(r.file()), out.resolve(file));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("method", f.method());
                row.put("nfe", r.nfe());
                row.put("config", r.config());
                row.put("file", file);
                row.put("stageFile", r.file());
                row.put("resetToNeutral", set.isNeutral());
                row.put("selectMse", r.selectMse());
                row.put("heldOutMse", v.mse());
                row.put("heldOutStdErr", v.stdErr());
                row.put("baseMse", v.baseMse());
                row.put("baseStdErr", v.baseStdErr());
                row.put("vsBase", v.vsBase());
                row.put("baseline", v.baseline());
                row.put("baselineMse", v.baselineMse());
                row.put("vsBaseline", v.vsBaseline());
                row.put("publishable", v.publishable());
                row.put("fitSeconds", reused ? earlierSeconds(f.methodId(), r.nfe()) : seconds);
                row.put("failures", r.failures() == null ? List.of() : r.failures());
                rows.add(row);
            }
        }

        /** The fit time an earlier run recorded for a pair whose stage is reused (0 if none). */
        private double earlierSeconds(MethodId method, int nfe) {
            for (Map<String, Object> r : earlier) {
                if (method.id().equals(r.get("method")) && r.get("nfe") instanceof Number n && n.intValue() == nfe
                        && r.get("fitSeconds") instanceof Number s) {
                    return s.doubleValue();
                }
            }
            return 0;
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

    /** "yes", "no (worse)" or "tie", as the commands print paired verdicts. */
    static String verdict(CoefficientSet.Verdict v) {
        return v == null ? "" : switch (v) {
            case BEATS -> "yes";
            case TIE -> "tie";
            case WORSE -> "no (worse)";
        };
    }
}
