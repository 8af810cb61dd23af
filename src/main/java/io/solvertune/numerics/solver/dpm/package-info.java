/**
 * DPM-Solver and DPM-Solver++, multistep and singlestep, orders 1-3: the spec record (with its method and
 * update-type enums) and the solvers, as the official {@code dpm_solver_pytorch.py}.
 */
package io.solvertune.numerics.solver.dpm;
