package io.solvertune.tuning.fit.timesteps;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import java.util.Objects;

/**
 * The error a grid gives: the solver run on the grid from the teacher's initial noise of the training rows, per-seed
 * MSE (mean over elements) against the teacher's final state, exactly as {@link Evaluation} scores every candidate.
 * Counts its evaluations (each costs {@code rows x NFE} model calls).
 *
 * @param model           the denoiser (not closed here)
 * @param guidance        conditioning and guidance scale
 * @param targets         the training rows (initial noise and teacher final state)
 * @param solver          the solver run on the grid
 * @param lowerOrderFinal the official lower-order final steps (as the baseline it starts from)
 * @param nfe             model calls per run
 * @param batch           rows per sampling batch
 * @param dtype           arithmetic
 */
public record FinalStateObjective(Denoiser model, Guidance guidance, Evaluation.Targets targets, SolverSpec solver,
                                  boolean lowerOrderFinal, int nfe, int batch, DataType dtype) {

    public FinalStateObjective {
        Objects.requireNonNull(model, "objective: model is required");
        Objects.requireNonNull(guidance, "objective: guidance is required");
        Objects.requireNonNull(targets, "objective: targets are required");
        Objects.requireNonNull(solver, "objective: solver is required");
        if (batch < 1) {
            throw new IllegalArgumentException("objective: batch must be >= 1");
        }
        if (steps(solver, nfe) < 1) {
            throw new IllegalArgumentException("objective: " + solver.label() + " cannot spend exactly " + nfe + " NFE");
        }
    }

    /** Steps (as {@link io.solvertune.numerics.solver.SamplerConfig} counts them) of {@code solver} at {@code nfe}. */
    public static int steps(SolverSpec solver, int nfe) {
        return Candidate.of(solver, new TimestepSpacing.TimeUniform()).stepsFor(nfe);
    }

    /** Steps of one run: the grid has {@code steps() + 1} times. */
    public int steps() {
        return steps(solver, nfe);
    }

    /** The candidate that samples on {@code grid}. */
    public Candidate candidate(String name, double[] grid) {
        return new Candidate(name, solver, new TimestepSpacing.Explicit(grid), lowerOrderFinal, false, null, null);
    }

    /** Per-seed errors of {@code grid} on the training rows. */
    public Evaluation.Result evaluate(double[] grid) {
        if (grid.length != steps() + 1) {
            throw new IllegalArgumentException("objective: the grid must have " + (steps() + 1) + " times, got "
                    + grid.length);
        }
        if (grid[0] != targets.tStart() || grid[grid.length - 1] != targets.tEnd()) {
            throw new IllegalArgumentException("objective: the grid must run from the teacher's " + targets.tStart()
                    + " to " + targets.tEnd());
        }
        return Evaluation.evaluate(model, guidance, targets, candidate(solver.label() + " learned", grid), nfe, batch,
                dtype, 0).result();
    }
}
