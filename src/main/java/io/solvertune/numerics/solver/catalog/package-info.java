/**
 * Everything that knows every solver family: names and options for the CLI and
 * {@code GET /api/v1/solvers} ({@code SolverCatalog}), and a run's evaluation plan (grid, per-step orders, inner points)
 * computed by the families' own code ({@code EvaluationPlan}). May import every family; no family imports it.
 */
package io.solvertune.numerics.solver.catalog;
