/**
 * DPM-Solver-v3 driven by empirical model statistics: spec record, solver and the update coefficients, as
 * the official {@code dpm_solver_v3.py}.
 */
package io.solvertune.numerics.solver.v3;
