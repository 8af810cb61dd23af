package io.solvertune.tuning.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    /** Metrics recorded since the old path (every candidate has the first two; they are checked, then removed). */
    static final List<String> QUANTILES = List.of("heldOutMedian", "heldOutP99", "baseMedian", "baseP99",
            "baselineMedian", "baselineP99");
    /** The same in a fitted set's own validation. */
    static final List<String> VALIDATION_QUANTILES = List.of("median", "p99", "baseMedian", "baseP99",
            "baselineMedian", "baselineP99");

    /** {@code node} without {@code fields}, after checking that the first two are there (finite numbers). */
    static ObjectNode withoutQuantiles(JsonNode node, List<String> fields, String what) {
        ObjectNode copy = node.deepCopy();
        for (int i = 0; i < 2; i++) {
            assertTrue(copy.path(fields.get(i)).isNumber() && Double.isFinite(copy.get(fields.get(i)).asDouble()),
                    what + " has " + fields.get(i) + ": " + node);
        }
        copy.remove(fields);
        return copy;
    }

    /**
     * Candidates of the tiny job published through the contract: as stored (canonical values, metrics, provenance
     * with the job id) and as served they equal what the old path stored and served, but for the code version (a
     * build property, also inside a fitted set's own provenance), the platform (new) and the per-seed quantiles of the
     * held-out errors (new: median and p99 in the metrics and in a fitted set's validation, checked present here).
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
            ObjectNode metrics = withoutQuantiles(Json.MAPPER.valueToTree(c.metrics()), QUANTILES, "metrics " + i);
            prov.set("metrics", withoutQuantiles(prov.get("metrics"), QUANTILES, "provenance metrics " + i));
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
            if (values.path("coefficientSet") instanceof ObjectNode set && set.has("validation")) {
                set.set("validation", withoutQuantiles(set.get("validation"), VALIDATION_QUANTILES,
                        "validation " + i));
            }
            now.set("values", values);
            now.set("metrics", CanonicalJson.sorted(metrics));
            now.set("provenance", CanonicalJson.sorted(prov));
            assertSameJson(old, now, "candidate " + i + " as stored");
            // served: the document the store writes for it (same id, key, time as the fixture's)
            String name = DOCUMENTS.get(i);
            ConfigDocument before = ConfigDocument.parse(resource("documents/" + name));
            ConfigDocument after = new ConfigDocument(100 + i, 1, before.model(), c.method(), c.solver(),
                    CanonicalJson.sorted(c.solverOptions()), c.nfe(), c.guidance(), c.spacing(), c.tStart(), c.tEnd(),
                    "key" + i, 0, c.heldOutMse(), ConfigValues.parse(values), CanonicalJson.sorted(metrics),
                    CanonicalJson.sorted(prov), Instant.parse("2026-12-06T10:00:00Z"));
            assertSameJson(CanonicalJson.MAPPER.readTree(resource("documents/" + name)),
                    CanonicalJson.MAPPER.readTree(after.write()), name + " as served");
        }
    }

    @Test
    void theToleranceAcceptsRoundingAndRefusesChanges() throws IOException {
        JsonNode want = CanonicalJson.MAPPER.readTree("{\"m\": 0.4226909073902315, \"b\": [2.5, 0.0013767960479991737]}");
        assertSameJson(want, CanonicalJson.MAPPER.readTree("{\"m\": 0.4226909073902316, \"b\": [2.5, 0.001376796052128204]}"),
                "rounding");
        for (String changed : List.of("{\"m\": 0.42269091, \"b\": [2.5, 0.0013767960479991737]}",
                "{\"m\": 0.4226909073902315, \"b\": [2.5, 0.00137681]}",
                "{\"m\": 0.4226909073902315, \"b\": [2.5]}",
                "{\"m\": 0.4226909073902315, \"c\": [2.5, 0.0013767960479991737]}")) {
            JsonNode got = CanonicalJson.MAPPER.readTree(changed);
            assertThrows(AssertionError.class, () -> assertSameJson(want, got, "changed"), changed);
        }
    }

    /**
     * Relative tolerance of a recomputed number against the fixture's. Measured on the tiny job: metrics differed by
     * 1 ulp (baseline selectMse) and DPM-Solver-v3's selection error by 8e-13 (relative) between two CPUs; a real
     * change of the published path moves numbers by many orders of magnitude more.
     */
    static final double RELATIVE_ULPS = 1e-9;

    /**
     * The same JSON: same structure, keys, strings and booleans, equal numbers up to {@link #RELATIVE_ULPS} (a job's
     * metrics are sums of per-seed errors computed by the PyTorch engine, whose vectorised reductions may round the
     * last digit differently on another CPU). Anything else that differs fails naming the first differing path.
     */
    static void assertSameJson(JsonNode want, JsonNode got, String what) {
        String diff = firstDifference(want, got, "");
        if (diff != null) {
            throw new AssertionError(what + ": differs at " + diff);
        }
    }

    private static String firstDifference(JsonNode a, JsonNode b, String path) {
        return firstDifference(a, b, path, 0);
    }

    /** {@code scale}: the largest magnitude of the numeric array holding a and b (0 outside arrays). */
    private static String firstDifference(JsonNode a, JsonNode b, String path, double scale) {
        if (a.isNumber() && b.isNumber()) {
            double x = a.asDouble();
            double y = b.asDouble();
            double size = Math.max(scale, Math.max(Math.abs(x), Math.abs(y)));
            return x == y || Math.abs(x - y) <= RELATIVE_ULPS * size ? null : path + ": " + a + " vs " + b;
        }
        if (a.isObject() && b.isObject()) {
            java.util.Set<String> fa = new java.util.TreeSet<>();
            java.util.Set<String> fb = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(fa::add);
            b.fieldNames().forEachRemaining(fb::add);
            if (!fa.equals(fb)) {
                return path + ": fields " + fa + " vs " + fb;
            }
            var names = a.fieldNames();
            while (names.hasNext()) {
                String n = names.next();
                String d = firstDifference(a.get(n), b.get(n), path + "/" + n);
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return path + ": " + a.size() + " vs " + b.size() + " elements";
            }
            // statistics arrays (DPM-Solver-v3's l, s, b) are compared at the array's scale: their small entries are
            // differences of large sums and carry the rounding of the large ones
            double arrayScale = 0;
            for (int i = 0; i < a.size(); i++) {
                arrayScale = Math.max(arrayScale, Math.max(Math.abs(a.get(i).asDouble()), Math.abs(b.get(i).asDouble())));
            }
            for (int i = 0; i < a.size(); i++) {
                String d = firstDifference(a.get(i), b.get(i), path + "[" + i + "]", arrayScale);
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        return a.equals(b) ? null : path + ": " + a + " vs " + b;
    }
}
