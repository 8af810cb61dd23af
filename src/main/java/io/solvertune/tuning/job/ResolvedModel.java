package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.Presets;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A registered model as the numerics see it.
 *
 * @param contentHash the registry's sha256 of spec + referenced content (the model hash in provenance)
 * @param spec        the model spec with absolute paths (artifact store) or inline data
 */
public record ResolvedModel(long id, String name, String contentHash, ModelSpec spec) {

    /**
     * The model spec stored in the registry ({@code models.spec}): either {@code {"preset": "<name>"}} (a built-in
     * benchmark model, {@link Presets}) or a {@link ModelSpec} JSON whose file references are absolute paths.
     */
    public static ModelSpec specOf(JsonNode stored) {
        if (stored == null || !stored.isObject()) {
            throw new IllegalArgumentException("spec: expected a JSON object");
        }
        try {
            if (stored.has("preset")) {
                if (stored.size() != 1 || !stored.get("preset").isTextual()) {
                    throw new IllegalArgumentException("spec.preset: expected {\"preset\": \"<name>\"} alone");
                }
                return Presets.load(stored.get("preset").asText());
            }
            ModelSpec spec = ModelSpec.MAPPER.treeToValue(stored, ModelSpec.class);
            spec.validate();
            return spec;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
