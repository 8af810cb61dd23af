package io.solvertune.tuning.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * The served document of a published config: key, version, typed values, metrics, provenance. Written once by the
 * config store ({@link #toJson}, canonical through {@link CanonicalJson#write}) and stored as text, so a download is
 * always the stored bytes; read back ({@link #parse}) by the exports. Metrics and provenance are the stored JSON of
 * the candidate's typed {@link ConfigMetrics} and {@link ConfigProvenance} (a reader needs neither).
 *
 * @param solverOptions the solver's catalog options (canonical JSON object)
 * @param heldOutMse    null when the candidate had none
 */
public record ConfigDocument(long id, int version, Model model, String method, String solver,
                             JsonNode solverOptions, int nfe, double guidance, String spacing, double tStart,
                             double tEnd, String key, long jobId, Double heldOutMse, ConfigValues values,
                             JsonNode metrics, JsonNode provenance, Instant createdAt) {

    /** Version of the served document layout. */
    public static final int FORMAT = 1;

    /** The model a config belongs to, as the document names it. */
    public record Model(long id, String name, String contentHash, String predictionType) {
    }

    /** The document's JSON (keys in any order: {@link CanonicalJson#write} sorts them). */
    public ObjectNode toJson() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("formatVersion", FORMAT);
        d.put("id", id);
        ObjectNode m = d.putObject("model");
        m.put("id", model.id());
        m.put("name", model.name());
        m.put("contentHash", model.contentHash());
        m.put("predictionType", model.predictionType());
        d.put("method", method);
        d.put("solver", solver);
        d.set("solverOptions", solverOptions);
        d.put("nfe", nfe);
        d.put("guidance", guidance);
        d.put("spacing", spacing);
        d.put("tStart", tStart);
        d.put("tEnd", tEnd);
        d.put("version", version);
        d.put("key", key);
        d.put("jobId", jobId);
        if (heldOutMse != null) {
            d.put("heldOutMse", heldOutMse);
        }
        d.set("values", values.toJson());
        d.set("metrics", metrics);
        d.set("provenance", provenance);
        d.put("createdAt", createdAt.toString());
        return d;
    }

    /** The canonical text of the document (what is stored, hashed and served). */
    public String write() {
        return CanonicalJson.write(toJson());
    }

    /** A served document's bytes, read back. */
    public static ConfigDocument parse(byte[] served) {
        try {
            return parse(CanonicalJson.MAPPER.readTree(served));
        } catch (IOException e) {
            throw new UncheckedIOException("config document: " + e.getMessage(), e);
        }
    }

    /**
     * A document read back: {@code values} is validated ({@link ConfigValues#parse}); the key fields a reader may do
     * without take defaults (id 0, guidance 1, prediction type noise, ...).
     */
    public static ConfigDocument parse(JsonNode d) {
        if (d == null || !d.isObject()) {
            throw new IllegalArgumentException("config document: expected a JSON object");
        }
        JsonNode m = d.path("model");
        return new ConfigDocument(d.path("id").asLong(), d.path("version").asInt(), new Model(m.path("id").asLong(),
                m.path("name").asText(), m.path("contentHash").asText(null), m.path("predictionType").asText("noise")),
                d.path("method").asText(), d.path("solver").asText(), d.path("solverOptions"), d.path("nfe").asInt(),
                d.path("guidance").asDouble(1.0), d.path("spacing").asText(null), d.path("tStart").asDouble(),
                d.path("tEnd").asDouble(), d.path("key").asText(null), d.path("jobId").asLong(),
                d.hasNonNull("heldOutMse") ? d.get("heldOutMse").asDouble() : null, ConfigValues.parse(d.get("values")),
                d.path("metrics"), d.path("provenance"),
                d.hasNonNull("createdAt") ? Instant.parse(d.get("createdAt").asText()) : null);
    }
}
