/**
 * The publish contract between tuning and the service, framework-free: a fitted {@code CoefficientSet}, an untuned
 * baseline or DPM-Solver-v3 statistics become typed {@link io.solvertune.tuning.publish.ConfigValues}, with typed
 * {@link io.solvertune.tuning.publish.ConfigMetrics} and {@link io.solvertune.tuning.publish.ConfigProvenance}, once,
 * in a {@link io.solvertune.tuning.publish.ConfigCandidate}; the service stores it and serves its
 * {@link io.solvertune.tuning.publish.ConfigDocument} ({@link io.solvertune.tuning.publish.CanonicalJson}); exports
 * ({@code io.solvertune.exports}) are functions of the document, so the CLI exports without the service. Imports
 * numerics and the tuning rooms (fit, eval, teacher); nothing above tuning.
 */
package io.solvertune.tuning.publish;
