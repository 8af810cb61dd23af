package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;

/** One row of a config listing ({@code GET /api/v1/configs}). */
public record ConfigSummary(long id, long modelId, String model, String method, String solver, int nfe,
                            double guidance, String spacing, int version, String sha256, Double heldOutMse,
                            JsonNode json) {

    static ConfigSummary of(JsonNode n) {
        return new ConfigSummary(n.path("id").asLong(), n.path("modelId").asLong(), n.path("model").asText(),
                n.path("method").asText(), n.path("solver").asText(null), n.path("nfe").asInt(),
                n.path("guidance").asDouble(1.0), n.path("spacing").asText(null), n.path("version").asInt(),
                n.path("sha256").asText(null), n.hasNonNull("heldOutMse") ? n.get("heldOutMse").asDouble() : null, n);
    }
}
