package io.solvertune.numerics.solver.unipc;

import io.solvertune.numerics.solver.SolverFamily;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.Map;

/** The JSON names of this family's solver specs (a {@link SolverFamily} service). */
public final class UniPcFamily implements SolverFamily {
    @Override
    public Map<String, Class<? extends SolverSpec>> specs() {
        return Map.of(
            "unipc", UniPc.class);
    }
}
