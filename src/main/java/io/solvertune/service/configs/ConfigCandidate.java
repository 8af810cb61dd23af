package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A solver configuration a tuning job produced and validated, ready to be published: the key (model, method, solver
 * and options, NFE, guidance, spacing, t-range), the values ({@link ConfigValues}: a {@code CoefficientSet}, a
 * DPM-Solver-v3 setting with its statistics inline, or an untuned baseline's settings with explicit times — build them
 * with {@code ConfigValues.of...(...).toJson()}), validation metrics and provenance. Every candidate of one publish
 * with a held-out MSE competes for the {@code recommended} config of its (model, NFE, guidance); untuned baselines
 * take part as method {@code baseline}, validated.
 *
 * @param method    baseline | hyperparameters | dpmsolver-v3 | iia | biia | dode | dc | ...
 * @param solver    the base solver's catalog name (dpmsolver++, unipc, ...)
 * @param validated whether it passed held-out validation (beats its base solver by more than two standard errors,
 *                  or is an untuned baseline); only validated candidates become versions
 * @param heldOutMse held-out MSE vs the teacher (for choosing {@code recommended})
 */
public record ConfigCandidate(long modelId, String method, String solver, JsonNode solverOptions, int nfe,
                              double guidance, String spacing, double tStart, double tEnd, JsonNode values,
                              JsonNode metrics, JsonNode provenance, boolean validated, double heldOutMse) {
}
