package io.solvertune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.publish.CandidateFile;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigDocument;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.ConfigProvenance;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code solvertune export} writes, without the service, the bytes the service serves: checked against the export
 * sha256s the service's code wrote for documents published before the typed contract ({@code /publish-compat}).
 */
class ExportCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    Path fixture(String name) throws Exception {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/publish-compat/documents/" + name)) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    static String expected(String document, String format) throws Exception {
        try (InputStream in = ExportCommandTest.class.getResourceAsStream("/publish-compat/exports.json")) {
            return CanonicalJson.MAPPER.readTree(in).get(document).get(format).asText();
        }
    }

    @Test
    void exportsADownloadedDocumentToTheServedBytes() throws Exception {
        for (String[] c : new String[][] {{"config-0-baseline.json", "k-diffusion"},
                {"config-0-baseline.json", "diffusers"}, {"config-2-dpmsolver-v3.json", "dpmsolver-v3"},
                {"config-1-dode.json", "json"}}) {
            Path out = dir.resolve(c[0] + "." + c[1]);
            Run r = run("export", "--config", fixture(c[0]).toString(), "--format", c[1], "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            String want = expected(c[0], c[1]);
            assertEquals(want.substring(0, 64), CanonicalJson.sha256(Files.readAllBytes(out)), c[0] + " " + c[1]);
            assertTrue(r.out().contains(want.substring(0, 64)), r.out());
        }
    }

    @Test
    void refusesAFormatThatWouldNotReproduceTheConfigAndBadArguments() throws Exception {
        Path out = dir.resolve("x.json");
        Run r = run("export", "--config", fixture("config-1-dode.json").toString(), "--format", "k-diffusion",
                "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("format k-diffusion: dode coefficients change every step"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        Run unknown = run("export", "--config", fixture("config-1-dode.json").toString(), "--format", "onnx",
                "--out", out.toString());
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("--format: unknown format 'onnx'"), unknown.err());
        Run missing = run("export", "--config", dir.resolve("nope.json").toString(), "--format", "json",
                "--out", out.toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("--config: no such file"), missing.err());
    }

    @Test
    void exportsARunJobCandidateAsTheServiceWouldServeIt() throws Exception {
        // a candidates file (the run-job publish stage's) holding the baseline config of the fixture
        byte[] served = Files.readAllBytes(fixture("config-0-baseline.json"));
        ConfigDocument d = ConfigDocument.parse(served);
        ConfigCandidate c = new ConfigCandidate(0, d.method(), d.solver(), d.solverOptions(), d.nfe(), d.guidance(),
                d.spacing(), d.tStart(), d.tEnd(), d.values(), ConfigMetrics.heldOut(d.heldOutMse()),
                new ConfigProvenance(null, null, "gmm-sd-d32", d.model().contentHash(), null, null, null, null, null,
                        null, "test", null, null, null), true, d.heldOutMse());
        Path cands = dir.resolve("candidates.json");
        Files.write(cands, CandidateFile.bytes(List.of(c)));
        Path out = dir.resolve("k.json");
        Run r = run("export", "--config", cands.toString(), "--format", "k-diffusion", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Path viaService = dir.resolve("s.json");
        assertEquals(0, run("export", "--config", fixture("config-0-baseline.json").toString(), "--format",
                "k-diffusion", "--out", viaService.toString()).code());
        JsonNode local = Json.MAPPER.readTree(out.toFile());
        JsonNode service = Json.MAPPER.readTree(viaService.toFile());
        assertEquals(service.get("sigmas"), local.get("sigmas"), "the same sigma list");
        assertEquals(service.get("call"), local.get("call"), "the same consumer call");
        assertEquals(0, local.get("configId").asLong(), "a local candidate has no config id");
        Run none = run("export", "--config", cands.toString(), "--candidate", "3", "--format", "json", "--out",
                out.toString());
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--candidate: expected 0..0, got 3"), none.err());
    }
}
