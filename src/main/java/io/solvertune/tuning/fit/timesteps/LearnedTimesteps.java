package io.solvertune.tuning.fit.timesteps;

import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.TunedMethods;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Learned timesteps as a method, judged against the best untuned solver. Per NFE, every variant (an untuned solver
 * and its spacing; the first is the best untuned baseline's) has its grid optimised on the fit rows
 * ({@link TimestepOptimizer} on the {@link FinalStateObjective}) from two starts: its own spacing's grid and the
 * {@link GitsInitialiser GITS} grid. The published grid is the one with the lowest absolute error on the selection rows
 * among every learned grid and every variant's untuned grid (an untuned grid that wins is published as it is), and it
 * is validated on held-out seeds against its own base (its solver on the untuned spacing it started from) and the best
 * untuned baseline. The result is a {@link CoefficientSet} of method {@code TIMESTEPS}: the base solver on an explicit
 * grid, with the optimisation's starts, trace and settings in its provenance.
 *
 * <p>{@link #joint} combines the grid with a coefficient method (DC-Solver, IIA, D-ODE): for each of the method's
 * bases, the grid is learned for the plain base first, then the coefficients are fitted on it (one round of
 * alternation, as S4S-Alt starts); the variant is chosen by absolute error ({@link TunedMethods.Selection}).
 */
public final class LearnedTimesteps {

    /** Method name of the plain learned grids (in summaries and publish candidates). */
    public static final String METHOD = "timesteps";

    /**
     * Settings.
     *
     * @param optimizer the optimiser's settings
     * @param gits      the GITS initialiser's settings, or null for none
     * @param gitsRows  fit rows the GITS teacher grid is computed on (the first ones)
     */
    public record Settings(TimestepOptimizer.Settings optimizer, GitsInitialiser.Settings gits, int gitsRows) {
        public Settings {
            Objects.requireNonNull(optimizer, "timesteps: optimizer settings are required");
            if (gits != null && gitsRows < 1) {
                throw new IllegalArgumentException("timesteps: gitsRows must be >= 1");
            }
        }

        /** CMA-ES with 200 evaluations; GITS on 60 logSNR intervals and 32 rows. */
        public static Settings defaults() {
            return new Settings(TimestepOptimizer.Settings.defaults(), GitsInitialiser.Settings.defaults(), 32);
        }
    }

    /** An untuned solver and the spacing its grid starts from. */
    public record Variant(SolverSpec solver, TimestepSpacing spacing) {
        public Variant {
            Objects.requireNonNull(solver, "timesteps variant: solver is required");
            Objects.requireNonNull(spacing, "timesteps variant: spacing is required");
        }

        /**
         * DPM-Solver-v3 ({@code snapped}, the official sampler on {@code spacing}) as a variant whose grid can move
         * off the statistics grid: the solver with {@link DpmSolverV3.Positions#INTERPOLATED} positions, starting from
         * the times {@code snapped} runs at {@code nfe} (its spacing snapped to the statistics grid; the ends are
         * {@code tStart, tEnd} exactly, which must be the statistics' range). On that start grid the variant samples
         * as {@code snapped} does (same grid positions), so its untuned grid is the snapped v3.
         */
        public static Variant dpmSolverV3(DpmSolverV3 snapped, TimestepSpacing spacing, NoiseSchedule schedule,
                                          double tStart, double tEnd, int nfe) {
            if (snapped.positions() != DpmSolverV3.Positions.SNAPPED) {
                throw new IllegalArgumentException("timesteps variant: start from the snapped DPM-Solver-v3");
            }
            double eps = 1e-9;
            if (Math.abs(snapped.ems().tStart() - tStart) > eps * tStart
                    || Math.abs(snapped.ems().tEnd() - tEnd) > eps * tEnd) {
                throw new IllegalArgumentException("timesteps variant: the DPM-Solver-v3 statistics cover t in ["
                        + snapped.ems().tEnd() + ", " + snapped.ems().tStart() + "], the teacher runs on [" + tEnd
                        + ", " + tStart + "]");
            }
            double[] t = snapped.create().grid(schedule, new io.solvertune.numerics.solver.SamplerConfig(snapped,
                    spacing, nfe, snapped.ems().tStart(), snapped.ems().tEnd(), true, false), snapped.ems().tStart(),
                    snapped.ems().tEnd());
            t[0] = tStart;
            t[t.length - 1] = tEnd;
            return new Variant(snapped.withPositions(DpmSolverV3.Positions.INTERPOLATED),
                    new TimestepSpacing.Explicit(t));
        }

        /** The variant of an untuned candidate (the best baseline). */
        public static Variant of(Candidate c) {
            return new Variant(c.solver(), c.spacing());
        }

        public String label() {
            return solver.label() + " " + spacing.id() + (spacing instanceof TimestepSpacing.Karras k
                    ? "(" + k.rho() + ")" : spacing instanceof TimestepSpacing.PowerTime p ? "(" + p.rho() + ")" : "");
        }
    }

    /** One variant's learned grid. */
    public record Learned(Variant variant, int nfe, double[] startGrid, double[] gitsGrid, GridParameterisation.Coordinate
            coordinate, TimestepOptimizer.Result result, String gitsFailure) {
    }

    /**
     * The outcome at one NFE.
     *
     * @param nfe      model calls
     * @param chosen   the published set, validated
     * @param select   its error on the selection rows
     * @param heldOut  its held-out error
     * @param base     its own base's held-out error (the variant's solver on its untuned spacing)
     * @param baseline the best untuned baseline's held-out error at this NFE (null if not given)
     * @param learned  every variant's learned grid, in variant order
     * @param selects  selection errors: per variant, learned then untuned
     * @param seconds  wall time
     * @param failures variants that could not run, with the reason
     */
    public record Outcome(int nfe, CoefficientSet chosen, Evaluation.Result select, Evaluation.Result heldOut,
                          Evaluation.Result base, Evaluation.Result baseline, List<Learned> learned,
                          List<Evaluation.Result> selects, double seconds, List<String> failures) {
    }

    /**
     * Where learning keeps its progress, so that an interrupted run continues: a {@link TimestepOptimizer.Journal}
     * per (variant, NFE) and the GITS grid per step count ({@link DirectoryCheckpoints} keeps them in files).
     */
    public interface Checkpoints {
        /** The journal of the optimisation of {@code v}'s grid at {@code nfe}. */
        TimestepOptimizer.Journal journal(Variant v, int nfe);

        /** The GITS grid of {@code steps} steps: the stored one, or {@code compute}d and stored. */
        double[] gits(int steps, java.util.function.Supplier<double[]> compute);

        /** Nothing kept. */
        Checkpoints NONE = new Checkpoints() {
            @Override
            public TimestepOptimizer.Journal journal(Variant v, int nfe) {
                return TimestepOptimizer.Journal.NONE;
            }

            @Override
            public double[] gits(int steps, java.util.function.Supplier<double[]> compute) {
                return compute.get();
            }
        };
    }

    private LearnedTimesteps() {
    }

    /** The key of a variant's grid at one NFE ({@link #joint}'s known grids). */
    public static String gridKey(Variant v, int nfe) {
        return v.label() + "|" + nfe;
    }

    /** Learns the grid of one variant on the fit rows ({@code fitTargets} must be the context's rows). */
    public static Learned learn(FitContext ctx, Evaluation.Targets fitTargets, Variant v, int nfe, Settings s) {
        return learn(ctx, fitTargets, v, nfe, s, Checkpoints.NONE);
    }

    /** {@link #learn} keeping its progress in {@code cp}. */
    public static Learned learn(FitContext ctx, Evaluation.Targets fitTargets, Variant v, int nfe, Settings s,
                                Checkpoints cp) {
        if (!Arrays.equals(ctx.seeds(), fitTargets.seeds())) {
            throw new IllegalArgumentException("timesteps: the fit targets must be the context's rows");
        }
        FinalStateObjective obj = new FinalStateObjective(ctx.model(), ctx.guidance(), fitTargets, v.solver(), true,
                nfe, ctx.batch(), ctx.dtype());
        int steps = obj.steps();
        GridParameterisation p = new GridParameterisation(ctx.model().schedule(), ctx.tStart(), ctx.tEnd(), steps);
        double[] start = v.spacing().times(ctx.model().schedule(), ctx.tStart(), ctx.tEnd(), steps);
        List<double[]> starts = new ArrayList<>();
        starts.add(start);
        double[] gits = null;
        String gitsFailure = null;
        if (s.gits() != null && steps >= 2) {
            try {
                gits = cp.gits(steps, () -> GitsInitialiser.grid(ctx.first(Math.min(s.gitsRows(), ctx.rows())), steps,
                        s.gits()).grid());
                if (!Arrays.equals(gits, start)) {
                    starts.add(gits);
                }
            } catch (java.util.concurrent.CancellationException e) {
                throw e;   // cancelled: no failure of this variant
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                gitsFailure = e.getMessage();
            }
        }
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(p, g -> obj.evaluate(g).meanMse(), starts,
                s.optimizer(), cp.journal(v, nfe));
        ctx.progress().report(METHOD, 1, 1, String.format(Locale.ROOT, "NFE %d %s: fit MSE %.5g (start %.5g%s), %d "
                + "evaluations%s, %.1f s", nfe, v.label(), r.loss(), r.startLosses()[0], starts.size() > 1
                ? String.format(Locale.ROOT, ", GITS %.5g", r.startLosses()[1]) : "", r.evaluations(),
                r.replayed() > 0 ? " (" + r.replayed() + " replayed from the journal)" : "", r.seconds()));
        return new Learned(v, nfe, start, gits, p.coordinate(), r, gitsFailure);
    }

    /**
     * Learns every variant's grid at {@code nfe}, chooses by absolute selection error and validates on
     * {@code heldOut}. {@code baseline} (optional): the best untuned baseline's choice at this NFE, scored on
     * {@code heldOut}.
     */
    public static Outcome run(FitContext ctx, Evaluation.Targets fitTargets, Evaluation.Targets select,
                              Evaluation.Targets heldOut, int nfe, List<Variant> variants, BaselineSweep.Choice baseline,
                              Settings s) {
        return run(ctx, fitTargets, select, heldOut, nfe, variants, baseline, s, Checkpoints.NONE);
    }

    /** {@link #run} keeping the learning's progress in {@code cp}. */
    public static Outcome run(FitContext ctx, Evaluation.Targets fitTargets, Evaluation.Targets select,
                              Evaluation.Targets heldOut, int nfe, List<Variant> variants, BaselineSweep.Choice baseline,
                              Settings s, Checkpoints cp) {
        if (variants == null || variants.isEmpty()) {
            throw new IllegalArgumentException("timesteps: at least one variant is required");
        }
        long t0 = System.nanoTime();
        List<Learned> learned = new ArrayList<>();
        List<Evaluation.Result> selects = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        CoefficientSet best = null;
        Evaluation.Result bestSel = null;
        for (Variant v : variants) {
            if (Candidate.of(v.solver(), v.spacing()).stepsFor(nfe) < 1) {
                failures.add(v.label() + ": cannot spend exactly " + nfe + " NFE");
                continue;
            }
            Learned l;
            try {
                l = learn(ctx, fitTargets, v, nfe, s, cp);
            } catch (java.util.concurrent.CancellationException e) {
                throw e;   // cancelled: no failure of this variant
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                failures.add(v.label() + ": " + e.getMessage());
                continue;
            }
            learned.add(l);
            CoefficientSet tuned = set(ctx, l, true);
            CoefficientSet untuned = set(ctx, l, false);
            for (CoefficientSet c : List.of(tuned, untuned)) {
                Evaluation.Result r = Evaluation.evaluate(ctx.model(), ctx.guidance(), select, candidate(c), nfe,
                        ctx.batch(), ctx.dtype(), 0).result();
                selects.add(r);
                if (bestSel == null || r.meanMse() < bestSel.meanMse()) {
                    best = c;
                    bestSel = r;
                }
            }
        }
        if (best == null) {
            return new Outcome(nfe, null, null, null, null, baseline == null ? null : baseline.heldOut(), learned,
                    selects, (System.nanoTime() - t0) / 1e9, failures);
        }
        Evaluation.Result held = Evaluation.evaluate(ctx.model(), ctx.guidance(), heldOut, candidate(best), nfe,
                ctx.batch(), ctx.dtype(), 0).result();
        Evaluation.Result base = best.baseSpacing() == null ? held : Evaluation.evaluate(ctx.model(), ctx.guidance(),
                heldOut, TunedMethods.baseCandidate(best), nfe, ctx.batch(), ctx.dtype(), 0).result();
        Evaluation.Result bl = baseline == null ? null : baseline.heldOut();
        CoefficientSet.Validation val = new CoefficientSet.Validation(held.seeds(), held.meanMse(), held.stdErr(),
                base.meanMse(), base.stdErr(), CoefficientSet.Verdict.of(held, base),
                baseline == null ? null : baseline.best().name(), bl == null ? null : bl.meanMse(),
                bl == null ? null : CoefficientSet.Verdict.of(held, bl)).withQuantiles(held, base, bl);
        return new Outcome(nfe, best.withValidation(val), bestSel, held, base, bl, learned, selects,
                (System.nanoTime() - t0) / 1e9, failures);
    }

    /** The evaluation candidate of a timesteps set: its base solver on its grid. */
    public static Candidate candidate(CoefficientSet set) {
        return new Candidate(name(set), set.base(), set.spacing(), true, false, null, null);
    }

    /** Display name: {@code timesteps <solver> learned from <spacing>} or {@code ... <spacing>} for an untuned grid. */
    public static String name(CoefficientSet set) {
        return METHOD + " " + set.base().label() + (set.baseSpacing() != null ? " learned from "
                + set.baseSpacing().id() : " " + set.spacing().id() + " (untuned)");
    }

    /** The set of a learned grid ({@code learnedGrid}) or of the variant's untuned grid. */
    public static CoefficientSet set(FitContext ctx, Learned l, boolean learnedGrid) {
        TimestepOptimizer.Result r = l.result();
        double[] grid = learnedGrid ? r.grid() : l.startGrid();
        int steps = grid.length - 1;
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("variant", l.variant().label());
        settings.put("coordinate", l.coordinate().name().toLowerCase(Locale.ROOT));
        settings.put("optimizer", "cma-es");
        settings.put("evaluations", r.evaluations());
        settings.put("startGrid", l.startGrid());
        if (l.gitsGrid() != null) {
            settings.put("gitsGrid", l.gitsGrid());
        }
        if (l.gitsFailure() != null) {
            settings.put("gitsFailure", l.gitsFailure());
        }
        settings.put("startLosses", r.startLosses());
        settings.put("fromStart", r.fromStart() == 0 ? "spacing" : "gits");
        List<List<Number>> trace = new ArrayList<>();
        for (TimestepOptimizer.TracePoint tp : r.trace()) {
            trace.add(List.of(tp.evaluation(), tp.start(), tp.loss()));
        }
        settings.put("trace", trace);
        List<List<Number>> gens = new ArrayList<>();
        for (TimestepOptimizer.Generation g : r.generations()) {
            gens.add(List.of(g.evaluation(), g.start(), g.loss(), g.best()));
        }
        settings.put("generations", gens);
        settings.put("learnedGrid", r.grid());
        List<String> warnings = new ArrayList<>();
        if (!r.improved()) {
            warnings.add("no grid beat the best start on the fit rows");
        }
        if (!learnedGrid) {
            warnings.add("untuned grid (the variant's own spacing)");
        }
        CoefficientSet.FitReport fit = new CoefficientSet.FitReport(ctx.rows(), new double[] {learnedGrid ? r.loss()
                : r.startLosses()[0]}, new double[] {r.startLosses()[0]}, new int[] {r.evaluations()}, r.seconds(),
                warnings);
        double[][] values = new double[steps][0];
        TimestepSpacing spacing = learnedGrid ? new TimestepSpacing.Explicit(grid) : l.variant().spacing();
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.TIMESTEPS, l.variant().solver(),
                spacing, steps, l.nfe(), grid, List.of(), values, fit, null, ctx.provenanceWith(settings),
                learnedGrid ? l.variant().spacing() : null);
    }

    /**
     * A coefficient method on learned grids: for each of {@code method}'s variants on {@code spacing} (plus
     * {@code start}, the best untuned baseline's solver, first), the grid is learned for the plain base and the
     * coefficients are fitted on it; the set's own base is the base solver on the untuned spacing. Grids are learned
     * once per (base, spacing, NFE).
     */
    public static TunedMethods.Method joint(TunedMethods.Method method, Evaluation.Targets fitTargets, Variant start,
                                            Settings s) {
        return joint(method, fitTargets, start, s, Checkpoints.NONE, new HashMap<>());
    }

    /**
     * {@link #joint} with grids already learned ({@code learned}, by {@link #gridKey}; the fit rows must be the same)
     * and the progress of the others kept in {@code cp}; every grid it learns is added to {@code learned}.
     */
    public static TunedMethods.Method joint(TunedMethods.Method method, Evaluation.Targets fitTargets, Variant start,
                                            Settings s, Checkpoints cp, Map<String, Learned> learned) {
        List<SolverSpec> bases = new ArrayList<>();
        bases.add(start.solver());
        method.variants().stream().map(TunedMethods.Variant::base).filter(b -> !bases.contains(b)).forEach(bases::add);
        return joint(method, fitTargets, start, s, cp, learned, bases);
    }

    /**
     * {@link #joint} on exactly the given {@code bases} (in order), each on {@code start}'s spacing.
     */
    public static TunedMethods.Method joint(TunedMethods.Method method, Evaluation.Targets fitTargets, Variant start,
                                            Settings s, Checkpoints cp, Map<String, Learned> learned,
                                            List<SolverSpec> bases) {
        List<TunedMethods.Variant> variants = new ArrayList<>();
        for (SolverSpec b : bases) {
            TunedMethods.Variant w = new TunedMethods.Variant(b, start.spacing());
            if (!variants.contains(w)) {
                variants.add(w);
            }
        }
        TunedMethods.Fitter fitter = (ctx, base, spacing, nfe) -> {
            Variant v = new Variant(base, spacing);
            String key = gridKey(v, nfe);
            Learned l = learned.get(key);
            if (l == null) {
                l = learn(ctx, fitTargets, v, nfe, s, cp);
                learned.put(key, l);
            }
            double[] grid = l.result().grid();
            CoefficientSet fitted = method.fitter().fit(ctx, base, new TimestepSpacing.Explicit(grid), nfe);
            if (!fitted.base().equals(base)) {
                throw new IllegalArgumentException(method.name() + " does not run on " + base.label());
            }
            return fitted.withBaseSpacing(spacing);
        };
        return new TunedMethods.Method(method.name() + "+" + METHOD, fitter, method.spec(), variants);
    }
}
