package io.solvertune.numerics.solver.dpm;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * DPM-Solver (noise prediction, {@code prediction = NOISE}) or DPM-Solver++ (data prediction,
 * {@code prediction = DATA}), singlestep orders 1-3 ("fast" order plan) or multistep orders 1-3.
 */
public record DpmSolver(PredictionType prediction, Method method, int order, SolverType solverType) implements SolverSpec {

    /** Multistep or singlestep DPM-Solver. */
    public enum Method { MULTISTEP, SINGLESTEP }

    /** High-order update flavour of DPM-Solver ('dpmsolver' = midpoint-like, 'taylor'). */
    public enum SolverType { DPMSOLVER, TAYLOR }

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
