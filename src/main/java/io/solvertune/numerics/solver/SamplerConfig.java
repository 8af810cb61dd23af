package io.solvertune.numerics.solver;

import io.solvertune.numerics.schedule.TimestepSpacing;

/**
 * Everything that defines a sampling run besides the model and the initial noise.
 *
 * @param solver          which solver, with its options
 * @param spacing         how the time grid is placed
 * @param steps           number of steps as the official {@code sample(steps=...)} counts them (for DPM-Solver and
 *                        UniPC this is the NFE; a singlestep solver spreads it over fewer outer steps; Heun spends
 *                        2 NFE per step)
 * @param tStart          start time, {@code null} for the schedule's default
 * @param tEnd            end time, {@code null} for the schedule's default
 * @param lowerOrderFinal lower the order of the final steps (official semantics: DPM-Solver multistep only when
 *                        {@code steps < 10}, UniPC always)
 * @param denoiseToZero   finish with one extra model call: {@code x = x0(x, tEnd)}
 */
public record SamplerConfig(SolverSpec solver, TimestepSpacing spacing, int steps, Double tStart, Double tEnd,
                            boolean lowerOrderFinal, boolean denoiseToZero) {

    public SamplerConfig {
        if (solver == null) {
            throw new IllegalArgumentException("solver is required");
        }
        if (spacing == null) {
            throw new IllegalArgumentException("spacing is required");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (tStart != null && !(tStart > 0) || tEnd != null && !(tEnd > 0)) {
            throw new IllegalArgumentException("tStart and tEnd must be positive");
        }
        if (tStart != null && tEnd != null && !(tStart > tEnd)) {
            throw new IllegalArgumentException("tStart must be greater than tEnd, got " + tStart + " <= " + tEnd);
        }
    }

    /** The official defaults: lower_order_final on, no denoise_to_zero, default time range. */
    public static SamplerConfig of(SolverSpec solver, TimestepSpacing spacing, int steps) {
        return new SamplerConfig(solver, spacing, steps, null, null, true, false);
    }

    public SamplerConfig withTimeRange(Double start, Double end) {
        return new SamplerConfig(solver, spacing, steps, start, end, lowerOrderFinal, denoiseToZero);
    }

    public SamplerConfig withLowerOrderFinal(boolean on) {
        return new SamplerConfig(solver, spacing, steps, tStart, tEnd, on, denoiseToZero);
    }

    public SamplerConfig withDenoiseToZero(boolean on) {
        return new SamplerConfig(solver, spacing, steps, tStart, tEnd, lowerOrderFinal, on);
    }
}
