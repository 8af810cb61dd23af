package io.solvertune.numerics.solver.edm;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/** Euler in EDM form: on {@code x/alpha} against {@code sigma/alpha}, {@code d = (x - D)/sigma}. */
public record EdmEuler() implements SolverSpec {
    @Override
    public Solver create() {
        return new EdmEulerSolver();
    }

    @Override
    public String label() {
        return "euler";
    }
}
