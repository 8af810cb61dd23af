package io.solvertune.tuning;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;

/**
 * The methods a tuning job may name and a published config is keyed by. {@link #id()} is the wire form (job specs,
 * stage parameters and outputs, published configs, CLI {@code --method}); JSON reads and writes the id.
 *
 * <p>A new method is one constant here (its id and {@link Kind}); what runs it is wired where its kind is handled
 * (the coefficient methods' fitters in {@code tuning.fit.MethodCatalog}, the job planner's stages per kind).
 */
public enum MethodId {
    /** DPM-Solver-v3: empirical model statistics fitted, variants validated. */
    DPMSOLVER_V3("dpmsolver-v3", Kind.DPM_SOLVER_V3),
    IIA_DDIM("iia-ddim", Kind.COEFFICIENTS),
    IIA_DPMSOLVER_2M("iia-dpmsolver++2m", Kind.COEFFICIENTS),
    IIA_EDM("iia-edm", Kind.COEFFICIENTS),
    BIIA_EDM("biia-edm", Kind.COEFFICIENTS),
    /** Ours: the IIA forms fitted against the teacher at the coarse times (as dode-teacher). */
    IIA_DDIM_TEACHER("iia-ddim-teacher", Kind.COEFFICIENTS),
    IIA_DPMSOLVER_2M_TEACHER("iia-dpmsolver++2m-teacher", Kind.COEFFICIENTS),
    IIA_EDM_TEACHER("iia-edm-teacher", Kind.COEFFICIENTS),
    BIIA_EDM_TEACHER("biia-edm-teacher", Kind.COEFFICIENTS),
    /** DC-Solver, next-step objective (the official one). */
    DC("dc", Kind.COEFFICIENTS),
    /** DC-Solver, final-state objective. */
    DC_FINAL("dc-final", Kind.COEFFICIENTS),
    /** D-ODE, targets from the base solver with 10x the steps (official). */
    DODE("dode", Kind.COEFFICIENTS),
    /** Ours: D-ODE with targets from the high-accuracy teacher. */
    DODE_TEACHER("dode-teacher", Kind.COEFFICIENTS),
    /** ConsistencySolver: a solver trained by RL in its own stage (issue 16). */
    CONSISTENCY_SOLVER("consistency-solver", Kind.CONSISTENCY),
    /**
     * Learned timesteps for the plain untuned solvers (the {@code timesteps} stage's output; never named in a spec's
     * {@code methods}: a spec asks for it with {@code "timesteps": "learned"}).
     */
    TIMESTEPS("timesteps", Kind.TIMESTEPS),
    /** The best untuned solver and grid per NFE (published beside every job's methods, never named in a spec). */
    BASELINE("baseline", Kind.BASELINE);

    /** How a method is produced. */
    public enum Kind {
        /** Not tuned: the best untuned solver and spacing. */
        BASELINE,
        /** A per-step coefficient table fitted by {@code tuning.fit.MethodCatalog}'s fitters. */
        COEFFICIENTS,
        /** DPM-Solver-v3 with empirical model statistics. */
        DPM_SOLVER_V3,
        /** A trained consistency solver (issue 16). */
        CONSISTENCY,
        /** Learned timesteps (issue 17). */
        TIMESTEPS
    }

    private final String id;
    private final Kind kind;

    MethodId(String id, Kind kind) {
        this.id = id;
        this.kind = kind;
    }

    /** The wire form. */
    @JsonValue
    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    /** The method called {@code id}, or null. */
    public static MethodId of(String id) {
        for (MethodId m : values()) {
            if (m.id.equals(id)) {
                return m;
            }
        }
        return null;
    }

    /** The method called {@code id}; an unknown id is an IllegalArgumentException listing the known ones. */
    @JsonCreator
    public static MethodId parse(String id) {
        MethodId m = of(id);
        if (m == null) {
            throw new IllegalArgumentException("unknown method '" + id + "' (known: " + String.join(", ",
                    ids(Arrays.asList(values()))) + ")");
        }
        return m;
    }

    /** The methods of one kind, in declaration order. */
    public static List<MethodId> ofKind(Kind kind) {
        return Arrays.stream(values()).filter(m -> m.kind == kind).toList();
    }

    /** The ids of {@code methods}. */
    public static List<String> ids(List<MethodId> methods) {
        return methods.stream().map(MethodId::id).toList();
    }

    @Override
    public String toString() {
        return id;
    }
}
