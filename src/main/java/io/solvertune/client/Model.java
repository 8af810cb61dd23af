package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A registered model ({@code GET /api/v1/models/{id}}).
 *
 * @param predictionType noise | data | v | score | flow_velocity
 * @param schedule       the noise schedule spec
 * @param json           the whole view (spec, artifact, ... when the detail view carries them)
 */
public record Model(long id, String name, String kind, String contentHash, String predictionType, int numClasses,
                    JsonNode schedule, JsonNode json) {

    static Model of(JsonNode n) {
        return new Model(n.path("id").asLong(), n.path("name").asText(), n.path("kind").asText(),
                n.path("contentHash").asText(null), n.path("predictionType").asText(null),
                n.path("numClasses").asInt(), n.get("schedule"), n);
    }
}
