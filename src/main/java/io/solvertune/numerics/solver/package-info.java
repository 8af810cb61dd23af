/**
 * The core of sampling: {@link io.solvertune.numerics.solver.Solver}, {@link
 * io.solvertune.numerics.solver.SolverSpec}, the one loop {@link io.solvertune.numerics.solver.Sampler} that owns the
 * model-output {@link io.solvertune.numerics.solver.History}, steps, listeners and trajectories. Depends on no solver
 * family: families register their JSON names as {@link io.solvertune.numerics.solver.SolverFamily} services.
 */
package io.solvertune.numerics.solver;
