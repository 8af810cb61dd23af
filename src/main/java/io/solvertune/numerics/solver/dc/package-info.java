/**
 * DC-Solver (dynamic compensation): spec record, solver and the prefix-sharing stepper the fitter uses,
 * over a UniPC or DPM-Solver++ base.
 */
package io.solvertune.numerics.solver.dc;
