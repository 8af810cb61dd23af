package io.solvertune.numerics.solver.dode;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * D-ODE (distilled ODE solver, {@link DodeSolver}): the base solver with the model output of step i replaced by
 * {@code ô_i = o_i + lambdas[i] (o_i - o_{i-1})}. All lambdas 0 is the base solver, bit for bit.
 *
 * @param base    ddim, dpmsolver multistep or unipc
 * @param lambdas one value per step; {@code lambdas[0]} must be 0 for a data-prediction base (its first step has
 *                no previous output)
 */
public record Dode(SolverSpec base, double[] lambdas) implements SolverSpec {
    public Dode {
        DodeSolver.checkBase(base);
        if (lambdas == null || lambdas.length == 0) {
            throw new IllegalArgumentException("dode: lambdas are required (one per step)");
        }
        for (int i = 0; i < lambdas.length; i++) {
            if (!Double.isFinite(lambdas[i])) {
                throw new IllegalArgumentException("dode: lambdas[" + i + "] is not finite");
            }
        }
        if (lambdas[0] != 0.0 && DodeSolver.dataPrediction(base)) {
            throw new IllegalArgumentException("dode: lambdas[0] must be 0 for the data-prediction base "
                    + base.label() + " (its first step has no previous model output), got " + lambdas[0]);
        }
        lambdas = lambdas.clone();
    }

    @Override
    public double[] lambdas() {
        return lambdas.clone();
    }

    @Override
    public Solver create() {
        return new DodeSolver(base, lambdas, null);
    }

    @Override
    public String label() {
        return "d-" + base.label();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dode d && base.equals(d.base) && java.util.Arrays.equals(lambdas, d.lambdas);
    }

    @Override
    public int hashCode() {
        return 31 * base.hashCode() + java.util.Arrays.hashCode(lambdas);
    }

    @Override
    public String toString() {
        return "Dode[base=" + base + ", lambdas=" + java.util.Arrays.toString(lambdas) + "]";
    }
}
