package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.exports.ExportFormat;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.job.ResolvedModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Writes the fixtures of {@code PublishCompatibilityTest} with the publish path as it was before the typed publish
 * contract (commit 90dc2d2: PublishStage -> PipelineValues -> ConfigCandidate -> ConfigStore): runs the tiny job of
 * {@code RunJobTest}, stores each candidate as ConfigStore stored it (canonical values, metrics, provenance) and as a
 * served document, and the sha256 of every export of every document. Run once by hand with
 * {@code -Dtest=PublishCompatFixtureGenerator -Dpublish.fixtures=src/test/resources/publish-compat}.
 */
class PublishCompatFixtureGenerator {

    @Test
    void generate() throws Exception {
        String out = System.getProperty("publish.fixtures");
        org.junit.jupiter.api.Assumptions.assumeTrue(out != null, "generator: -Dpublish.fixtures=DIR");
        Path dir = Path.of(out);
        Files.createDirectories(dir.resolve("documents"));
        Path root = Files.createTempDirectory("publish-compat");
        Path work = root.resolve("job-0");
        JsonNode spec = Json.MAPPER.readTree(io.solvertune.tuning.job.RunJobTestAccess.SPEC.replace('\'', '"'));
        ResolvedModel model = LocalJobRunner.resolveLocal(spec.get("model"), root);
        JsonNode cands = LocalJobRunner.tuning().run(0, spec, model, work, new LocalJobRunner.Listener() { },
                () -> false);
        PipelineValues pv = new PipelineValues(root);
        JsonNode modelSpec = JsonNodeFactory.instance.objectNode().put("preset", "gmm-sd-d32");
        ModelEntity me = new ModelEntity();
        me.id = 1L;
        me.name = "gmm-sd-d32";
        me.contentHash = model.contentHash();
        me.predictionType = "noise";
        ArrayNode stored = JsonNodeFactory.instance.arrayNode();
        ObjectNode exports = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < cands.size(); i++) {
            JsonNode c = cands.get(i);
            JsonNode values = pv.adapt(0, c.get("method").asText(), c.get("values"), c.get("metrics"));
            ConfigValues v = ConfigValues.parse(values);
            ObjectNode prov = ((ObjectNode) c.get("provenance")).deepCopy();
            prov.put("jobId", 0L);
            ObjectNode s = JsonNodeFactory.instance.objectNode();
            for (String f : new String[] {"method", "solver", "nfe", "guidance", "spacing", "tStart", "tEnd",
                    "validated", "heldOutMse"}) {
                s.set(f, c.get(f));
            }
            s.set("solverOptions", CanonicalJson.sorted(c.get("solverOptions")));
            s.set("values", v.toJson());
            s.set("metrics", CanonicalJson.sorted(c.get("metrics")));
            s.set("provenance", CanonicalJson.sorted(prov));
            stored.add(CanonicalJson.sorted(s));
            ConfigStore.Row row = new ConfigStore.Row(100 + i, me, c.get("method").asText(), c.get("solver").asText(),
                    CanonicalJson.sorted(c.get("solverOptions")), c.get("nfe").asInt(), c.get("guidance").asDouble(),
                    c.get("spacing").asText(), c.get("tStart").asDouble(), c.get("tEnd").asDouble(), 1, v.toJson(),
                    CanonicalJson.sorted(c.get("metrics")), CanonicalJson.sorted(prov), "key" + i, 0,
                    c.get("heldOutMse").asDouble(), Instant.parse("2026-12-06T10:00:00Z"));
            String doc = CanonicalJson.write(ConfigStore.document(row));
            String name = "config-" + i + "-" + c.get("method").asText() + ".json";
            Files.writeString(dir.resolve("documents").resolve(name), doc);
            ObjectNode e = exports.putObject(name);
            byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
            for (ExportFormat f : ExportFormat.values()) {
                try {
                    ConfigExports.Export x = ConfigExports.export(f, CanonicalJson.MAPPER.readTree(bytes), modelSpec,
                            bytes);
                    e.put(f.id(), CanonicalJson.sha256(x.body()) + " " + x.fileName() + " " + x.mediaType());
                } catch (ConfigExports.NotApplicable n) {
                    e.put(f.id(), "409 " + n.getMessage() + " " + n.alternatives());
                }
            }
            e.set("listing", Json.MAPPER.valueToTree(ConfigExports.listing(100 + i,
                    CanonicalJson.MAPPER.readTree(bytes), modelSpec)));
        }
        Files.writeString(dir.resolve("stored-candidates.json"), CanonicalJson.MAPPER
                .writerWithDefaultPrettyPrinter().writeValueAsString(stored));
        Files.writeString(dir.resolve("exports.json"), CanonicalJson.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(CanonicalJson.sorted(exports)));
    }
}
