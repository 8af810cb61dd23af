package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.solvertune.exports.ConfigExports;
import io.solvertune.exports.ExportFormat;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.job.LocalJobRunner;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigDocument;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune export}: writes an export of a config without the service — the same function of the typed
 * document ({@link ConfigExports}) the service serves, so the bytes are the service's. The config is a downloaded
 * document, a candidate of a local {@code run-job} ({@code publish/candidates.json}, {@code --candidate}), or a
 * config id fetched from a service (only the document is fetched; the export is computed here).
 */
@CommandLine.Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Export a config (a document file, a run-job candidates file, or a config id) for another "
                + "consumer, without the service.")
final class ExportCommand implements Callable<Integer> {
    /** Largest config document or candidates file read (DPM-Solver-v3 statistics are inline). */
    static final long MAX_BYTES = 512L << 20;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Option(names = "--config", required = true, paramLabel = "FILE|ID",
            description = "a config document (as downloaded), a run-job candidates file, or a config id of --server")
    String config;

    @CommandLine.Option(names = "--candidate", paramLabel = "N", description = "index of the candidate in a "
            + "candidates file (default: the validated one with the lowest held-out MSE)")
    Integer candidate;

    @CommandLine.Option(names = "--format", required = true, paramLabel = "FORMAT",
            completionCandidates = Formats.class, description = "${COMPLETION-CANDIDATES}")
    String format;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write it")
    Path out;

    @CommandLine.Option(names = "--model", paramLabel = "PRESET|FILE", description = "the config's model: a preset "
            + "name or a model spec file (default: the preset the config names)")
    String model;

    @CommandLine.Option(names = "--server", paramLabel = "URL",
            description = "service of a config id (default: $SOLVERTUNE_URL, else http://localhost:8080)")
    String server;

    @CommandLine.Option(names = "--token", paramLabel = "TOKEN", description = "bearer token (default: "
            + "$SOLVERTUNE_TOKEN)")
    String token;

    /** The export formats. */
    static final class Formats implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return ExportFormat.ids().iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        ExportFormat f = ExportFormat.of(format);
        if (f == null) {
            throw new IllegalArgumentException("--format: unknown format '" + format + "' (known: "
                    + String.join(", ", ExportFormat.ids()) + ")");
        }
        byte[] served;
        ConfigDocument doc;
        if (config.matches("\\d{1,18}") && !Files.exists(Path.of(config))) {
            served = fetch(Long.parseLong(config));
            doc = ConfigDocument.parse(served);
        } else {
            Path file = Path.of(config);
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--config: no such file: " + file);
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("--config: larger than " + (MAX_BYTES >> 20) + " MiB");
            }
            JsonNode tree = CanonicalJson.MAPPER.readTree(file.toFile());
            if (tree.isArray()) {
                doc = fromCandidate(tree);
                served = doc.write().getBytes(StandardCharsets.UTF_8);
            } else {
                served = Files.readAllBytes(file);
                doc = ConfigDocument.parse(tree);
            }
        }
        ModelSpec spec = modelSpec(doc);
        ConfigExports.Export x = ConfigExports.export(f, doc, spec, served);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(out, x.body());
        cmd.commandLine().getOut().println("wrote " + out + " (" + x.body().length + " bytes, " + f.id() + ", "
                + x.fileName() + ", sha256 " + CanonicalJson.sha256(x.body()) + ")");
        return 0;
    }

    /** A candidate of a run-job candidates file as the document the service would serve (id 0, version 1). */
    private ConfigDocument fromCandidate(JsonNode array) throws IOException {
        var list = ConfigCandidate.listFromJson(array);
        if (list.isEmpty()) {
            throw new IllegalArgumentException("--config: the candidates file is empty");
        }
        ConfigCandidate c;
        if (candidate != null) {
            if (candidate < 0 || candidate >= list.size()) {
                throw new IllegalArgumentException("--candidate: expected 0.." + (list.size() - 1) + ", got "
                        + candidate);
            }
            c = list.get(candidate);
        } else {
            c = list.stream().filter(ConfigCandidate::validated)
                    .min(java.util.Comparator.comparingDouble(ConfigCandidate::heldOutMse))
                    .orElseThrow(() -> new IllegalArgumentException("--config: no validated candidate (pick one "
                            + "with --candidate)"));
        }
        var p = c.provenance();
        String name = model != null ? model : p != null && p.modelName() != null ? p.modelName() : "";
        ModelSpec spec = resolve(name);
        String prediction;
        try (Denoiser d = spec.build(Presets.baseDir())) {
            prediction = d.predictionType().id();
        }
        return new ConfigDocument(0, 1, new ConfigDocument.Model(c.modelId(), name, p == null ? null
                : p.modelHash(), prediction), c.method(), c.solver(), CanonicalJson.sorted(c.solverOptions() == null
                ? CanonicalJson.MAPPER.createObjectNode() : c.solverOptions()), c.nfe(), c.guidance(), c.spacing(),
                c.tStart(), c.tEnd(), "", p == null || p.jobId() == null ? 0 : p.jobId(),
                Double.isFinite(c.heldOutMse()) ? c.heldOutMse() : null, c.values(),
                CanonicalJson.sorted(io.solvertune.tuning.Json.MAPPER.valueToTree(c.metrics())),
                CanonicalJson.sorted(io.solvertune.tuning.Json.MAPPER.valueToTree(p)), Instant.EPOCH);
    }

    private ModelSpec modelSpec(ConfigDocument doc) throws IOException {
        if (model != null) {
            return resolve(model);
        }
        String name = doc.model().name();
        if (Presets.ALL.stream().anyMatch(p -> p.name().equals(name))) {
            return Presets.load(name);
        }
        throw new IllegalArgumentException("--model: the config's model '" + name + "' is no preset; name its spec "
                + "file");
    }

    private static ModelSpec resolve(String name) throws IOException {
        return LocalJobRunner.resolveLocal(TextNode.valueOf(name), Path.of("").toAbsolutePath()).spec();
    }

    private byte[] fetch(long id) throws IOException, InterruptedException {
        String url = server != null ? server : System.getenv().getOrDefault("SOLVERTUNE_URL",
                "http://localhost:8080");
        String t = token != null ? token : System.getenv("SOLVERTUNE_TOKEN");
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url.replaceAll("/+$", "") + "/api/v1/configs/"
                + id)).timeout(Duration.ofSeconds(60)).GET();
        if (t != null && !t.isBlank()) {
            req.header("Authorization", "Bearer " + t);
        }
        HttpResponse<byte[]> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
                .send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("GET /api/v1/configs/" + id + ": HTTP " + r.statusCode() + " "
                    + new String(r.body(), StandardCharsets.UTF_8));
        }
        return r.body();
    }
}
