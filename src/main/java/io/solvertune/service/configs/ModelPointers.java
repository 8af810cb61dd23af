package io.solvertune.service.configs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one model's aliases ({@code latest}, {@code stable}) and recommendations point, as one read of
 * {@code config_aliases} and {@code config_recommendations} found them: what {@link ConfigFastPath} resolves alias and
 * {@code best} lookups with, without the database. Immutable.
 *
 * <p>Resolution is the resource's, row for row: {@link #alias} answers only when exactly one key of the model matches
 * the filters (each given filter by exact equality on the aliased config's column, as {@link ConfigReader#alias}
 * queries it; none given = any), and {@link #recommended} is the exact (NFE, guidance) lookup of
 * {@link ConfigReader#recommended}. Everything else — no match, several matches, an unknown model, a model with more
 * pointers than the cache keeps — answers {@link #NONE}, and the request goes to the resource, which gives the error
 * (or, for an oversized model, the answer) with its details.
 */
public final class ModelPointers {

    /** No single answer from memory: let the resource decide. */
    public static final long NONE = -1;

    /** One alias row: the alias, the config it points at and that config's filterable key fields. */
    public record AliasRow(String alias, long configId, String method, String solver, int nfe, double guidance,
                           String spacing) {
    }

    /** One recommendation: (NFE, guidance) → config. */
    public record Recommendation(int nfe, double guidance, long configId) {
    }

    private record NfeGuidance(int nfe, double guidance) {
        NfeGuidance {
            guidance = guidance + 0.0; // -0.0 → 0.0: PostgreSQL compares them equal, records would not
        }
    }

    private static final AliasRow[] NO_ROWS = {};
    private static final long FIXED_BYTES = 160;
    private static final long ROW_BYTES = 72;
    private static final long RECOMMENDATION_BYTES = 96;
    private static final long STRING_BYTES = 48;

    private final long modelId;
    private final boolean complete;
    private final AliasRow[] latest;
    private final AliasRow[] stable;
    private final Map<NfeGuidance, Long> recommended;
    private final long bytes;

    private ModelPointers(long modelId, boolean complete, AliasRow[] latest, AliasRow[] stable,
                          Map<NfeGuidance, Long> recommended, long bytes) {
        this.modelId = modelId;
        this.complete = complete;
        this.latest = latest;
        this.stable = stable;
        this.recommended = recommended;
        this.bytes = bytes;
    }

    /** No model has this id or name (when it was read). */
    public static ModelPointers unknownModel() {
        return new ModelPointers(NONE, false, NO_ROWS, NO_ROWS, Map.of(), FIXED_BYTES);
    }

    /** The model has more pointers than one entry may hold: nothing is answered from memory for it. */
    public static ModelPointers tooLarge(long modelId) {
        return new ModelPointers(modelId, false, NO_ROWS, NO_ROWS, Map.of(), FIXED_BYTES);
    }

    /** Every pointer of the model (aliases of every key, every recommendation). */
    public static ModelPointers of(long modelId, List<AliasRow> aliases, List<Recommendation> recommendations) {
        if (modelId <= 0) {
            throw new IllegalArgumentException("modelId: must be positive, got " + modelId);
        }
        Map<String, String> strings = new HashMap<>(); // one copy of each method / solver / spacing name
        List<AliasRow> l = new ArrayList<>();
        List<AliasRow> s = new ArrayList<>();
        long bytes = FIXED_BYTES;
        for (AliasRow r : aliases) {
            AliasRow shared = new AliasRow(r.alias(), r.configId(), intern(strings, r.method()),
                    intern(strings, r.solver()), r.nfe(), r.guidance(), intern(strings, r.spacing()));
            switch (r.alias()) {
                case "latest" -> l.add(shared);
                case "stable" -> s.add(shared);
                default -> throw new IllegalArgumentException("alias: expected latest or stable, got " + r.alias());
            }
            bytes += ROW_BYTES;
        }
        for (String v : strings.values()) {
            bytes += STRING_BYTES + v.length();
        }
        Map<NfeGuidance, Long> rec = new HashMap<>();
        for (Recommendation r : recommendations) {
            rec.put(new NfeGuidance(r.nfe(), r.guidance()), r.configId());
            bytes += RECOMMENDATION_BYTES;
        }
        return new ModelPointers(modelId, true, l.toArray(NO_ROWS), s.toArray(NO_ROWS), Map.copyOf(rec), bytes);
    }

    private static String intern(Map<String, String> strings, String s) {
        return s == null ? null : strings.computeIfAbsent(s, k -> k);
    }

    /** The model's id, or {@link #NONE} if no model had this id or name. */
    public long modelId() {
        return modelId;
    }

    /** Whether this snapshot holds every pointer of the model (false: unknown model or too large). */
    public boolean complete() {
        return complete;
    }

    /** Estimated heap bytes of this snapshot (what the cache's byte budget counts). */
    public long bytes() {
        return bytes;
    }

    /** Alias rows held (latest and stable). */
    public int aliasRows() {
        return latest.length + stable.length;
    }

    /**
     * The config the alias points at for the one key matching the filters (null = any), or {@link #NONE} if none or
     * several keys match, the alias is neither {@code latest} nor {@code stable}, or this snapshot is not complete.
     */
    public long alias(String alias, String method, String solver, Integer nfe, Double guidance, String spacing) {
        if (!complete) {
            return NONE;
        }
        AliasRow[] rows = "latest".equals(alias) ? latest : "stable".equals(alias) ? stable : NO_ROWS;
        long hit = NONE;
        for (AliasRow r : rows) {
            if ((method == null || method.equals(r.method())) && (solver == null || solver.equals(r.solver()))
                    && (nfe == null || nfe == r.nfe()) && (guidance == null || guidance == r.guidance())
                    && (spacing == null || spacing.equals(r.spacing()))) {
                if (hit != NONE) {
                    return NONE; // several keys: the resource lists them in its 400
                }
                hit = r.configId();
            }
        }
        return hit;
    }

    /** The recommended config of (NFE, guidance), or {@link #NONE} if there is none or this snapshot is not complete. */
    public long recommended(int nfe, double guidance) {
        if (!complete) {
            return NONE;
        }
        Long id = recommended.get(new NfeGuidance(nfe, guidance));
        return id == null ? NONE : id;
    }
}
