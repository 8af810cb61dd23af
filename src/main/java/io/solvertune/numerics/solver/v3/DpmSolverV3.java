package io.solvertune.numerics.solver.v3;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * DPM-Solver-v3 (Zheng et al. 2023; thu-ml/DPM-Solver-v3 {@code DPM_Solver_v3}): multistep predictor with
 * optional corrector on the noise prediction, driven by empirical model statistics. Sampling times are the
 * config's spacing snapped to the statistics grid, or {@code explicitIndexes} into that grid ({@link
 * Positions#SNAPPED}, the official sampler), or the config's times as they are, with the statistics interpolated
 * between grid points ({@link Positions#INTERPOLATED}, for learned grids; see {@link
 * io.solvertune.numerics.coeff.EmsIntegrals#at(double)}).
 *
 * @param ems             the statistics (JSON shows their metadata only; the arrays are not serialized)
 * @param order           predictor order, 1-3 ({@code sample(order=...)})
 * @param pPseudo         predictor derivatives by divided differences instead of the Vandermonde solve
 * @param useCorrector    apply the corrector after each model evaluation (the official {@code use_corrector})
 * @param cPseudo         corrector with pseudo order + 1 (divided differences)
 * @param half            corrector only where {@code t > 0.5} (the official condition
 *                        {@code use_corrector and (t > 0.5 or not half)})
 * @param degenerated     replace the statistics by {@code l = 1, s = b = 0} (DPM-Solver++ up to quadrature)
 * @param explicitIndexes grid indexes of the {@code steps + 1} sampling times, strictly increasing in
 *                        {@code [0, K]} (the config's spacing and time range are then ignored; its
 *                        {@code steps} must match), or {@code null} to snap the config's spacing
 * @param positions       where the sampling times may lie: on the statistics grid ({@code SNAPPED}, default; JSON
 *                        leaves it out) or anywhere in its range ({@code INTERPOLATED})
 */
public record DpmSolverV3(EmpiricalModelStatistics ems, int order, boolean pPseudo, boolean useCorrector, boolean cPseudo,
                   boolean half, boolean degenerated, int[] explicitIndexes,
                   @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = Positions.SnappedFilter.class)
                   Positions positions) implements SolverSpec {

    /** Where DPM-Solver-v3's sampling times may lie. */
    public enum Positions {
        /** Snapped to the statistics grid (the official sampler). */
        SNAPPED,
        /**
         * The config's times as they are; the statistics and their integrals are interpolated between grid points
         * (linear in lambda; {@link io.solvertune.numerics.coeff.EmsIntegrals#at(double)}).
         */
        INTERPOLATED;

        /** JSON filter leaving out the default. */
        public static final class SnappedFilter {
            @Override
            public boolean equals(Object o) {
                return o == null || o == SNAPPED;
            }

            @Override
            public int hashCode() {
                return 0;
            }
        }
    }

    /** Snapped positions (the official sampler). */
    public DpmSolverV3(EmpiricalModelStatistics ems, int order, boolean pPseudo, boolean useCorrector, boolean cPseudo,
                       boolean half, boolean degenerated, int[] explicitIndexes) {
        this(ems, order, pPseudo, useCorrector, cPseudo, half, degenerated, explicitIndexes, Positions.SNAPPED);
    }

    public DpmSolverV3 {
        if (positions == null) {
            positions = Positions.SNAPPED;
        }
        if (ems == null) {
            throw new IllegalArgumentException("dpmsolver-v3: ems (empirical model statistics) is required");
        }
        if (order < 1 || order > 3) {
            throw new IllegalArgumentException("dpmsolver-v3: order must be 1, 2 or 3, got " + order);
        }
        if (explicitIndexes != null) {
            explicitIndexes = explicitIndexes.clone();
            DpmSolverV3Solver.checkIndexes(explicitIndexes, ems.gridSteps());
        }
    }

    /** Official defaults of {@code sample}: no pseudo orders, corrector on, no {@code half}, snapped spacing. */
    public static DpmSolverV3 of(EmpiricalModelStatistics ems, int order) {
        return new DpmSolverV3(ems, order, false, true, false, false, false, null);
    }

    /** This solver with {@code p} positions. */
    public DpmSolverV3 withPositions(Positions p) {
        return new DpmSolverV3(ems, order, pPseudo, useCorrector, cPseudo, half, degenerated, explicitIndexes, p);
    }

    @Override
    public int[] explicitIndexes() {
        return explicitIndexes == null ? null : explicitIndexes.clone();
    }

    @Override
    public Solver create() {
        return new DpmSolverV3Solver(this);
    }

    @Override
    public String label() {
        return "dpmsolver-v3 o" + order + (pPseudo ? " ppseudo" : "") + (useCorrector ? " corr" : "")
                + (cPseudo ? " cpseudo" : "") + (half ? " half" : "") + (degenerated ? " degenerated" : "")
                + (positions == Positions.INTERPOLATED ? " interpolated" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DpmSolverV3 v && ems.equals(v.ems) && order == v.order && pPseudo == v.pPseudo
                && useCorrector == v.useCorrector && cPseudo == v.cPseudo && half == v.half
                && degenerated == v.degenerated && java.util.Arrays.equals(explicitIndexes, v.explicitIndexes)
                && positions == v.positions;
    }

    @Override
    public int hashCode() {
        int h = java.util.Objects.hash(ems, order, pPseudo, useCorrector, cPseudo, half, degenerated,
                java.util.Arrays.hashCode(explicitIndexes));
        return positions == Positions.SNAPPED ? h : 31 * h + 1;
    }

    @Override
    public String toString() {
        return "DpmSolverV3[ems=" + ems + ", order=" + order + ", pPseudo=" + pPseudo + ", useCorrector="
                + useCorrector + ", cPseudo=" + cPseudo + ", half=" + half + ", degenerated=" + degenerated
                + ", explicitIndexes=" + java.util.Arrays.toString(explicitIndexes) + ", positions=" + positions + "]";
    }
}
