package io.solvertune.tuning.fit;

import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Progress;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Fits a coefficient method (IIA, D-ODE, DC-Solver) on every variant (base solver x spacing) at every NFE, chooses
 * one variant per NFE on selection rows of the training teacher (rows the fit did not see), and validates the choice
 * on held-out seeds against its own base solver and against the best untuned baseline: the returned sets carry their
 * {@link CoefficientSet.Validation}, and only a set that beats its base by more than two paired standard errors is
 * {@linkplain CoefficientSet.Validation#publishable() publishable}.
 *
 * <p>The choice: every fitted set and its base solver are scored on the selection rows. Among the sets that gain over
 * their own base there ({@link GainTest}; by default the held-out verdict's own test, a lower mean by more than two
 * paired standard errors), the one with the lowest error is chosen. If no set does,
 * the gain of every fit is within the noise of the selection rows, and the variant whose base has the lowest error is
 * chosen with its coefficients {@linkplain CoefficientSet#reset reset} to neutral: it then samples exactly as its base
 * and ties with it on the held-out seeds, rather than publishing an overfitted set that may be worse there. (Choosing
 * by the tuned error alone picked sets that overfit the selection rows and lost to their base on held-out seeds.)
 */
public final class TunedMethods {

    /** Fits one set on one (base, spacing, NFE). */
    @FunctionalInterface
    public interface Fitter {
        CoefficientSet fit(FitContext ctx, SolverSpec base, TimestepSpacing spacing, int nfe);
    }

    /** When a fitted set counts as gaining over its base on the selection rows. */
    public enum GainTest {
        /** A lower mean error by more than two paired standard errors: the held-out verdict's own test. */
        PAIRED_MEAN,
        /**
         * {@link #PAIRED_MEAN}, or a lower mean with the mean per-seed log error ratio below zero by more than two of
         * its standard errors (better on the typical seed; per-seed errors are heavy-tailed, and one hard seed can
         * carry much of the mean and its standard error).
         */
        PAIRED_MEAN_OR_TYPICAL_SEED;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    /** How the variant is chosen on the selection rows. */
    public enum Selection {
        /** Among the sets that gain over their own base there ({@link GainTest}), the lowest error; else the best base. */
        GAIN_OVER_BASE,
        /**
         * The lowest absolute error among every fitted set and every variant's base (a base that wins is published as
         * its neutral set): the comparison with the best untuned solver decides, not the gain over a base of its own.
         */
        ABSOLUTE_ERROR
    }

    /** A base solver and a spacing. */
    public record Variant(SolverSpec base, TimestepSpacing spacing) {
        public Variant {
            Objects.requireNonNull(base, "variant: base is required");
            Objects.requireNonNull(spacing, "variant: spacing is required");
        }
    }

    /**
     * A method: its name, its fitter, how a fitted set becomes a solver, and the variants tried.
     */
    public record Method(String name, Fitter fitter, Function<CoefficientSet, SolverSpec> spec, List<Variant> variants) {
        public Method {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("method: name is required");
            }
            Objects.requireNonNull(fitter, "method: fitter is required");
            Objects.requireNonNull(spec, "method: spec is required");
            if (variants == null || variants.isEmpty()) {
                throw new IllegalArgumentException("method " + name + ": at least one variant is required");
            }
            variants = List.copyOf(variants);
        }
    }

    /**
     * The result at one NFE.
     *
     * @param nfe        model evaluations
     * @param chosen     the chosen set, validated (null if no variant could be fitted at this NFE)
     * @param select     its error on the selection rows (for a set reset to neutral: its base's error there)
     * @param heldOut    its held-out error
     * @param base       its base solver's held-out error (same seeds)
     * @param fitted     every set fitted at this NFE (unvalidated), in variant order
     * @param fitSeconds total fit time at this NFE
     * @param failures   variants whose fit failed, with the reason
     */
    public record Outcome(int nfe, CoefficientSet chosen, Evaluation.Result select, Evaluation.Result heldOut,
                          Evaluation.Result base, List<CoefficientSet> fitted, double fitSeconds, List<String> failures) {
    }

    private TunedMethods() {
    }

    /** Candidate name of a fitted set. */
    public static String name(String method, CoefficientSet set) {
        return method + " " + set.base().label() + " " + set.spacing().id();
    }

    /**
     * Runs {@code method} at every NFE. {@code baselines} (optional, one per NFE in the same order, with held-out
     * per-seed errors on {@code heldOut}) gives the comparison with the best untuned baseline.
     */
    public static List<Outcome> run(Method method, FitContext fit, Denoiser model, Guidance guidance,
                                    Evaluation.Targets select, Evaluation.Targets heldOut, int[] nfes,
                                    List<BaselineSweep.Choice> baselines, int batch, DataType dtype, Progress progress) {
        return run(method, fit, model, guidance, select, heldOut, nfes, baselines, batch, dtype, progress,
                GainTest.PAIRED_MEAN);
    }

    /** {@link #run} with the given gain test for the variant choice. */
    public static List<Outcome> run(Method method, FitContext fit, Denoiser model, Guidance guidance,
                                    Evaluation.Targets select, Evaluation.Targets heldOut, int[] nfes,
                                    List<BaselineSweep.Choice> baselines, int batch, DataType dtype, Progress progress,
                                    GainTest gainTest) {
        return run(method, fit, model, guidance, select, heldOut, nfes, baselines, batch, dtype, progress, gainTest,
                Selection.GAIN_OVER_BASE);
    }

    /** {@link #run} with the given gain test and variant choice. */
    public static List<Outcome> run(Method method, FitContext fit, Denoiser model, Guidance guidance,
                                    Evaluation.Targets select, Evaluation.Targets heldOut, int[] nfes,
                                    List<BaselineSweep.Choice> baselines, int batch, DataType dtype, Progress progress,
                                    GainTest gainTest, Selection selection) {
        if (baselines != null && baselines.size() != nfes.length) {
            throw new IllegalArgumentException("baselines: one choice per NFE expected");
        }
        List<Outcome> out = new ArrayList<>();
        for (int k = 0; k < nfes.length; k++) {
            int nfe = nfes[k];
            List<CoefficientSet> sets = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            long t0 = System.nanoTime();
            CoefficientSet best = null;          // lowest selection error among sets that beat their base there
            Evaluation.Result bestSel = null;
            CoefficientSet fallback = null;      // else: the variant whose base is best, reset to neutral
            Evaluation.Result fallbackSel = null;
            int done = 0;
            for (Variant v : method.variants()) {
                done++;
                if (Candidate.of(v.base(), v.spacing()).stepsFor(nfe) < 1) {
                    continue;
                }
                CoefficientSet set;
                try {
                    set = method.fitter().fit(fit, v.base(), v.spacing(), nfe);
                } catch (java.util.concurrent.CancellationException e) {
                throw e;   // cancelled: no failure of this variant
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
                    failures.add(v.base().label() + " " + v.spacing().id() + ": " + e.getMessage());
                    continue;
                }
                sets.add(set);
                Evaluation.Result r = Evaluation.evaluate(model, guidance, select, candidate(method, set), nfe, batch,
                        dtype, 0).result();
                Evaluation.Result b = Evaluation.evaluate(model, guidance, select, baseCandidate(set), nfe, batch,
                        dtype, 0).result();
                boolean gains = gains(r, b, gainTest);
                progress.report(method.name(), done, method.variants().size(),
                        String.format(java.util.Locale.ROOT, "NFE %d %s: select MSE %.4g (base %.4g, %s)", nfe,
                                name(method.name(), set), r.meanMse(), b.meanMse(), gains ? "gain" : "no gain"));
                boolean eligible = gains || selection == Selection.ABSOLUTE_ERROR;
                if (eligible && (bestSel == null || r.meanMse() < bestSel.meanMse())) {
                    best = set;
                    bestSel = r;
                }
                if (fallbackSel == null || b.meanMse() < fallbackSel.meanMse()) {
                    fallback = set;
                    fallbackSel = b;
                }
            }
            if (best == null && fallback != null) {
                best = neutralOnBase(model, fallback, String.format(java.util.Locale.ROOT, "reset to neutral: no variant gained over "
                        + "its base on the %d selection rows (this variant's base had the lowest selection error, "
                        + "%.5g)", fallbackSel.seeds(), fallbackSel.meanMse()));
                bestSel = fallbackSel;
            } else if (selection == Selection.ABSOLUTE_ERROR && fallback != null
                    && fallbackSel.meanMse() < bestSel.meanMse()) {
                best = neutralOnBase(model, fallback, String.format(java.util.Locale.ROOT, "reset to neutral: a variant's base had "
                        + "a lower error on the %d selection rows (%.5g) than every fitted set (best %.5g)",
                        fallbackSel.seeds(), fallbackSel.meanMse(), bestSel.meanMse()));
                bestSel = fallbackSel;
            }
            double fitSeconds = (System.nanoTime() - t0) / 1e9;
            if (best == null) {
                out.add(new Outcome(nfe, null, null, null, null, sets, fitSeconds, failures));
                continue;
            }
            Evaluation.Result held = Evaluation.evaluate(model, guidance, heldOut, candidate(method, best), nfe, batch,
                    dtype, 0).result();
            Evaluation.Result base = Evaluation.evaluate(model, guidance, heldOut, baseCandidate(best), nfe, batch,
                    dtype, 0).result();
            BaselineSweep.Choice bl = baselines == null ? null : baselines.get(k);
            CoefficientSet.Validation val = new CoefficientSet.Validation(held.seeds(), held.meanMse(), held.stdErr(),
                    base.meanMse(), base.stdErr(), CoefficientSet.Verdict.of(held, base),
                    bl == null ? null : bl.best().name(), bl == null ? null : bl.heldOut().meanMse(),
                    bl == null ? null : CoefficientSet.Verdict.of(held, bl.heldOut()))
                    .withQuantiles(held, base, bl == null ? null : bl.heldOut());
            out.add(new Outcome(nfe, best.withValidation(val), bestSel, held, base, sets, fitSeconds, failures));
        }
        return out;
    }

    /**
     * The set reset to neutral on the grid of its own base: for a set on a learned grid, the untuned spacing it was
     * learned from (so the reset samples exactly as the base that was scored), otherwise its own grid.
     */
    static CoefficientSet neutralOnBase(Denoiser model, CoefficientSet set, String reason) {
        CoefficientSet r = set.reset(reason);
        if (set.baseSpacing() == null) {
            return r;
        }
        double[] t = set.times();
        double[] base = set.baseSpacing().times(model.schedule(), t[0], t[t.length - 1], set.steps());
        return new CoefficientSet(r.formatVersion(), r.method(), r.base(), set.baseSpacing(), r.steps(), r.nfe(), base,
                r.columns(), r.values(), r.fit(), null, r.provenance(), null);
    }

    /** Whether a fitted set gains over its base on the same rows, by {@code test}. */
    static boolean gains(Evaluation.Result tuned, Evaluation.Result base, GainTest test) {
        if (!(tuned.meanMse() < base.meanMse())) {
            return false;
        }
        if (tuned.beats(base)) {
            return true;
        }
        if (test == GainTest.PAIRED_MEAN) {
            return false;
        }
        double[] t = tuned.perSeed();
        double[] b = base.perSeed();
        if (t == null || b == null || t.length != b.length || t.length < 2) {
            return false;
        }
        int n = t.length;
        double[] d = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            // a floor far below any solver error keeps exact zeros (a seed both solve exactly) finite
            d[i] = Math.log(Math.max(t[i], 1e-300)) - Math.log(Math.max(b[i], 1e-300));
            mean += d[i];
        }
        mean /= n;
        double var = 0;
        for (double x : d) {
            var += (x - mean) * (x - mean);
        }
        double se = Math.sqrt(var / (n - 1) / n);
        return mean < -2 * se;
    }

    /**
     * The set's own base: its base solver, untuned, on the set's grid, or, for a set on a learned grid, on the
     * untuned spacing the grid was learned from.
     */
    public static Candidate baseCandidate(CoefficientSet set) {
        TimestepSpacing sp = set.baseSpacing() != null ? set.baseSpacing() : set.spacing();
        return new Candidate(set.base().label() + " " + sp.id(), set.base(), sp, true, false, null, null);
    }

    /** The fitted set as an evaluation candidate (the schedule's default time range, as the fit's). */
    public static Candidate candidate(Method method, CoefficientSet set) {
        return new Candidate(name(method.name(), set), method.spec().apply(set), set.spacing(), true, false, null, null);
    }
}
