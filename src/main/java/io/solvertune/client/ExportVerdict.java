package io.solvertune.client;

import java.util.ArrayList;
import java.util.List;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Whether a config runs in one consumer as validated ({@code GET /api/v1/configs/{id}/exports}): a supported format
 * with its download link and the call that runs it, or the reason it is refused and the formats that do reproduce.
 */
public record ExportVerdict(String format, boolean supported, String consumer, String href, String code,
                            String reason, List<String> alternatives) {

    static ExportVerdict of(JsonNode n) {
        List<String> alt = new ArrayList<>();
        n.path("alternatives").forEach(a -> alt.add(a.asText()));
        return new ExportVerdict(n.path("format").asText(), n.path("supported").asBoolean(),
                n.path("consumer").asText(null), n.path("href").asText(null), n.path("code").asText(null),
                n.path("reason").asText(null), List.copyOf(alt));
    }
}
