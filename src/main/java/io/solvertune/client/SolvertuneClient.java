package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A client of one solvertune service.
 *
 * <pre>{@code
 * SolvertuneClient st = SolvertuneClient.builder().url("http://localhost:8080").build(); // token: $SOLVERTUNE_TOKEN
 * ConfigDocument best = st.recommended("gmm-sd-d32", 6, 7.5);   // the lowest held-out error at NFE 6
 * st.download(best.id(), "k-diffusion", Path.of("sigmas.json")); // or refused with the reason (409)
 * }</pre>
 *
 * <p>Config documents are cached on disk by URL and ETag ({@code $SOLVERTUNE_CACHE}, else
 * {@code ~/.cache/solvertune}, the Python client's layout): a repeated fetch sends {@code If-None-Match} and a 304
 * reuses the cached bytes. Every refusal is an {@link ApiException} with the server's problem details. Thread-safe.
 */
public final class SolvertuneClient {

    /** The default service URL when neither the builder nor {@code $SOLVERTUNE_URL} name one. */
    public static final String DEFAULT_URL = "http://localhost:8080";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest response body read into memory (config documents with inline v3 statistics stay far below). */
    private static final int MAX_BODY = 64 << 20;

    private final URI base;
    private final String token;
    private final Path cacheDir;
    private final Duration timeout;
    private final HttpClient http;

    private SolvertuneClient(Builder b) {
        String u = b.url != null ? b.url : System.getenv().getOrDefault("SOLVERTUNE_URL", DEFAULT_URL);
        u = u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
        URI uri;
        try {
            uri = URI.create(u);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("url: not a URL: " + u);
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                || uri.getHost() == null) {
            throw new IllegalArgumentException("url: expected an http(s) URL, got " + u);
        }
        this.base = uri;
        String t = b.token != null ? b.token : System.getenv("SOLVERTUNE_TOKEN");
        this.token = t == null || t.isBlank() ? null : t.strip();
        if (b.cache) {
            String env = System.getenv("SOLVERTUNE_CACHE");
            String xdg = System.getenv("XDG_CACHE_HOME");
            this.cacheDir = b.cacheDir != null ? b.cacheDir : env != null ? Path.of(env)
                    : (xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                    .resolve("solvertune");
        } else {
            this.cacheDir = null;
        }
        this.timeout = b.timeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A builder; every setting has a default (URL and token from the environment, cache on). */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a client. */
    public static final class Builder {
        private String url;
        private String token;
        private Path cacheDir;
        private boolean cache = true;
        private Duration timeout = Duration.ofMinutes(5);

        private Builder() {
        }

        /** Service URL (default {@code $SOLVERTUNE_URL}, else {@value #DEFAULT_URL}). */
        public Builder url(String url) {
            this.url = url;
            return this;
        }

        /** Bearer token (default {@code $SOLVERTUNE_TOKEN}; without one only anonymous-read models are visible). */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /** Where ETag-cached documents live. */
        public Builder cacheDir(Path dir) {
            this.cacheDir = dir;
            this.cache = true;
            return this;
        }

        /** No on-disk cache. */
        public Builder noCache() {
            this.cache = false;
            return this;
        }

        /** Per-request timeout (default 5 minutes). */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout: must be positive");
            }
            this.timeout = timeout;
            return this;
        }

        public SolvertuneClient build() {
            return new SolvertuneClient(this);
        }
    }

    /** The service's base URL. */
    public URI url() {
        return base;
    }

    /** Whether a token is sent. */
    public boolean hasToken() {
        return token != null;
    }

    // ---- identity and models ---------------------------------------------------------------------------------------

    /** Who the token is: {@code {"name", "role", ...}}. */
    public JsonNode whoami() {
        return getJson("/api/v1/whoami", Map.of());
    }

    /** Every model the token may read (all pages). */
    public List<Model> models() {
        List<Model> out = new ArrayList<>();
        pages("/api/v1/models", new LinkedHashMap<>(), n -> out.add(Model.of(n)));
        return out;
    }

    /** One model by id or name. */
    public Model model(String idOrName) {
        return Model.of(getJson("/api/v1/models/" + seg(idOrName), Map.of()));
    }

    // ---- configs -----------------------------------------------------------------------------------------------------

    /**
     * Published configs (all pages), filtered; a null filter matches everything.
     *
     * @param model  model id or name (null: every model the token may read)
     * @param method tuning method (baseline, dc, iia-ddim, dpmsolver-v3, ...)
     */
    public List<ConfigSummary> configs(String model, String method, Integer nfe, Double guidance) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("model", model);
        q.put("method", method);
        q.put("nfe", nfe);
        q.put("guidance", guidance);
        List<ConfigSummary> out = new ArrayList<>();
        pages("/api/v1/configs", q, n -> out.add(ConfigSummary.of(n)));
        return out;
    }

    /** A config by id. */
    public ConfigDocument config(long id) {
        return document("/api/v1/configs/" + positive(id, "id"), Map.of());
    }

    /** An alias of a config key. */
    public enum Alias {
        /** The newest version of the key. */
        LATEST,
        /** The version an admin promoted. */
        STABLE
    }

    /**
     * The config an alias of {@code model}'s key points at; the filters (method, solver, nfe, guidance, spacing) must
     * select exactly one key, else the server answers 400 listing the candidates.
     */
    public ConfigDocument alias(String model, Alias alias, Map<String, ?> filters) {
        return document("/api/v1/models/" + seg(model) + "/configs/" + alias.name().toLowerCase(Locale.ROOT),
                filters);
    }

    /** The recommended config for (model, NFE, guidance): the lowest held-out error of every method and baseline. */
    public ConfigDocument recommended(String model, int nfe, double guidance) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("model", model);
        q.put("nfe", positive(nfe, "nfe"));
        q.put("guidance", guidance);
        return document("/api/v1/configs/best", q);
    }

    /** Points the config's key's {@code stable} alias at it (admin). */
    public JsonNode promote(long id) {
        return send("PUT", "/api/v1/configs/" + positive(id, "id") + "/stable", Map.of(), null, Map.of()).json();
    }

    /** Every export format of a config with its verdict in that consumer. */
    public List<ExportVerdict> exports(long id) {
        List<ExportVerdict> out = new ArrayList<>();
        getJson("/api/v1/configs/" + positive(id, "id") + "/exports", Map.of()).path("formats")
                .forEach(n -> out.add(ExportVerdict.of(n)));
        return out;
    }

    /**
     * Downloads a config in an export format to {@code out} (through a temporary file in the same directory, so a
     * failed download leaves nothing). A format whose consumer would not reproduce the validated error is refused
     * with a 409 {@link ApiException} naming the formats that do.
     *
     * @return the number of bytes written
     */
    public long download(long id, String format, Path out) {
        if (format == null || !format.matches("[a-z0-9-]{1,40}")) {
            throw new IllegalArgumentException("format: not a format name: '" + format + "'");
        }
        HttpRequest req = request("/api/v1/configs/" + positive(id, "id") + "/export/" + format, Map.of()).GET()
                .build();
        HttpResponse<InputStream> r = call(req, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() >= 400) {
                throw ApiException.of(r.statusCode(), new String(in.readNBytes(1 << 16), StandardCharsets.UTF_8));
            }
            Path dir = out.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".download-", ".part");
            try {
                long n = Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return n;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("download to " + out + ": " + e.getMessage(), e);
        }
    }

    // ---- jobs --------------------------------------------------------------------------------------------------------

    /**
     * Submits a tuning job spec (the JSON of tuning-jobs/*.json); with an idempotency key a repeated submit returns
     * the existing job instead of creating a second one.
     */
    public Submitted submit(JsonNode spec, String idempotencyKey) {
        if (spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("spec: expected a JSON object");
        }
        Map<String, String> h = new LinkedHashMap<>();
        if (idempotencyKey != null) {
            h.put("Idempotency-Key", idempotencyKey);
        }
        Reply r = send("POST", "/api/v1/jobs", Map.of(), spec, h);
        return new Submitted(Job.of(r.json()), r.status() == 202);
    }

    /**
     * A submitted job.
     *
     * @param created true when this call created the job (202), false when an earlier submit with the same idempotency
     *                key did (200)
     */
    public record Submitted(Job job, boolean created) {
    }

    /** Submits the spec in a JSON file, optionally for another registered model than the spec's. */
    public Submitted submit(Path specFile, String model, String idempotencyKey) throws IOException {
        JsonNode spec = JSON.readTree(specFile.toFile());
        if (spec == null || !spec.isObject()) {
            throw new IllegalArgumentException("spec: expected a JSON object in " + specFile);
        }
        if (model != null) {
            ((ObjectNode) spec).put("model", model);
        }
        return submit(spec, idempotencyKey);
    }

    /** A job with its first page of stages. */
    public Job job(long id) {
        return Job.of(getJson("/api/v1/jobs/" + positive(id, "id"), Map.of()));
    }

    /** Cancels a job (its running stages stop at their next checkpoint). */
    public Job cancel(long id) {
        return Job.of(send("POST", "/api/v1/jobs/" + positive(id, "id") + "/cancel", Map.of(), null, Map.of()).json());
    }

    /** Retries a failed job's failed stages. */
    public Job retry(long id) {
        return Job.of(send("POST", "/api/v1/jobs/" + positive(id, "id") + "/retry", Map.of(), null, Map.of()).json());
    }

    /** Log lines after line id {@code after} ({@code {"lines": [...], "nextAfter": n}}). */
    public JsonNode logs(long id, long after) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("after", after);
        return getJson("/api/v1/jobs/" + positive(id, "id") + "/logs", q);
    }

    /**
     * Polls a job until it ends, calling {@code progress} on every change; returns the final job (whatever its
     * state: check {@link Job#state()}).
     *
     * @throws ApiException with status 0 when {@code timeout} passes first
     */
    public Job await(long id, Duration interval, Duration timeout, Consumer<Job> progress)
            throws InterruptedException {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval: must be positive");
        }
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        JsonNode last = null;
        while (true) {
            Job j = job(id);
            JsonNode seen = j.json().deepCopy();
            if (seen instanceof ObjectNode o && o.get("progress") instanceof ObjectNode p) {
                p.remove("etaSeconds");
            }
            if (progress != null && !seen.equals(last)) {
                progress.accept(j);
            }
            last = seen;
            if (j.state().terminal()) {
                return j;
            }
            if (System.nanoTime() > deadline) {
                throw ApiException.transport("job " + id + " still " + j.state() + " after " + timeout.toSeconds()
                        + " s");
            }
            Thread.sleep(Math.max(1, interval.toMillis()));
        }
    }

    /** The configs a finished job published, fetched. */
    public List<ConfigDocument> publishedConfigs(long jobId) {
        List<ConfigDocument> out = new ArrayList<>();
        for (long c : job(jobId).configIds()) {
            out.add(config(c));
        }
        return out;
    }

    // ---- transport ---------------------------------------------------------------------------------------------------

    /** A response read into memory. */
    private record Reply(int status, byte[] body, HttpResponse<?> response) {
        JsonNode json() {
            try {
                return body.length == 0 ? null : JSON.readTree(body);
            } catch (IOException e) {
                throw new ApiException(status, null, "the server answered with a body that is not JSON", List.of(),
                        status + ": the server answered with a body that is not JSON");
            }
        }
    }

    private JsonNode getJson(String path, Map<String, ?> query) {
        return send("GET", path, query, null, Map.of()).json();
    }

    private void pages(String path, Map<String, Object> query, Consumer<JsonNode> item) {
        Map<String, Object> q = new LinkedHashMap<>(query);
        for (int guard = 0; guard < 100_000; guard++) {
            JsonNode page = getJson(path, q);
            page.path("items").forEach(item);
            if (!page.hasNonNull("nextAfter")) {
                return;
            }
            q.put("after", page.get("nextAfter").asLong());
        }
        throw new IllegalStateException(path + ": the listing does not end");
    }

    /** GET of a config document with the on-disk ETag cache. */
    private ConfigDocument document(String path, Map<String, ?> query) {
        URI uri = uri(path, query);
        Path cached = cacheDir == null ? null : cacheDir.resolve(sha256(uri.toString().getBytes(StandardCharsets.UTF_8)));
        CacheEntry entry = cached == null ? null : CacheEntry.read(cached, uri.toString());
        HttpRequest.Builder b = request(uri);
        if (entry != null) {
            b.header("If-None-Match", entry.etag());
        }
        HttpResponse<InputStream> r = call(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] body = read(r);
        if (r.statusCode() == 304 && entry != null) {
            return new ConfigDocument(entry.body(), entry.etag());
        }
        if (r.statusCode() >= 400) {
            throw ApiException.of(r.statusCode(), new String(body, StandardCharsets.UTF_8));
        }
        String etag = r.headers().firstValue("ETag").orElse(null);
        ConfigDocument d = new ConfigDocument(body, etag);
        if (cached != null && etag != null) {
            CacheEntry.write(cached, uri.toString(), etag, body);
        }
        return d;
    }

    private Reply send(String method, String path, Map<String, ?> query, JsonNode json, Map<String, String> headers) {
        HttpRequest.Builder b = request(path, query);
        headers.forEach(b::header);
        if (json != null) {
            try {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(json)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<InputStream> r = call(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] body = read(r);
        if (r.statusCode() >= 400) {
            throw ApiException.of(r.statusCode(), new String(body, StandardCharsets.UTF_8));
        }
        return new Reply(r.statusCode(), body, r);
    }

    private static byte[] read(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            if (b.length > MAX_BODY) {
                throw ApiException.transport(r.uri() + ": response larger than " + (MAX_BODY >> 20) + " MiB");
            }
            return b;
        } catch (IOException e) {
            throw ApiException.transport("reading " + r.uri() + " failed: " + e.getMessage());
        }
    }

    private HttpRequest.Builder request(String path, Map<String, ?> query) {
        return request(uri(path, query));
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Accept", "application/json, application/problem+json, */*")
                .header("User-Agent", "solvertune-java-client");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private URI uri(String path, Map<String, ?> query) {
        StringBuilder s = new StringBuilder(base.toString()).append(path);
        char sep = '?';
        for (Map.Entry<String, ?> e : query.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            s.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8));
            sep = '&';
        }
        return URI.create(s.toString());
    }

    private <T> HttpResponse<T> call(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException e) {
            throw ApiException.transport("cannot connect to " + base + " (is the server running?)");
        } catch (HttpTimeoutException e) {
            throw ApiException.transport("request to " + req.uri() + " timed out");
        } catch (IOException e) {
            throw ApiException.transport("request to " + req.uri() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.transport("interrupted");
        }
    }

    private static String seg(String s) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("model: required (an id or name)");
        }
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static long positive(long v, String name) {
        if (v < 1) {
            throw new IllegalArgumentException(name + ": must be >= 1, got " + v);
        }
        return v;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One cached document: {@code <sha256(url)>.json} (url, etag, body hash) beside {@code <sha256(url)>.body} — the
     * Python client's layout, so both clients share a cache directory.
     */
    private record CacheEntry(String etag, byte[] body) {
        static CacheEntry read(Path p, String url) {
            try {
                JsonNode meta = JSON.readTree(p.resolveSibling(p.getFileName() + ".json").toFile());
                byte[] body = Files.readAllBytes(p.resolveSibling(p.getFileName() + ".body"));
                if (!url.equals(meta.path("url").asText()) || !sha256(body).equals(meta.path("bodySha256").asText())
                        || !meta.hasNonNull("etag")) {
                    return null;
                }
                return new CacheEntry(meta.get("etag").asText(), body);
            } catch (IOException | RuntimeException e) {
                return null; // absent or damaged: fetch again
            }
        }

        static void write(Path p, String url, String etag, byte[] body) {
            try {
                Files.createDirectories(p.getParent());
                ObjectNode meta = JSON.createObjectNode();
                meta.put("url", url);
                meta.put("etag", etag);
                meta.put("bodySha256", sha256(body));
                Path b = p.resolveSibling(p.getFileName() + ".body");
                Path m = p.resolveSibling(p.getFileName() + ".json");
                Path tb = Files.createTempFile(p.getParent(), ".cache-", ".part");
                Files.write(tb, body);
                Files.move(tb, b, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Path tm = Files.createTempFile(p.getParent(), ".cache-", ".part");
                Files.write(tm, JSON.writeValueAsBytes(meta));
                Files.move(tm, m, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // a cache that cannot be written is no cache: the document was fetched all the same
            }
        }
    }
}
