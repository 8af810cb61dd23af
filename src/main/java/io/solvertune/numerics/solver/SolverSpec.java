package io.solvertune.numerics.solver;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * Which solver, with its options: enums and records, validated on construction. {@link #create()} makes the
 * per-run {@link Solver} (solvers hold per-run state, e.g. a singlestep order plan, so make one per run).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "solver")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SolverSpec.Ddim.class, name = "ddim"),
    @JsonSubTypes.Type(value = SolverSpec.DpmSolver.class, name = "dpmsolver"),
    @JsonSubTypes.Type(value = SolverSpec.UniPc.class, name = "unipc"),
    @JsonSubTypes.Type(value = SolverSpec.EdmEuler.class, name = "euler"),
    @JsonSubTypes.Type(value = SolverSpec.EdmHeun.class, name = "heun"),
    @JsonSubTypes.Type(value = SolverSpec.DpmSolverV3.class, name = "dpmsolver-v3"),
    @JsonSubTypes.Type(value = SolverSpec.Dc.class, name = "dc"),
})
public sealed interface SolverSpec {

    /** A new solver instance for one sampling run. */
    Solver create();

    /** Short human-readable label, e.g. {@code dpmsolver++ multistep o2}. */
    String label();

    /** Multistep or singlestep DPM-Solver. */
    enum Method { MULTISTEP, SINGLESTEP }

    /** High-order update flavour of DPM-Solver ('dpmsolver' = midpoint-like, 'taylor'). */
    enum SolverType { DPMSOLVER, TAYLOR }

    /** UniPC's B(h): {@code bh1} = h, {@code bh2} = e^h - 1. */
    enum Variant { BH1, BH2 }

    /** Deterministic DDIM (eta = 0): {@code x_t = alpha_t x0 + sigma_t eps} from one model call at s. */
    record Ddim() implements SolverSpec {
        @Override
        public Solver create() {
            return new DdimSolver();
        }

        @Override
        public String label() {
            return "ddim";
        }
    }

    /**
     * DPM-Solver (noise prediction, {@code prediction = NOISE}) or DPM-Solver++ (data prediction,
     * {@code prediction = DATA}), singlestep orders 1-3 ("fast" order plan) or multistep orders 1-3.
     */
    record DpmSolver(PredictionType prediction, Method method, int order, SolverType solverType) implements SolverSpec {
        public DpmSolver {
            if (prediction != PredictionType.NOISE && prediction != PredictionType.DATA) {
                throw new IllegalArgumentException("dpmsolver: prediction must be noise or data, got " + prediction);
            }
            if (method == null) {
                throw new IllegalArgumentException("dpmsolver: method is required");
            }
            if (order < 1 || order > 3) {
                throw new IllegalArgumentException("dpmsolver: order must be 1, 2 or 3, got " + order);
            }
            if (solverType == null) {
                solverType = SolverType.DPMSOLVER;
            }
        }

        /** DPM-Solver++ multistep with the default update type. */
        public static DpmSolver plusPlusMultistep(int order) {
            return new DpmSolver(PredictionType.DATA, Method.MULTISTEP, order, SolverType.DPMSOLVER);
        }

        @Override
        public Solver create() {
            return method == Method.MULTISTEP ? new DpmSolverMultistep(this) : new DpmSolverSinglestep(this);
        }

        @Override
        public String label() {
            return (prediction == PredictionType.DATA ? "dpmsolver++" : "dpmsolver") + " "
                    + method.name().toLowerCase(java.util.Locale.ROOT) + " o" + order
                    + (solverType == SolverType.TAYLOR ? " taylor" : "");
        }
    }

    /** UniPC multistep (predictor UniP + corrector UniC), orders 1-3, bh1/bh2, data or noise prediction. */
    record UniPc(PredictionType prediction, Variant variant, int order) implements SolverSpec {
        public UniPc {
            if (prediction != PredictionType.NOISE && prediction != PredictionType.DATA) {
                throw new IllegalArgumentException("unipc: prediction must be noise or data, got " + prediction);
            }
            if (variant == null) {
                throw new IllegalArgumentException("unipc: variant (bh1 or bh2) is required");
            }
            if (order < 1 || order > 3) {
                throw new IllegalArgumentException("unipc: order must be 1, 2 or 3, got " + order);
            }
        }

        @Override
        public Solver create() {
            return new UniPcSolver(this);
        }

        @Override
        public String label() {
            return "unipc " + (prediction == PredictionType.DATA ? "data" : "noise") + " "
                    + variant.name().toLowerCase(java.util.Locale.ROOT) + " o" + order;
        }
    }

    /** Euler in EDM form: on {@code x/alpha} against {@code sigma/alpha}, {@code d = (x - D)/sigma}. */
    record EdmEuler() implements SolverSpec {
        @Override
        public Solver create() {
            return new EdmEulerSolver();
        }

