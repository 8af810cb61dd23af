/**
 * D-ODE (distilled ODE solvers): spec record and solver over a DDIM, DPM-Solver++ or UniPC base.
 */
package io.solvertune.numerics.solver.dode;
