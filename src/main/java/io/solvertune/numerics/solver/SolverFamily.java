package io.solvertune.numerics.solver;

import java.util.Map;

/**
 * A family of solvers (one package: its {@link SolverSpec} records and their {@link Solver}s) declares the JSON name
 * of each of its records. Families are found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.solvertune.numerics.solver.SolverFamily}), so the core of the sampler depends on none of
 * them and a new family is one package plus one line in that file.
 */
public interface SolverFamily {

    /** JSON name ({@code "solver": ...}) of each record of this family. */
    Map<String, Class<? extends SolverSpec>> specs();
}
