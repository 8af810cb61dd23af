package io.solvertune.tuning.eval;

import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.iia.Iia;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;

/**
 * A solver configuration without its step count: evaluated at any NFE. {@code tStart}/{@code tEnd} {@code null}
 * mean the schedule's defaults (the teacher's range).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Candidate(String name, SolverSpec solver, TimestepSpacing spacing, boolean lowerOrderFinal,
                        boolean denoiseToZero, Double tStart, Double tEnd) {

    public Candidate {
        if (solver == null || spacing == null) {
            throw new IllegalArgumentException("candidate: solver and spacing are required");
        }
        if (name == null || name.isBlank()) {
            name = solver.label() + " " + spacing.id()
                    + (spacing instanceof TimestepSpacing.Karras k ? "(" + k.rho() + ")" : "")
                    + (spacing instanceof TimestepSpacing.PowerTime p ? "(" + p.rho() + ")" : "")
                    + (denoiseToZero ? " +denoise" : "") + (tEnd != null ? " tEnd=" + tEnd : "");
        }
    }

    /** The official defaults (lower_order_final on) with the schedule's time range. */
    public static Candidate of(SolverSpec solver, TimestepSpacing spacing) {
        return new Candidate(null, solver, spacing, true, false, null, null);
    }

    /** NFE spent per step (Heun and the IIA forms on Heun: 2). */
    public int nfePerStep() {
        return solver instanceof EdmHeun ? 2 : solver instanceof Iia i ? i.form().nfePerStep() : 1;
    }

    /** Steps that spend exactly {@code nfe} model calls, or -1 if impossible. */
    public int stepsFor(int nfe) {
        int budget = denoiseToZero ? nfe - 1 : nfe;
        if (budget < 1 || budget % nfePerStep() != 0) {
            return -1;
        }
        return budget / nfePerStep();
    }

    /** The sampler configuration at {@code nfe} model calls, with the given default time range. */
    public SamplerConfig at(int nfe, double defaultTStart, double defaultTEnd) {
        int steps = stepsFor(nfe);
        if (steps < 1) {
            throw new IllegalArgumentException("candidate " + name + " cannot spend exactly " + nfe + " NFE");
        }
        return new SamplerConfig(solver, spacing, steps, tStart != null ? tStart : defaultTStart,
                tEnd != null ? tEnd : defaultTEnd, lowerOrderFinal, denoiseToZero);
    }
}
