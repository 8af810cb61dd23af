package io.solvertune.tuning.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.exports.ConfigExports;
import io.solvertune.exports.ExportFormat;
import io.solvertune.tuning.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The typed publish contract changes no byte of what was published before it: the fixtures under
 * {@code /publish-compat} were written by the old path (commit 598d949: PublishStage's second JSON shape ->
 * PipelineValues -> ConfigCandidate with JSON values -> ConfigStore) from the tiny job of {@code RunJobTest}.
 * Old documents export to the same bytes (every format, sha256, file name, media type, and the listing), and the
 * same job published through the typed contract stores the same values, metrics and provenance and serves the same
 * document (provenance now also names the {@code platform}, which old documents lack).
 */
public class PublishCompatibilityTest {
    static final String DIR = "/publish-compat/";
    static final List<String> DOCUMENTS = List.of("config-0-baseline.json", "config-1-dode.json",
            "config-2-dpmsolver-v3.json");
    static final JsonNode MODEL_SPEC = JsonNodeFactory.instance.objectNode().put("preset", "gmm-sd-d32");

    static byte[] resource(String name) throws IOException {
        try (InputStream in = PublishCompatibilityTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IOException("missing fixture " + DIR + name);
            }
            return in.readAllBytes();
        }
    }

    @Test
    void documentsPublishedBeforeTheContractExportByteIdentically() throws IOException {
        JsonNode expected = CanonicalJson.MAPPER.readTree(resource("exports.json"));
        int checked = 0;
        for (String name : DOCUMENTS) {
            byte[] served = resource("documents/" + name);
            ConfigDocument doc = ConfigDocument.parse(served);
            JsonNode want = expected.get(name);
            for (ExportFormat f : ExportFormat.values()) {
                String got;
                try {
                    ConfigExports.Export x = ConfigExports.export(f, doc, MODEL_SPEC, served);
                    got = CanonicalJson.sha256(x.body()) + " " + x.fileName() + " " + x.mediaType();
                } catch (ConfigExports.NotApplicable n) {
                    got = "409 " + n.getMessage() + " " + n.alternatives();
                }
                assertEquals(want.get(f.id()).asText(), got, name + " " + f.id());
                checked++;
            }
            assertEquals(CanonicalJson.write(want.get("listing")), CanonicalJson.write(Json.MAPPER.valueToTree(
                    ConfigExports.listing(doc.id(), doc, MODEL_SPEC))), name + " listing");
            // the typed document writes the stored bytes again
            assertEquals(new String(served, StandardCharsets.UTF_8), doc.write(), name + " round trip");
        }
        assertEquals(DOCUMENTS.size() * ExportFormat.values().length, checked);
    }

    /**
     * Candidates of the tiny job published through the contract: as stored (canonical values, metrics, provenance
     * with the job id) and as served they equal what the old path stored and served, but for the code version (a
     * build property, also inside a fitted set's own provenance) and the platform (new).
     */
    public static void assertPublishedAsBefore(List<ConfigCandidate> candidates) throws IOException {
        assertPublishedAsBefore(candidates, null);
    }

    /**
     * {@link #assertPublishedAsBefore} for the candidates of {@code methods} only (null: all): the others' fits chose
     * differently since (the coefficient fits' variant is chosen by absolute error since issue 17), so their values
     * are not those of the fixture; the same methods must still be published in the same order.
     */
    public static void assertPublishedAsBefore(List<ConfigCandidate> candidates, java.util.Set<String> methods)
            throws IOException {
        JsonNode stored = CanonicalJson.MAPPER.readTree(resource("stored-candidates.json"));
        assertEquals(stored.size(), candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            ConfigCandidate c = candidates.get(i);
            JsonNode old = stored.get(i);
            assertEquals(old.get("method").asText(), c.method(), "candidate " + i);
            if (methods != null && !methods.contains(c.method())) {
                continue;
            }
            String oldCode = old.get("provenance").get("codeVersion").asText();
            ObjectNode prov = (ObjectNode) Json.MAPPER.valueToTree(c.provenance().withJobId(0));
            assertTrue(prov.has("platform"), "provenance names the platform");
            prov.remove("platform");
            prov.put("codeVersion", oldCode);
            ObjectNode now = JsonNodeFactory.instance.objectNode();
            now.put("method", c.method());
            now.put("solver", c.solver());
            now.put("nfe", c.nfe());
            now.put("guidance", c.guidance());
            now.put("spacing", c.spacing());
            now.put("tStart", c.tStart());
            now.put("tEnd", c.tEnd());
            now.put("validated", c.validated());
            now.put("heldOutMse", c.heldOutMse());
            now.set("solverOptions", CanonicalJson.sorted(c.solverOptions()));
            ObjectNode values = (ObjectNode) c.values().toJson();
            JsonNode setProvenance = values.path("coefficientSet").path("provenance");
            if (setProvenance instanceof ObjectNode sp) { // a fitted set records the code version too
                sp.put("codeVersion", old.get("values").get("coefficientSet").get("provenance").get("codeVersion")
                        .asText());
            }
            now.set("values", values);
            now.set("metrics", CanonicalJson.sorted(Json.MAPPER.valueToTree(c.metrics())));
            now.set("provenance", CanonicalJson.sorted(prov));
            assertEquals(CanonicalJson.write(old), CanonicalJson.write(now), "candidate " + i + " as stored");
            // served: the document the store writes for it (same id, key, time as the fixture's)
            String name = DOCUMENTS.get(i);
            ConfigDocument before = ConfigDocument.parse(resource("documents/" + name));
            ConfigDocument after = new ConfigDocument(100 + i, 1, before.model(), c.method(), c.solver(),
                    CanonicalJson.sorted(c.solverOptions()), c.nfe(), c.guidance(), c.spacing(), c.tStart(), c.tEnd(),
                    "key" + i, 0, c.heldOutMse(), ConfigValues.parse(values), CanonicalJson.sorted(Json.MAPPER.valueToTree(
                    c.metrics())), CanonicalJson.sorted(prov), Instant.parse("2026-12-06T10:00:00Z"));
            assertEquals(new String(resource("documents/" + name), StandardCharsets.UTF_8), after.write(),
                    name + " as served");
        }
    }
}
