package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Alternating rounds of ConsistencySolver's coefficients and grid ({@code consistency.refineRounds}, S4S-Alt style).
 * Round 1 is the stage without rounds: the network trained, its tables validated and their grids refined (the same
 * files). Round k >= 2 trains a fresh network (same settings and seed) on round k-1's final grid of every NFE that has
 * a table (its refined grid where one was kept, else the table's own), exactly as the stage does with {@code grids}
 * set to those grids (its own trainer checkpoint and refinement journals under {@code round<k>/}, so a killed stage
 * resumes), and refines its tables again. The rounds stop after {@code refineRounds}, or after a round that kept no
 * refined grid (the next would train on the grids it trained on).
 *
 * <p>Every NFE's choice is the table of lowest selection-row MSE among every round's table and refined table (the
 * first of equals, round 1's table first). A choice from round k >= 2 is published as
 * {@code <method>+rounds-nfe<n>.json}: the round's table with its held-out validation (against its base, and the best
 * untuned baseline, paired) and a {@code rounds} entry in its provenance settings (its round, the grid trained on in
 * every round up to it, every round's refinement of that NFE).
 */
final class ConsistencyRounds {
    /** Suffix of the method of a choice from a round of at least 2 ({@code consistency-solver+rounds}). */
    static final String METHOD_SUFFIX = "+rounds";
    /** Which of a round's two tables of an NFE. */
    enum Kind {
        /** The round's table: trained on its grid. */
        @com.fasterxml.jackson.annotation.JsonProperty("table") TABLE,
        /** The round's refined table: its grid optimised for the fixed coefficients. */
        @com.fasterxml.jackson.annotation.JsonProperty("refined") REFINED;

        /** As in the summary and the command's output. */
        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private ConsistencyRounds() {
    }

    /**
     * One NFE in one round.
     *
     * @param nfe                  model calls
     * @param grid                 the grid the round's network was trained and its table run on
     * @param table                the table's file (relative to the work directory)
     * @param selectionMse         its mean MSE on the selection rows
     * @param heldOutMse           its held-out mean MSE
     * @param heldOutStdErr        standard error of that
     * @param refined              the refined table's file, when the refinement was kept (else absent)
     * @param refinedSelectionMse  its selection-row MSE (else absent)
     * @param refinedHeldOutMse    its held-out mean MSE (else absent)
     * @param refinedHeldOutStdErr standard error of that (else absent)
     * @param chosen               the lower on the selection rows in this round
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RoundTable(int nfe, double[] grid, String table, double selectionMse, double heldOutMse,
                      double heldOutStdErr, String refined, Double refinedSelectionMse, Double refinedHeldOutMse,
                      Double refinedHeldOutStdErr, Kind chosen) {
    }

    /**
     * One round.
     *
     * @param round           1, 2, ...
     * @param summary         the round's summary (round 1: the stage's own, {@value ConsistencyStage#FILE})
     * @param grids           the grids the round trained on (absent for round 1 on the training's spacing)
     * @param refinementsKept how many of its tables kept a refined grid (0 ends the rounds)
     * @param tables          its tables, by NFE
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Round(int round, String summary, List<ConsistencyGrid> grids, int refinementsKept,
                 List<RoundTable> tables) {
    }

    /**
     * One NFE's choice over the rounds.
     *
     * @param nfe          model calls
     * @param round        the round of the chosen table
     * @param chosen       table or refined table
     * @param from         the chosen table's file in its round
     * @param selectionMse its selection-row MSE (the lowest)
     * @param file         the file it is published as: round 1's own file, or {@code <method>+rounds-nfe<n>.json}
     */
    record Choice(int nfe, int round, Kind chosen, String from, double selectionMse, String file) {
    }

    /** The stage with {@code p.training().refineRounds()} rounds, writing into {@code dir}. */
    static TypedStage.Output<StageOutputs.Consistency> run(ConsistencyStage stage, StageContext ctx,
                                                          StageParams.Consistency p, Path dir) throws Exception {
        if (p.trainerOrRl() == ConsistencyAblations.Trainer.CMAES) {
            throw new IllegalArgumentException("refineRounds: the rounds retrain the RL or DIRECT trainer's network "
                    + "on the refined grids, the CMAES ablation has none");
        }
        TypedStage.Output<StageOutputs.Consistency> first = stage.oneRound(ctx, p, dir);
        List<String> files = new ArrayList<>(first.files());
        Path summaryFile = dir.resolve(ConsistencyStage.FILE);
        ConsistencyStage.Summary s1 = ConsistencyStage.read(summaryFile);
        List<ConsistencyStage.Summary> summaries = new ArrayList<>(List.of(s1));
        List<String> summaryFiles = new ArrayList<>(List.of(StageRuntime.relative(ctx, summaryFile)));
        List<List<ConsistencyGrid>> trainedOn = new ArrayList<>();
        trainedOn.add(s1.grids());
        for (int k = 2; k <= p.training().refineRounds(); k++) {
            ConsistencyStage.Summary last = summaries.get(summaries.size() - 1);
            if (last.refined() == null || last.refined().isEmpty()) {
                ctx.log("INFO", String.format(Locale.ROOT, "%s: round %d kept no refined grid; no round %d",
                        ctx.stage().name(), k - 1, k));
                break;
            }
            StageRuntime.checkCancelled(ctx);
            List<ConsistencyGrid> grids = nextGrids(ctx, last, k - 1);
            Path rd = dir.resolve("round" + k);
            Files.createDirectories(rd);
            ctx.log("INFO", String.format(Locale.ROOT, "%s: round %d: a new network on round %d's grids (NFE %s)",
                    ctx.stage().name(), k, k - 1, grids.stream().map(ConsistencyGrid::nfe).toList()));
            TypedStage.Output<StageOutputs.Consistency> o = stage.oneRound(new InRound(ctx, k),
                    roundParams(p, grids), rd);
            files.addAll(o.files());
            summaries.add(ConsistencyStage.read(TypedStage.file(ctx, o.value().file())));
            summaryFiles.add(o.value().file());
            trainedOn.add(grids);
        }
        StageParams.Eval e = p.eval();
        TrajectorySet train = StageRuntime.trajectories(ctx, e.train());
        Evaluation.Targets sel = Scores.targets(train, e.selectFrom(), e.selectTo());
        List<Round> rounds = new ArrayList<>();
        try (Denoiser d = StageRuntime.model(ctx)) {
            Guidance g = StageRuntime.guidance(d, e.classLabel(), e.guidance());
            for (int i = 0; i < summaries.size(); i++) {
                ConsistencyStage.Summary s = summaries.get(i);
                List<RoundTable> tables = new ArrayList<>();
                for (ConsistencyStage.Result r : s.results()) {
                    StageRuntime.checkCancelled(ctx);
                    CoefficientSet cs = read(ctx, r.file());
                    double tableSel = selection(ctx, d, g, sel, cs, e.batch());
                    ConsistencyStage.Result rr = refinedOf(s, r.nfe());
                    Double refinedSel = rr == null ? null : selection(ctx, d, g, sel, read(ctx, rr.file()), e.batch());
                    tables.add(new RoundTable(r.nfe(), cs.times(), r.file(), tableSel, r.heldOut().meanMse(),
                            r.heldOut().stdErr(), rr == null ? null : rr.file(), refinedSel,
                            rr == null ? null : rr.heldOut().meanMse(), rr == null ? null : rr.heldOut().stdErr(),
                            refinedSel != null && refinedSel < tableSel ? Kind.REFINED : Kind.TABLE));
                }
                rounds.add(new Round(i + 1, summaryFiles.get(i), trainedOn.get(i),
                        s.refined() == null ? 0 : s.refined().size(), tables));
            }
        }
        String method = first.value().method() + METHOD_SUFFIX;
        List<Choice> choices = new ArrayList<>();
        List<ConsistencyStage.Result> rounded = new ArrayList<>();
        for (RoundTable t1 : rounds.get(0).tables()) {
            int nfe = t1.nfe();
            int bestRound = 1;
            RoundTable best = t1;
            Kind kind = Kind.TABLE;
            double bestSel = t1.selectionMse();
            for (Round rd : rounds) {
                for (RoundTable t : rd.tables()) {
                    if (t.nfe() != nfe) {
                        continue;
                    }
                    if (t.selectionMse() < bestSel) {
                        bestRound = rd.round();
                        best = t;
                        kind = Kind.TABLE;
                        bestSel = t.selectionMse();
                    }
                    if (t.refinedSelectionMse() != null && t.refinedSelectionMse() < bestSel) {
                        bestRound = rd.round();
                        best = t;
                        kind = Kind.REFINED;
                        bestSel = t.refinedSelectionMse();
                    }
                }
            }
            String from = kind == Kind.REFINED ? best.refined() : best.table();
            String published = from;
            if (bestRound > 1) {
                ConsistencyStage.Summary s = summaries.get(bestRound - 1);
                ConsistencyStage.Result r = kind == Kind.REFINED ? refinedOf(s, nfe) : s.results().stream()
                        .filter(x -> x.nfe() == nfe).findFirst().orElseThrow();
                CoefficientSet cs = withRounds(read(ctx, from), provenance(rounds, bestRound, kind, nfe, summaries));
                Path f = dir.resolve(String.format(Locale.ROOT, "%s-nfe%d.json", method, nfe));
                StageCheckpoint.writeAtomically(f, cs.toJson().getBytes(StandardCharsets.UTF_8));
                published = StageRuntime.relative(ctx, f);
                files.add(published);
                rounded.add(new ConsistencyStage.Result(nfe, published, r.inference(), r.selection(), r.heldOut(),
                        r.median(), r.p99(), r.base(), r.baseMedian(), r.baseP99(), r.vsBase(), r.baseline(),
                        r.baselineScore(), r.baselineMedian(), r.baselineP99(), r.pairedDiffStdErr(), r.vsBaseline(),
                        r.selectedIteration(), r.prior()));
            }
            choices.add(new Choice(nfe, bestRound, kind, from, bestSel, published));
            ctx.log("INFO", String.format(Locale.ROOT, "%s NFE %d: round %d's %s chosen (selection MSE %.5g of %d "
                    + "rounds), published as %s", ctx.stage().name(), nfe, bestRound, kind.id(), bestSel, rounds.size(),
                    published));
        }
        Scores.write(summaryFile, s1.withRounds(rounds, choices, rounded));
        return new TypedStage.Output<>(first.value(), files);
    }

    /**
     * The grids of round {@code round + 1}: for every NFE with a table in {@code last}, its refined grid where the
     * refinement was kept, else the table's own.
     */
    static List<ConsistencyGrid> nextGrids(StageContext ctx, ConsistencyStage.Summary last, int round)
            throws java.io.IOException {
        List<ConsistencyGrid> out = new ArrayList<>();
        for (ConsistencyStage.Result r : last.results()) {
            ConsistencyStage.Result rr = refinedOf(last, r.nfe());
            String f = rr != null ? rr.file() : r.file();
            out.add(new ConsistencyGrid(r.nfe(), read(ctx, f).times(), String.format(Locale.ROOT,
                    "round %d %s grid", round, rr != null ? "refined" : "table"), null, f, null));
        }
        return out;
    }

    /** The stage's parameters of a round on {@code grids}: one round, on those grids (as {@code grids} would). */
    static StageParams.Consistency roundParams(StageParams.Consistency p, List<ConsistencyGrid> grids) {
        return new StageParams.Consistency(p.eval(), p.training().withRefineRounds(1), p.baseline(), p.baselines(),
                p.trainFrom(), p.trainer(), p.cmaesEvaluations(), p.rho(), p.reward(), null, grids);
    }

    /** The stage's context in round {@code round}: its progress messages say the round. */
    private static final class InRound extends StageContext.Forwarding {
        private final int round;

        InRound(StageContext ctx, int round) {
            super(ctx);
            this.round = round;
        }

        @Override
        public void progress(long done, long total, String message) {
            int i = message == null ? -1 : message.indexOf(": ");
            String r = "round " + round + ": ";
            super.progress(done, total, i > 0 ? message.substring(0, i + 2) + r + message.substring(i + 2)
                    : r + (message == null ? "" : message));
        }
    }

    /** The refined table's result of {@code nfe} in {@code s}, or null when none was kept. */
    static ConsistencyStage.Result refinedOf(ConsistencyStage.Summary s, int nfe) {
        return s.refined() == null ? null : s.refined().stream().filter(x -> x.nfe() == nfe).findFirst()
                .orElse(null);
    }

    /** The refinement record of {@code nfe} in {@code s}, or null. */
    static ConsistencyStage.Refinement refinementOf(ConsistencyStage.Summary s, int nfe) {
        return s.refinements() == null ? null : s.refinements().stream().filter(x -> x.nfe() == nfe).findFirst()
                .orElse(null);
    }

    /** The provenance entry {@code rounds} of a choice: its round, kind, and every round's grid and refinement. */
    private static Map<String, Object> provenance(List<Round> rounds, int round, Kind kind, int nfe,
                                                  List<ConsistencyStage.Summary> summaries) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("round", round);
        m.put("chosen", kind.id());
        m.put("rounds", rounds.size());
        List<Map<String, Object>> trace = new ArrayList<>();
        for (Round rd : rounds) {
            if (rd.round() > round) {
                break;
            }
            for (RoundTable t : rd.tables()) {
                if (t.nfe() != nfe) {
                    continue;
                }
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("round", rd.round());
                x.put("trainedOn", t.grid());
                x.put("selectionMse", t.selectionMse());
                ConsistencyStage.Refinement rf = refinementOf(summaries.get(rd.round() - 1), nfe);
                if (rf != null) {
                    x.put("refinedGrid", rf.optimisation().grid());
                    x.put("refinementKept", rf.chosen());
                    x.put("refineEvaluations", rf.optimisation().evaluations());
                    x.put("refineStartLoss", rf.optimisation().startObjective());
                    x.put("refineLoss", rf.optimisation().endObjective());
                }
                if (t.refinedSelectionMse() != null) {
                    x.put("refinedSelectionMse", t.refinedSelectionMse());
                }
                trace.add(x);
            }
        }
        m.put("trace", trace);
        return m;
    }

    /** {@code cs} with {@code rounds} in its provenance settings (its validation as it is). */
    private static CoefficientSet withRounds(CoefficientSet cs, Map<String, Object> rounds) {
        CoefficientSet.Provenance p = cs.provenance();
        Map<String, Object> settings = new LinkedHashMap<>();
        if (p != null && p.settings() != null) {
            settings.putAll(p.settings());
        }
        settings.put("rounds", rounds);
        CoefficientSet.Provenance prov = p == null ? new CoefficientSet.Provenance(null, null, null, null, null, null,
                null, settings) : new CoefficientSet.Provenance(p.modelHash(), p.schedule(), p.guidance(),
                p.teacher(), p.trainSeeds(), p.codeVersion(), p.createdAt(), settings);
        return new CoefficientSet(cs.formatVersion(), cs.method(), cs.base(), cs.spacing(), cs.steps(), cs.nfe(),
                cs.times(), cs.columns(), cs.values(), cs.fit(), cs.validation(), prov, cs.baseSpacing());
    }

    private static CoefficientSet read(StageContext ctx, String file) throws java.io.IOException {
        return CoefficientSet.fromJson(Files.readString(TypedStage.file(ctx, file)));
    }

    /** The set's mean MSE on the selection rows (as checkpoint selection and the inference choice score it). */
    private static double selection(StageContext ctx, Denoiser d, Guidance g, Evaluation.Targets sel,
                                    CoefficientSet cs, int batch) {
        return Evaluation.evaluate(d, g, sel, ConsistencyStage.candidate(cs), cs.nfe(), batch,
                StageRuntime.dtype(ctx), 0).result().meanMse();
    }
}
