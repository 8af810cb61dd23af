package io.solvertune.tuning.publish;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.solvertune.tuning.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How a publish stage hands its typed candidates to the service: the candidates go to a file in the job's work
 * directory (a JSON array of {@link ConfigCandidate#toJson}; DPM-Solver-v3 statistics can be megabytes), and the
 * stage's output is one small row per candidate naming that file and its sha256: {@code {method, solver, nfe,
 * guidance, spacing, validated, heldOutMse, file, sha256}}.
 */
public final class CandidateFile {
    private CandidateFile() {
    }

    /** The bytes of the file (pretty JSON, so a rerun writes the same bytes). */
    public static byte[] bytes(List<ConfigCandidate> candidates) throws IOException {
        return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(ConfigCandidate.toJson(candidates));
    }

    /** One row of the stage output: a candidate's key and verdict, and the file that holds it. */
    public record Row(String method, String solver, int nfe, double guidance, String spacing, boolean validated,
                      double heldOutMse, String file, String sha256) {
    }

    /** The stage output for candidates written to {@code file} (relative to the work directory). */
    public static List<Row> rows(String file, String sha256, List<ConfigCandidate> candidates) {
        return candidates.stream().map(c -> new Row(c.method(), c.solver(), c.nfe(), c.guidance(), c.spacing(),
                c.validated(), c.heldOutMse(), file, sha256)).toList();
    }

    /** {@link #rows} as JSON. */
    public static ArrayNode output(String file, String sha256, List<ConfigCandidate> candidates) {
        return Json.MAPPER.valueToTree(rows(file, sha256, candidates));
    }

    /**
     * The candidates a publish stage's output rows name: the file under {@code workDir}, checked against the rows'
     * sha256, one candidate per row.
     */
    public static List<ConfigCandidate> read(Path workDir, JsonNode rows) throws IOException {
        if (rows == null || !rows.isArray()) {
            throw new IllegalArgumentException("output: a publish stage returns a JSON array of candidate rows");
        }
        if (rows.isEmpty()) {
            return List.of();
        }
        JsonNode first = rows.get(0);
        if (!first.hasNonNull("file") || !first.hasNonNull("sha256")) {
            throw new IllegalArgumentException("output[0]: a candidate row names its file and sha256");
        }
        Path dir = workDir.toAbsolutePath().normalize();
        Path file = dir.resolve(first.get("file").asText()).normalize();
        if (!file.startsWith(dir)) {
            throw new IllegalArgumentException("output[0].file: outside the job's directory");
        }
        byte[] bytes = Files.readAllBytes(file);
        String got = CanonicalJson.sha256(bytes);
        if (!got.equals(first.get("sha256").asText())) {
            throw new IOException(file + ": sha256 " + got + " differs from the recorded " + first.get("sha256"));
        }
        List<ConfigCandidate> list = ConfigCandidate.listFromJson(Json.MAPPER.readTree(
                new String(bytes, StandardCharsets.UTF_8)));
        if (list.size() != rows.size()) {
            throw new IllegalArgumentException("output: " + rows.size() + " rows but " + list.size()
                    + " candidates in " + first.get("file").asText());
        }
        return list;
    }
}
