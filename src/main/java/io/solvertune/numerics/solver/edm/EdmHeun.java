package io.solvertune.numerics.solver.edm;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/** Heun (EDM Algorithm 1, deterministic): Euler predictor plus trapezoidal correction, 2 NFE per step. */
public record EdmHeun() implements SolverSpec {
    @Override
    public Solver create() {
        return new EdmHeunSolver();
    }

    @Override
    public String label() {
        return "heun";
    }
}
