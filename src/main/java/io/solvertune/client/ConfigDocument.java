package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A published config as the service serves it ({@code GET /api/v1/configs/{id}}): the exact bytes, their ETag, and
 * typed accessors of the fields a caller selects and runs by. {@link #values()} is what a sampler runs (see
 * docs/exports.md and {@code solvertune sample --config}).
 *
 * @param body the document's bytes exactly as served (canonical JSON; {@link #write} saves them unchanged)
 * @param etag the strong ETag of those bytes (sha256), or null for a document read from a file
 */
public record ConfigDocument(byte[] body, String etag) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ConfigDocument {
        body = body.clone();
        json(body); // validates
    }

    /** A document read from a file (what {@code download --format json} or {@link #write} wrote). */
    public static ConfigDocument read(Path file) throws IOException {
        return new ConfigDocument(Files.readAllBytes(file), null);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    /** The whole document. */
    public JsonNode json() {
        return json(body);
    }

    private static JsonNode json(byte[] b) {
        try {
            JsonNode n = JSON.readTree(b);
            if (n == null || !n.isObject() || !n.has("values")) {
                throw new IllegalArgumentException("not a config document (a JSON object with 'values')");
            }
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException("not a config document: " + e.getMessage(), e);
        }
    }

    /** Config id (null for a document that never was published, e.g. a fixture). */
    public Long id() {
        JsonNode n = json().get("id");
        return n == null || n.isNull() ? null : n.asLong();
    }

    /** Version within its key (1, 2, ...). */
    public int version() {
        return json().path("version").asInt();
    }

    /** The model's name. */
    public String modelName() {
        return json().path("model").path("name").asText(null);
    }

    /** The model's content hash (the hash the config was validated for). */
    public String modelHash() {
        return json().path("model").path("contentHash").asText(null);
    }

    /** The tuning method: baseline, dc, iia-ddim, dpmsolver-v3, ... */
    public String method() {
        return json().path("method").asText();
    }

    /** Model evaluations of one run. */
    public int nfe() {
        return json().path("nfe").asInt();
    }

    /** Guidance scale (1 = unguided). */
    public double guidance() {
        JsonNode g = json().get("guidance");
        return g == null || g.isNull() ? 1.0 : g.asDouble();
    }

    /** What a sampler runs: {@code {"type": "baseline" | "coefficients" | "dpmsolver-v3", ...}}. */
    public JsonNode values() {
        return json().get("values");
    }

    /** Held-out metrics of the validation (heldOutMse, ...). */
    public JsonNode metrics() {
        return json().path("metrics");
    }

    /** Where the config came from (schedule, teacher, seeds, code version, ...). */
    public JsonNode provenance() {
        return json().path("provenance");
    }

    /** Writes the served bytes unchanged. */
    public void write(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Files.write(file, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigDocument d && Arrays.equals(body, d.body) && java.util.Objects.equals(etag, d.etag);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(body) * 31 + java.util.Objects.hashCode(etag);
    }

    @Override
    public String toString() {
        JsonNode j = json();
        return "ConfigDocument[id=" + j.path("id") + ", method=" + j.path("method").asText() + ", nfe="
                + j.path("nfe") + ", " + new String(body, StandardCharsets.UTF_8).length() + " chars]";
    }
}
