package io.solvertune.numerics.solver.consistency;

import io.solvertune.numerics.solver.SolverFamily;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.Map;

/** The JSON names of this family's solver specs (a {@link SolverFamily} service). */
public final class ConsistencyFamily implements SolverFamily {
    @Override
    public Map<String, Class<? extends SolverSpec>> specs() {
        return Map.of(
            "consistency", Consistency.class);
    }
}
