package io.solvertune.numerics.solver;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.annotation.JsonTypeIdResolver;

/**
 * Which solver, with its options: enums and records, validated on construction. {@link #create()} makes the
 * per-run {@link Solver} (solvers hold per-run state, e.g. a singlestep order plan, so make one per run).
 *
 * <p>The records live next to their solvers, one package per family ({@code ddim}, {@code dpm}, {@code unipc},
 * {@code edm}, {@code v3}, {@code iia}, {@code dode}, {@code dc}, ...); each family declares its JSON names in a
 * {@link SolverFamily} (a {@link java.util.ServiceLoader} service), so this package needs none of them.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.CUSTOM, property = "solver")
@JsonTypeIdResolver(SolverSpecTypes.class)
public interface SolverSpec {

    /** A new solver instance for one sampling run. */
    Solver create();

    /** Short human-readable label, e.g. {@code dpmsolver++ multistep o2}. */
    String label();
}
