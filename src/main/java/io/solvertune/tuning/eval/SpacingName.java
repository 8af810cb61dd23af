package io.solvertune.tuning.eval;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.solvertune.numerics.schedule.TimestepSpacing;
import java.util.List;

/**
 * The named timestep spacings a tuning job may try (the baselines' sweep, the methods' variants, ConsistencySolver's
 * grid): one constant per spacing with its wire name ({@link #id()}, the {@link TimestepSpacing#id()} of the spacing
 * it names), which JSON reads and writes, so job specs, stage parameters and candidates keep their strings.
 */
public enum SpacingName {
    TIME_UNIFORM("time_uniform"),
    LOG_SNR("logSNR"),
    TIME_QUADRATIC("time_quadratic"),
    /** Karras et al.'s grid; rho 7 unless given. */
    KARRAS("karras");

    /** The exponent of a Karras grid unless one is given. */
    public static final double DEFAULT_RHO = 7.0;

    /** Every spacing, in the order the sweeps try them. */
    public static final List<SpacingName> ALL = List.of(values());

    private final String id;

    SpacingName(String id) {
        this.id = id;
    }

    /** The wire name. */
    @JsonValue
    public String id() {
        return id;
    }

    /** The wire name (so lists and messages print as the spec writes them). */
    @Override
    public String toString() {
        return id;
    }

    /** The spacing called {@code id} (exactly its wire name), or null. */
    public static SpacingName find(String id) {
        for (SpacingName s : values()) {
            if (s.id.equals(id)) {
                return s;
            }
        }
        return null;
    }

    /** The spacing called {@code id}; refused naming the known ones. */
    @JsonCreator
    public static SpacingName of(String id) {
        SpacingName s = find(id);
        if (s == null) {
            throw new IllegalArgumentException("unknown spacing '" + id + "' (known: " + ALL + ")");
        }
        return s;
    }

    /** The named spacing of {@code spacing} (by its id), or null for others (explicit grids, power-time). */
    public static SpacingName of(TimestepSpacing spacing) {
        return find(spacing.id());
    }

    /** The spacing (Karras with rho 7). */
    public TimestepSpacing spacing() {
        return spacing(DEFAULT_RHO);
    }

    /** The spacing, Karras with exponent {@code rho}. */
    public TimestepSpacing spacing(double rho) {
        return switch (this) {
            case TIME_UNIFORM -> new TimestepSpacing.TimeUniform();
            case LOG_SNR -> new TimestepSpacing.LogSnr();
            case TIME_QUADRATIC -> new TimestepSpacing.TimeQuadratic();
            case KARRAS -> new TimestepSpacing.Karras(rho);
        };
    }
}
