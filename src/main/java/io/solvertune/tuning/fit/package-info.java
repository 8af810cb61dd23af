/**
 * Fitting coefficients: one fitter per method (DC-Solver, D-ODE, IIA/BIIA, DPM-Solver-v3 statistics, DC-Solver
 * CPR), their shared context and grid teacher, the {@code CoefficientSet} they produce, and the method catalog with the
 * variant choice. Imports teacher and eval.
 */
package io.solvertune.tuning.fit;
