package io.solvertune.cli;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.MethodCatalog;
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

/**
 * {@code solvertune fit}: fits coefficient methods (DC-Solver, D-ODE, IIA, BIIA) on training teacher rows, chooses
 * the variant per NFE on other training rows, validates on held-out seeds against the base solver and the best untuned
 * baseline, and writes every chosen {@link CoefficientSet} (with its validation) as JSON.
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

    @CommandLine.Option(names = "--resume", description = "continue an earlier run into the same --out: keep its "
            + "summary rows, skip the (method, NFE) pairs whose set is written, reuse its baseline choice (re-scored)")
    boolean resume;

    @CommandLine.Option(names = "--baseline", paramLabel = "SUMMARY", description = "reuse the best untuned baseline "
            + "chosen by an earlier fit (its summary.json) instead of sweeping the 40 untuned candidates again; "
            + "it is re-scored and must match")
    Path baselineFile;

    @CommandLine.Option(names = "--progress", description = "print each fitted variant's selection error and "
            + "each baseline candidate to stderr as it finishes")
    boolean progress;

    @CommandLine.Option(names = "--batch", defaultValue = "64", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (coefficient sets, summary.json)")
    Path out;

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
        io.solvertune.tuning.Progress prog = !progress ? io.solvertune.tuning.Progress.NONE
                : (stage, done, total, message) -> {
                    e.printf(Locale.ROOT, "[%s %d/%d] %s%n", stage, done, total, message);
                    e.flush();
                };
        List<TunedMethods.Method> chosen = new ArrayList<>();
        MethodCatalog.DcOptions dc = dcOptions(dcBounds);
        for (String name : methods) {
            chosen.add(MethodCatalog.method(name.trim(), dc));
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
        Evaluation.Targets fitT = Evaluation.Targets.load(tr, fitFrom, fitTo);
        Evaluation.Targets selT = Evaluation.Targets.load(tr, selFrom, selTo);
        Evaluation.Targets hoT = Evaluation.Targets.load(ho, 0, ho.size());
        Files.createDirectories(out);
        Path sum = out.resolve("summary.json");
        Map<String, Object> summary = new LinkedHashMap<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        Path baselineFrom = baselineFile;
        if (resume && Files.isRegularFile(sum)) {
            summary = Json.MAPPER.readValue(sum.toFile(),
                    new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() { });
            checkSame(summary, "fitRows", List.of(fitFrom, fitTo), "--fit-rows");
            checkSame(summary, "selectRows", List.of(selFrom, selTo), "--select");
            checkSame(summary, "heldOutSeeds", ho.size(), "--heldout");
            checkSame(summary, "gainTest", gainTest.id(), "--gain-test");
            checkSame(summary, "dcBounds", List.of(dc.lower(), dc.upper()), "--dc-bounds");
            rows = Json.MAPPER.convertValue(summary.getOrDefault("results", List.of()),
                    new com.fasterxml.jackson.core.type.TypeReference<List<Map<String, Object>>>() { });
            if (baselineFrom == null) {
                baselineFrom = sum;
            }
        }
        summary.put("fitRows", List.of(fitFrom, fitTo));
        summary.put("selectRows", List.of(selFrom, selTo));
        summary.put("heldOutSeeds", ho.size());
        summary.put("gainTest", gainTest.id());
        summary.put("dcBounds", List.of(dc.lower(), dc.upper()));
        try (Denoiser d = m.build()) {
            CoefficientSet.Provenance prov = new CoefficientSet.Provenance(m.hash(), d.schedule().spec(), m.guidance(),
                    tr.meta().teacher(), null, io.solvertune.numerics.CodeVersion.get(), null, null);
            FitContext ctx = new FitContext(d, m.guidance(), fitT.seeds(), fitT.initial(), fitT.sampleShape(),
                    fitT.tStart(), fitT.tEnd(), m.dtype(), batch, prog, prov);
            long t0 = System.nanoTime();
            List<BaselineSweep.Choice> base = baseline(d, m, selT, hoT, baselineFrom, prog);
            o.printf(Locale.ROOT, "best untuned baseline (chosen on rows %d..%d%s, %d held-out seeds, %.1f s)%n",
                    selFrom, selTo - 1, baselineFrom == null ? "" : "; stored choice from " + baselineFrom + " re-scored",
                    ho.size(), (System.nanoTime() - t0) / 1e9);
            o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. |%n|---:|---|---:|%n");
            for (BaselineSweep.Choice c : base) {
                o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g |%n", c.nfe(), c.best().name(), c.heldOut().meanMse(),
                        c.heldOut().stdErr());
            }
            // NFEs of an earlier run that this one does not ask for keep their stored choice (their rows refer to it)
            java.util.TreeMap<Integer, Object> byNfe = new java.util.TreeMap<>();
            if (summary.get("baseline") instanceof List<?> stored) {
                for (Object c : stored) {
                    if (c instanceof Map<?, ?> mc && mc.get("nfe") instanceof Number n) {
                        byNfe.put(n.intValue(), c);
                    }
                }
            }
            for (BaselineSweep.Choice c : base) {
                byNfe.put(c.nfe(), c);
            }
            summary.put("baseline", new ArrayList<>(byNfe.values()));
            for (TunedMethods.Method method : chosen) {
                o.printf(Locale.ROOT, "%s (fitted on rows %d..%d, %d variants)%n", method.name(), fitFrom, fitTo - 1,
                        method.variants().size());
                o.printf(Locale.ROOT, "| NFE | chosen on train | held-out MSE ± s.e. | base MSE | vs base | beats base | "
                        + "vs best baseline | beats baseline | fit s |%n|---:|---|---:|---:|---:|---|---:|---|---:|%n");
                for (int k = 0; k < nfes.length; k++) {
                    int nfe = nfes[k];
                    if (resume && done(rows, method.name(), nfe)) {
                        o.printf(Locale.ROOT, "| %d | (kept from %s) | | | | | | | |%n", nfe, sum.getFileName());
                        continue;
                    }
                    // one NFE at a time: its set and summary row are on disk before the next NFE starts
                    TunedMethods.Outcome r = TunedMethods.run(method, ctx, d, m.guidance(), selT, hoT, new int[] {nfe},
                            List.of(base.get(k)), batch, m.dtype(), prog, gainTest).get(0);
                    if (r.chosen() == null) {
                        o.printf(Locale.ROOT, "| %d | %s | | | | | | | %.1f |%n", r.nfe(), r.failures().isEmpty()
                                ? "(no variant spends exactly " + r.nfe() + " NFE)"
                                : "(no variant could be fitted: " + String.join("; ", r.failures()) + ")", r.fitSeconds());
                        o.flush();
                        continue;
                    }
                    CoefficientSet.Validation v = r.chosen().validation();
                    o.printf(Locale.ROOT, "| %d | %s | %.5g ± %.2g | %.5g | %.3f | %s | %.3f | %s | %.1f |%n", r.nfe(),
                            TunedMethods.name(method.name(), r.chosen()) + (r.chosen().isNeutral() ? " (reset to neutral)"
                                    : ""), v.mse(), v.stdErr(), v.baseMse(),
                            v.mse() / v.baseMse(), verdict(v.vsBase()), v.mse() / v.baselineMse(), verdict(v.vsBaseline()),
                            r.fitSeconds());
                    o.flush();
                    String file = method.name() + "-nfe" + r.nfe() + ".json";
                    Files.writeString(out.resolve(file), r.chosen().toJson());
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("method", method.name());
                    row.put("nfe", r.nfe());
                    row.put("config", TunedMethods.name(method.name(), r.chosen()));
                    row.put("file", file);
                    row.put("resetToNeutral", r.chosen().isNeutral());
                    row.put("selectMse", r.select().meanMse());
                    row.put("heldOutMse", v.mse());
                    row.put("heldOutStdErr", v.stdErr());
                    row.put("baseMse", v.baseMse());
                    row.put("baseStdErr", v.baseStdErr());
                    row.put("vsBase", v.vsBase());
                    row.put("baseline", v.baseline());
                    row.put("baselineMse", v.baselineMse());
                    row.put("vsBaseline", v.vsBaseline());
                    row.put("publishable", v.publishable());
                    row.put("fitSeconds", r.fitSeconds());
                    row.put("failures", r.failures());
                    rows = record(sum, summary, rows, row);
                }
            }
        }
        record(sum, summary, rows, null);
        o.println("wrote " + sum);
        return 0;
    }

    /** Whether an earlier run already wrote {@code method} at {@code nfe} (its row and its set file). */
    private boolean done(List<Map<String, Object>> rows, String method, int nfe) {
        for (Map<String, Object> r : rows) {
            if (method.equals(r.get("method")) && r.get("nfe") instanceof Number n && n.intValue() == nfe
                    && r.get("file") instanceof String f && Files.isRegularFile(out.resolve(f))) {
                return true;
            }
        }
        return false;
    }

    private static void checkSame(Map<String, Object> stored, String key, Object now, String flag) {
        Object was = stored.get(key);
        if (was != null && !Json.MAPPER.valueToTree(was).equals(Json.MAPPER.valueToTree(now))) {
            throw new IllegalArgumentException(flag + ": --resume continues a run made with " + key + " " + was
                    + ", not " + now + " (use another --out, or the same settings)");
        }
    }

    /**
     * Adds {@code row} (replacing the same method and NFE) and writes the summary. With {@code --resume} the rows are
     * those on disk at this moment, under a file lock, so fits of different methods may run side by side into one
     * {@code --out}; without it this run's rows replace the file's.
     */
    private List<Map<String, Object>> record(Path sum, Map<String, Object> summary, List<Map<String, Object>> rows,
                                             Map<String, Object> row) throws java.io.IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(out.resolve(".summary.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock lock = ch.lock()) {
            List<Map<String, Object>> now = new ArrayList<>(rows);
            if (resume && Files.isRegularFile(sum)) {
                now = Json.MAPPER.convertValue(Json.MAPPER.readTree(sum.toFile()).path("results"),
                        new com.fasterxml.jackson.core.type.TypeReference<List<Map<String, Object>>>() { });
                if (now == null) {
                    now = new ArrayList<>();
                }
            }
            if (row != null) {
                now.removeIf(x -> row.get("method").equals(x.get("method")) && row.get("nfe").equals(x.get("nfe")));
                now.add(row);
            }
            summary.put("results", now);
            writeAtomically(sum, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(summary));
            return now;
        }
    }

    private static void writeAtomically(Path file, String text) throws java.io.IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The best untuned baseline per NFE: swept over the untuned candidates, or, for the NFEs that {@code stored} (a
     * fit summary.json) holds, its stored choice re-scored on the selection and held-out rows. The re-scored
     * held-out MSE must match the stored one, so a summary of another model or held-out set is refused.
     */
    private List<BaselineSweep.Choice> baseline(Denoiser d, ModelOptions.Loaded m, Evaluation.Targets selT,
                                                Evaluation.Targets hoT, Path stored,
                                                io.solvertune.tuning.Progress prog) throws java.io.IOException {
        Map<Integer, com.fasterxml.jackson.databind.JsonNode> kept = new java.util.HashMap<>();
        if (stored != null) {
            if (!Files.isRegularFile(stored)) {
                throw new IllegalArgumentException("--baseline: no such file " + stored);
            }
            com.fasterxml.jackson.databind.JsonNode list;
            try {
                list = Json.MAPPER.readTree(stored.toFile()).path("baseline");
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("--baseline: " + stored + " is not JSON: " + e.getOriginalMessage());
            }
            if (!list.isArray()) {
                throw new IllegalArgumentException("--baseline: " + stored + " has no \"baseline\" list (expected the "
                        + "summary.json of an earlier fit)");
            }
            for (com.fasterxml.jackson.databind.JsonNode c : list) {
                kept.put(c.path("nfe").asInt(), c);
            }
        }
        List<BaselineSweep.Choice> out = new ArrayList<>();
        for (int nfe : nfes) {
            com.fasterxml.jackson.databind.JsonNode c = kept.get(nfe);
            if (c == null) {
                out.addAll(BaselineSweep.run(d, m.guidance(), selT, hoT, BaselineSweep.untunedCandidates(),
                        new int[] {nfe}, batch, m.dtype(), prog));
                continue;
            }
            io.solvertune.tuning.eval.Candidate winner;
            try {
                winner = Json.MAPPER.treeToValue(c.path("best"), io.solvertune.tuning.eval.Candidate.class);
            } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
                throw new IllegalArgumentException("--baseline: the stored choice for NFE " + nfe + " in " + stored
                        + " is not a candidate: " + e.getMessage());
            }
            Evaluation.Result trainR = Evaluation.evaluate(d, m.guidance(), selT, winner, nfe, batch, m.dtype(), 0).result();
            Evaluation.Result held = Evaluation.evaluate(d, m.guidance(), hoT, winner, nfe, batch, m.dtype(), 0).result();
            double was = c.path("heldOut").path("meanMse").asDouble(Double.NaN);
            if (!(Math.abs(held.meanMse() - was) <= 1e-4 * Math.abs(was))) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--baseline: the stored choice for NFE %d "
                        + "(%s) had held-out MSE %.6g in %s but scores %.6g here: made with another model or held-out "
                        + "set?", nfe, winner.name(), was, stored, held.meanMse()));
            }
            out.add(new BaselineSweep.Choice(nfe, winner, trainR, held, c.path("candidatesTried").asInt()));
        }
        return out;
    }

    private static String verdict(CoefficientSet.Verdict v) {
        return v == null ? "" : switch (v) {
            case BEATS -> "yes";
            case TIE -> "tie";
            case WORSE -> "no (worse)";
        };
    }
}
