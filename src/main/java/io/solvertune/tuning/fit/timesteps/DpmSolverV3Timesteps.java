package io.solvertune.tuning.fit.timesteps;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.publish.ConfigValues;

/**
 * DPM-Solver-v3 on a learned grid (issue 17), shared by {@code learn-timesteps --v3} and the job's
 * {@code timesteps-dpmsolver-v3} stage: the best snapped setting at an NFE ({@code snapped}, the official sampler on
 * its spacing) becomes a {@link LearnedTimesteps.Variant#dpmSolverV3} variant whose times CMA-ES moves off the
 * statistics grid (interpolated statistics, starting from the snapped times); its learned grid is scored on the
 * selection rows and the held-out seeds and validated against the snapped v3 (its own base) and the best untuned
 * baseline; the result is written as {@code dpmsolver-v3} config values with {@code positions: interpolated} (a
 * coefficient set has no room for the statistics).
 */
public final class DpmSolverV3Timesteps {
    private DpmSolverV3Timesteps() {
    }

    /**
     * DPM-Solver-v3's learned grid, validated.
     *
     * @param learned the grid's optimisation
     * @param set     the timesteps set on the learned grid (base: v3 with interpolated positions), with its validation
     *                (own base: the snapped v3)
     * @param select  its error on the selection rows (null if none were given)
     * @param heldOut its held-out error
     * @param base    the snapped v3's held-out error
     */
    public record Outcome(LearnedTimesteps.Learned learned, CoefficientSet set, Evaluation.Result select,
                          Evaluation.Result heldOut, Evaluation.Result base) {
    }

    /**
     * The variant that starts as {@code snapped} (a candidate of the snapped DPM-Solver-v3 on the statistics' time
     * range) at {@code nfe} and moves off the statistics grid; the fit context's time range must be the statistics'.
     */
    public static LearnedTimesteps.Variant variant(FitContext ctx, Candidate snapped, int nfe) {
        if (!(snapped.solver() instanceof DpmSolverV3 v3)) {
            throw new IllegalArgumentException("timesteps: " + snapped.name() + " is no DPM-Solver-v3");
        }
        return LearnedTimesteps.Variant.dpmSolverV3(v3, snapped.spacing(), ctx.model().schedule(), ctx.tStart(),
                ctx.tEnd(), nfe);
    }

    /** Learns the grid of {@link #variant} on the fit rows ({@code fitTargets}), keeping its progress in {@code cp}. */
    public static LearnedTimesteps.Learned learn(FitContext ctx, Evaluation.Targets fitTargets, Candidate snapped,
                                                 int nfe, LearnedTimesteps.Settings s,
                                                 LearnedTimesteps.Checkpoints cp) {
        return LearnedTimesteps.learn(ctx, fitTargets, variant(ctx, snapped, nfe), nfe, s, cp);
    }

    /**
     * Scores a learned v3 grid on {@code select} (optional) and {@code heldOut} and validates it against the snapped
     * v3's held-out error {@code snappedHeldOut} (paired: the same held-out seeds) and, if given, the best untuned
     * baseline's ({@code baseline}, called {@code baselineName}).
     */
    public static Outcome validate(FitContext ctx, LearnedTimesteps.Learned l, Evaluation.Targets select,
                                   Evaluation.Targets heldOut, Evaluation.Result snappedHeldOut, String baselineName,
                                   Evaluation.Result baseline) {
        if (!(l.variant().solver() instanceof DpmSolverV3)) {
            throw new IllegalArgumentException("timesteps: " + l.variant().label() + " is no DPM-Solver-v3 variant");
        }
        CoefficientSet set = LearnedTimesteps.set(ctx, l, true);
        Candidate c = LearnedTimesteps.candidate(set);
        Evaluation.Result sel = select == null ? null : Evaluation.evaluate(ctx.model(), ctx.guidance(), select, c,
                l.nfe(), ctx.batch(), ctx.dtype(), 0).result();
        Evaluation.Result held = Evaluation.evaluate(ctx.model(), ctx.guidance(), heldOut, c, l.nfe(), ctx.batch(),
                ctx.dtype(), 0).result();
        CoefficientSet.Validation v = new CoefficientSet.Validation(held.seeds(), held.meanMse(), held.stdErr(),
                snappedHeldOut.meanMse(), snappedHeldOut.stdErr(), CoefficientSet.Verdict.of(held, snappedHeldOut),
                baseline == null ? null : baselineName, baseline == null ? null : baseline.meanMse(),
                baseline == null ? null : CoefficientSet.Verdict.of(held, baseline));
        v = v.withQuantiles(held, snappedHeldOut, baseline);
        return new Outcome(l, set.withValidation(v), sel, held, snappedHeldOut);
    }

    /**
     * A timesteps set on DPM-Solver-v3 as config values (statistics, solver settings, the set's grid; interpolated
     * positions if the set's solver has them): what {@code evaluate --set} scores and the service publishes.
     */
    public static ConfigValues values(CoefficientSet set) {
        if (!(set.base() instanceof DpmSolverV3 spec)) {
            throw new IllegalArgumentException("timesteps: " + set.base().label() + " is no DPM-Solver-v3");
        }
        double[] t = set.times();
        return ConfigValues.ofDpmSolverV3(spec, set.spacing(), t.length - 1, true, false, t);
    }
}
