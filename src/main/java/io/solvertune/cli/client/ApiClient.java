package io.solvertune.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;

/**
 * A small client of the solvertune REST API (java.net.http): bearer token on every request, problem-details errors
 * turned into one-line {@link ApiException}s that name the offending fields.
 */
public final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final HttpClient http;

    public ApiClient(String server, String token) {
        String s = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        try {
            this.base = URI.create(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--server: not a URL: " + server);
        }
        if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https"))) {
            throw new IllegalArgumentException("--server: expected an http(s) URL, got " + server);
        }
        this.token = token;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A failed request: the status and the server's problem detail (or the transport error). */
    public static final class ApiException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        public ApiException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** A JSON response: status, body and headers of interest. */
    public record Reply(int status, JsonNode body, Map<String, java.util.List<String>> headers) {
    }

    public Reply get(String path) {
        return send(request(path).GET().build());
    }

    public Reply postJson(String path, String json, Map<String, String> headers) {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        headers.forEach(b::header);
        return send(b.build());
    }

    /** Streams a GET response body to {@code out} (through a temp file, so a failed download leaves nothing). */
    public long download(String path, Path out) throws IOException {
        HttpResponse<InputStream> r = call(request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 400) {
            try (InputStream in = r.body()) {
                throw problem(r.statusCode(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".download-", ".part");
        try (InputStream in = r.body()) {
            long n = Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return n;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(5))
                .header("Accept", "application/json, application/problem+json, */*");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token.strip());
        }
        return b;
    }

    private Reply send(HttpRequest req) {
        HttpResponse<String> r = call(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 400) {
            throw problem(r.statusCode(), r.body());
        }
        JsonNode body = null;
        if (r.body() != null && !r.body().isBlank()) {
            try {
                body = JSON.readTree(r.body());
            } catch (IOException e) {
                throw new ApiException(r.statusCode(), "the server answered " + r.statusCode()
                        + " with a body that is not JSON");
            }
        }
        return new Reply(r.statusCode(), body, r.headers().map());
    }

    private <T> HttpResponse<T> call(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException e) {
            throw new ApiException(0, "cannot connect to " + base + " (is the server running? --server)");
        } catch (IOException e) {
            throw new ApiException(0, "request to " + req.uri() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(0, "interrupted");
        }
    }

    /** "401 Unauthorized: detail (field: message; ...)" from a problem-details body. */
    static ApiException problem(int status, String body) {
        String msg = status + "";
        try {
            JsonNode p = JSON.readTree(body);
            if (p != null && p.isObject()) {
                msg += " " + p.path("title").asText("");
                if (p.hasNonNull("detail")) {
                    msg += ": " + p.get("detail").asText();
                }
                StringBuilder fields = new StringBuilder();
                for (JsonNode e : p.path("errors")) {
                    String f = e.path("field").asText() + ": " + e.path("message").asText();
                    if (!msg.contains(e.path("message").asText())) {
                        fields.append(fields.length() == 0 ? "" : "; ").append(f);
                    }
                }
                if (fields.length() > 0) {
                    msg += " (" + fields + ")";
                }
                return new ApiException(status, msg.strip());
            }
        } catch (IOException ignored) {
            // not a problem body
        }
        return new ApiException(status, msg + (body == null || body.isBlank() ? "" : ": " + body.strip()));
    }
}
