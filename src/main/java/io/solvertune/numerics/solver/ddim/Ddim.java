package io.solvertune.numerics.solver.ddim;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/** Deterministic DDIM (eta = 0): {@code x_t = alpha_t x0 + sigma_t eps} from one model call at s. */
public record Ddim() implements SolverSpec {
    @Override
    public Solver create() {
        return new DdimSolver();
    }

    @Override
    public String label() {
        return "ddim";
    }
}
