package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One element of the publish stage's output: the components of {@code io.solvertune.service.configs.ConfigCandidate}
 * (same names and types, so the service maps it one to one without depending on this package).
 *
 * @param method        {@code baseline} (the best untuned solver at this NFE), {@code dpmsolver-v3}, or the
 *                      coefficient method's catalog name ({@code dc}, {@code iia-ddim}, ...)
 * @param solver        the (base) solver's catalog name ({@code dpmsolver++}, {@code unipc}, {@code dpmsolver-v3}, ...)
 * @param solverOptions the solver's catalog options
 * @param spacing       the timestep spacing's id
 * @param values        baseline: solver settings and the explicit sampling times; coefficient methods: the
 *                      {@link io.solvertune.tuning.fit.CoefficientSet}; DPM-Solver-v3: the variant, the times and the
 *                      statistics files (paths relative to the job's work directory, with sha256)
 * @param metrics       held-out MSE (± s.e.) vs the base solver and vs the best untuned baseline, with verdicts
 * @param provenance    job id, model hash, schedule, guidance, NFE, timestep grid, teacher settings, seeds, code
 *                      version, metrics
 * @param validated     baselines: true; methods: beats the base solver by more than two paired standard errors
 * @param heldOutMse    held-out MSE against the teacher
 */
public record PublishCandidate(long modelId, String method, String solver, JsonNode solverOptions, int nfe,
                               double guidance, String spacing, double tStart, double tEnd, JsonNode values,
                               JsonNode metrics, JsonNode provenance, boolean validated, double heldOutMse) {

    /** The method name of the best untuned baseline. */
    public static final String BASELINE = "baseline";
}
