/**
 * IIA / BIIA (improved integration approximation): spec record, solver and the per-run gradient
 * vectors. May import the families whose solvers it corrects (ddim, dpm, edm).
 */
package io.solvertune.numerics.solver.iia;