        @Override
        public String label() {
            return "euler";
        }
    }

    /** Heun (EDM Algorithm 1, deterministic): Euler predictor plus trapezoidal correction, 2 NFE per step. */
    record EdmHeun() implements SolverSpec {
        @Override
        public Solver create() {
            return new EdmHeunSolver();
        }

        @Override
        public String label() {
            return "heun";
        }
    }

    /**
     * DPM-Solver-v3 (Zheng et al. 2023; thu-ml/DPM-Solver-v3 {@code DPM_Solver_v3}): multistep predictor with
     * optional corrector on the noise prediction, driven by empirical model statistics. Sampling times are the
     * config's spacing snapped to the statistics grid, or {@code explicitIndexes} into that grid.
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
     */
    record DpmSolverV3(EmpiricalModelStatistics ems, int order, boolean pPseudo, boolean useCorrector, boolean cPseudo,
                       boolean half, boolean degenerated, int[] explicitIndexes) implements SolverSpec {
        public DpmSolverV3 {
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
                    + (cPseudo ? " cpseudo" : "") + (half ? " half" : "") + (degenerated ? " degenerated" : "");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DpmSolverV3 v && ems.equals(v.ems) && order == v.order && pPseudo == v.pPseudo
                    && useCorrector == v.useCorrector && cPseudo == v.cPseudo && half == v.half
                    && degenerated == v.degenerated && java.util.Arrays.equals(explicitIndexes, v.explicitIndexes);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(ems, order, pPseudo, useCorrector, cPseudo, half, degenerated,
                    java.util.Arrays.hashCode(explicitIndexes));
        }

        @Override
        public String toString() {
            return "DpmSolverV3[ems=" + ems + ", order=" + order + ", pPseudo=" + pPseudo + ", useCorrector="
                    + useCorrector + ", cPseudo=" + cPseudo + ", half=" + half + ", degenerated=" + degenerated
                    + ", explicitIndexes=" + java.util.Arrays.toString(explicitIndexes) + "]";
        }
    }

    /**
     * DC-Solver (Zhao et al., ECCV 2024; wl-zhao/DC-Solver, LDM {@code DCSolver}): before step {@code i} the newest
     * buffered model output is replaced by the Lagrange interpolation through the three newest outputs at
     * {@code t' = t_prev + ratio_i (t_newest - t_prev)} (continuous time); see {@link DcSolver}.
     *
     * @param base   UniPC (bh1/bh2, orders 1-3, data or noise prediction) or DPM-Solver++ multistep (data
     *               prediction, orders 1-3; our extension, no official code)
     * @param ratios one ratio per step ({@code ratios.length} must equal the run's steps); 1 = no compensation; the
     *               first two must be 1 (fewer than three buffered outputs there)
     */
    record Dc(SolverSpec base, double[] ratios) implements SolverSpec {
        public Dc {
            if (base == null) {
                throw new IllegalArgumentException("dc: base solver is required");
            }
            boolean ok = base instanceof UniPc
                    || base instanceof DpmSolver d && d.method() == Method.MULTISTEP
                    && d.prediction() == PredictionType.DATA;
            if (!ok) {
                throw new IllegalArgumentException("dc: base must be unipc or dpmsolver++ multistep, got "
                        + base.label());
            }
            if (ratios == null || ratios.length < 1) {
                throw new IllegalArgumentException("dc: ratios are required (one per step)");
            }
            ratios = ratios.clone();
            for (int i = 0; i < ratios.length; i++) {
                if (!Double.isFinite(ratios[i])) {
                    throw new IllegalArgumentException("dc: ratios[" + i + "] is not finite");
                }
                if (i < DcSolver.FREE_FROM && ratios[i] != 1.0) {
                    throw new IllegalArgumentException("dc: ratios[" + i + "] must be 1 (step " + (i + 1)
                            + " has fewer than " + (DcSolver.DC_ORDER + 1) + " buffered model outputs), got "
                            + ratios[i]);
                }
            }
        }

        /** Neutral ratios (all 1): reproduces the base solver. */
        public static Dc neutral(SolverSpec base, int steps) {
            double[] r = new double[steps];
            java.util.Arrays.fill(r, 1.0);
            return new Dc(base, r);
        }

        @Override
        public double[] ratios() {
            return ratios.clone();
        }

        @Override
        public Solver create() {
            return new DcSolver(this);
        }

        @Override
        public String label() {
            return "dc " + base.label();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Dc d && base.equals(d.base) && java.util.Arrays.equals(ratios, d.ratios);
        }

        @Override
        public int hashCode() {
            return 31 * base.hashCode() + java.util.Arrays.hashCode(ratios);
        }

        @Override
        public String toString() {
            return "Dc[base=" + base + ", ratios=" + java.util.Arrays.toString(ratios) + "]";
        }
    }
}
