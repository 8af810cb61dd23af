package io.solvertune.tuning.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.tuning.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * A solver configuration a tuning job produced and validated, ready to be published: the key (model, method, solver
 * and options, NFE, guidance, spacing, t-range), the typed {@link ConfigValues} (a {@code CoefficientSet}, a
 * DPM-Solver-v3 setting with its statistics, or an untuned baseline's settings with explicit times), typed
 * {@link ConfigMetrics} and {@link ConfigProvenance}. Every candidate of one publish with a held-out MSE competes for
 * the {@code recommended} config of its (model, NFE, guidance); untuned baselines take part as method
 * {@value #BASELINE}, validated. Its JSON ({@link #toJson}, {@link #fromJson}) is the publish stage's file.
 *
 * @param method     {@value #BASELINE}, {@code dpmsolver-v3}, or a coefficient method's catalog name ({@code dc},
 *                   {@code iia-ddim}, ...)
 * @param solver     the (base) solver's catalog name (dpmsolver++, unipc, dpmsolver-v3, ...)
 * @param values     null only for a candidate that is not validated (never stored)
 * @param metrics    null: none (an empty object is stored)
 * @param provenance null: none (the job id is stored)
 * @param validated  whether it passed held-out validation (beats its base solver by more than two standard errors,
 *                   or is an untuned baseline); only validated candidates become versions
 * @param heldOutMse held-out MSE vs the teacher (for choosing {@code recommended})
 */
public record ConfigCandidate(long modelId, String method, String solver, JsonNode solverOptions, int nfe,
                              double guidance, String spacing, double tStart, double tEnd, ConfigValues values,
                              ConfigMetrics metrics, ConfigProvenance provenance, boolean validated,
                              double heldOutMse) {

    /** The method name of the best untuned baseline ({@link io.solvertune.tuning.MethodId#BASELINE}). */
    public static final String BASELINE = "baseline";

    /** The same candidate for model {@code id}. */
    public ConfigCandidate withModelId(long id) {
        return new ConfigCandidate(id, method, solver, solverOptions, nfe, guidance, spacing, tStart, tEnd, values,
                metrics, provenance, validated, heldOutMse);
    }

    /** The JSON of the candidate (values in their {@link ConfigValues#toJson} form). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("modelId", modelId);
        o.put("method", method);
        o.put("solver", solver);
        o.set("solverOptions", solverOptions);
        o.put("nfe", nfe);
        o.put("guidance", guidance);
        o.put("spacing", spacing);
        o.put("tStart", tStart);
        o.put("tEnd", tEnd);
        o.set("values", values == null ? null : values.toJson());
        o.set("metrics", Json.MAPPER.valueToTree(metrics));
        o.set("provenance", Json.MAPPER.valueToTree(provenance));
        o.put("validated", validated);
        o.put("heldOutMse", heldOutMse);
        return o;
    }

    /** A candidate from its JSON; errors name the field. */
    public static ConfigCandidate fromJson(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("expected a config candidate object");
        }
        try {
            JsonNode v = n.get("values");
            return new ConfigCandidate(n.path("modelId").asLong(), text(n, "method"), text(n, "solver"),
                    n.hasNonNull("solverOptions") ? n.get("solverOptions") : null, n.path("nfe").asInt(),
                    n.path("guidance").asDouble(), text(n, "spacing"), n.path("tStart").asDouble(),
                    n.path("tEnd").asDouble(), v == null || v.isNull() ? null : ConfigValues.parse(v),
                    n.hasNonNull("metrics") ? Json.MAPPER.treeToValue(n.get("metrics"), ConfigMetrics.class) : null,
                    n.hasNonNull("provenance") ? Json.MAPPER.treeToValue(n.get("provenance"), ConfigProvenance.class)
                            : null, n.path("validated").asBoolean(), n.path("heldOutMse").asDouble(Double.NaN));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }

    /** A JSON array of candidates. */
    public static ArrayNode toJson(List<ConfigCandidate> candidates) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        candidates.forEach(c -> a.add(c.toJson()));
        return a;
    }

    /** Candidates from a JSON array; errors are {@code "[i]: message"}. */
    public static List<ConfigCandidate> listFromJson(JsonNode array) {
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("expected a JSON array of config candidates");
        }
        List<ConfigCandidate> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            try {
                out.add(fromJson(array.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("[" + i + "]: " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }
}
