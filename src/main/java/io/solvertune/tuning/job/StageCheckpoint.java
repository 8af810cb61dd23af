package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The finished-stage record {@code stage-output.json} in a stage's directory: the stage's key (a hash of its kind,
 * parameters and model), its output, the sha256 of that output and of every file the output refers to. A stage whose
 * record is present and verifies is done; anything else is redone.
 */
final class StageCheckpoint {
    static final String FILE = "stage-output.json";

    private StageCheckpoint() {
    }

    /** The verified output in {@code dir} for {@code key}, or null (absent, other key, corrupt or a file changed). */
    static JsonNode load(Path workDir, Path dir, String key) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            JsonNode rec = Json.MAPPER.readTree(f.toFile());
            if (rec == null || !key.equals(rec.path("key").asText()) || !rec.has("output")) {
                return null;
            }
            JsonNode out = rec.get("output");
            if (!Hashing.sha256(Json.canonical(out)).equals(rec.path("outputSha256").asText())) {
                return null;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = rec.path("files").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Path p = workDir.resolve(e.getKey());
                if (!Files.isRegularFile(p) || !Hashing.sha256(p).equals(e.getValue().asText())) {
                    return null;
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether {@code dir} holds a finished-stage record (verified or not). */
    static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    /** Records the output (temp file + atomic move); {@code files} are relative to the work directory. */
    static void save(Path workDir, Path dir, String key, JsonNode output, Iterable<String> files) throws IOException {
        ObjectNode rec = Json.MAPPER.createObjectNode();
        rec.put("key", key);
        rec.put("outputSha256", Hashing.sha256(Json.canonical(output)));
        ObjectNode fs = rec.putObject("files");
        for (String rel : files) {
            fs.put(rel, Hashing.sha256(workDir.resolve(rel)));
        }
        rec.set("output", output);
        Path tmp = dir.resolve(FILE + ".tmp");
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), rec);
        Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Deletes a directory tree (a stage's stale results). */
    static void wipe(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Writes a file atomically (temp name + move). */
    static void writeAtomically(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
