package io.solvertune.numerics.solver;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
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
}
