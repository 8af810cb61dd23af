package io.solvertune.service.artifacts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 backend through the real AWS SDK v2 client against a small in-test server that speaks the three S3 REST
 * operations the backend uses (path-style PUT, HEAD and GET Object, 404 NoSuchKey as XML, the SDK's aws-chunked upload
 * encoding). What this proves: the requests the SDK builds from our settings (endpoint, bucket, key layout, metadata,
 * SigV4 credential scope) and that bytes round-trip. What it does not: signature verification and the behaviour of a
 * real S3/MinIO (none is installed here).
 */
class S3BlobStoreTest {

    /** One request as the fake saw it. */
    record Seen(String method, String path, Map<String, List<String>> headers) {
    }

    private HttpServer server;
    private final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();

    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        seen.add(new Seen(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders())));
        byte[] body = ex.getRequestBody().readAllBytes();
        switch (ex.getRequestMethod()) {
            case "PUT" -> {
                String sha = ex.getRequestHeaders().getFirst("x-amz-content-sha256");
                objects.put(path, sha != null && sha.startsWith("STREAMING-") ? decodeAwsChunked(body) : body);
                ex.getResponseHeaders().add("ETag", "\"x\"");
                ex.sendResponseHeaders(200, -1);
            }
            case "HEAD" -> {
                byte[] o = objects.get(path);
                if (o == null) {
                    ex.sendResponseHeaders(404, -1);
                } else {
                    ex.getResponseHeaders().add("Content-Length", Long.toString(o.length));
                    ex.sendResponseHeaders(200, -1);
                }
            }
            case "GET" -> {
                byte[] o = objects.get(path);
                if (o == null) {
                    byte[] err = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                            + "<Message>The specified key does not exist.</Message></Error>")
                            .getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().add("Content-Type", "application/xml");
                    ex.sendResponseHeaders(404, err.length);
                    ex.getResponseBody().write(err);
                } else {
                    ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
                    ex.sendResponseHeaders(200, o.length);
                    ex.getResponseBody().write(o);
                }
            }
            default -> ex.sendResponseHeaders(405, -1);
        }
        ex.close();
    }

    /** S3's aws-chunked body: "hex-size;chunk-signature=...\r\n" data "\r\n", ending with a 0-size chunk. */
    static byte[] decodeAwsChunked(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < body.length) {
            int eol = i;
            while (!(body[eol] == '\r' && body[eol + 1] == '\n')) {
                eol++;
            }
            String header = new String(body, i, eol - i, StandardCharsets.US_ASCII);
            int size = Integer.parseInt(header.split(";", 2)[0].strip(), 16);
            if (size == 0) {
                break;
            }
            out.write(body, eol + 2, size);
            i = eol + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private S3BlobStore store() {
        return new S3BlobStore(new S3BlobStore.Settings(
                Optional.of(URI.create("http://127.0.0.1:" + server.getAddress().getPort())), "eu-west-1",
                "tuning", "fleet-a/", true, Optional.of("AKIDEXAMPLE"), Optional.of("secret")));
    }

    @Test
    void putHeadGetThroughTheSdkWithOurKeyLayoutMetadataAndCredentials() throws Exception {
        byte[] data = new byte[200_000];
        new Random(5).nextBytes(data);
        Path f = Files.write(tmp.resolve("shard.npz"), data);
        Blobs.Digest d = Blobs.digest(f);
        try (S3BlobStore s3 = store()) {
            String key = "/tuning/fleet-a/sha256/" + d.sha256().substring(0, 2) + "/" + d.sha256();
            assertEquals("fleet-a/sha256/" + d.sha256().substring(0, 2) + "/" + d.sha256(), s3.objectKey(d.sha256()));
            assertFalse(s3.exists(d.sha256()));
            s3.put(d.sha256(), d.size(), f);
            assertArrayEquals(data, objects.get(key), "the object holds exactly the file's bytes");
            Seen put = seen.stream().filter(r -> r.method().equals("PUT")).findFirst().orElseThrow();
            assertEquals(key, put.path(), "path-style: /bucket/prefix + sha256/ab/<sha>");
            assertEquals(d.sha256(), header(put, "x-amz-meta-sha256"));
            String auth = header(put, "Authorization");
            assertTrue(auth.startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") && auth.contains("/eu-west-1/s3/"),
                    auth);
            assertTrue(s3.exists(d.sha256()));
            int before = seen.size();
            s3.put(d.sha256(), d.size(), f);
            assertEquals(List.of("HEAD"), seen.subList(before, seen.size()).stream().map(Seen::method).toList(),
                    "stored content is not uploaded again");
            try (InputStream in = s3.open(d.sha256())) {
                assertArrayEquals(data, in.readAllBytes());
            }
            assertThrows(NoSuchFileException.class, () -> s3.open("f".repeat(64)));

            // the shared store on top: another host's cache fetches and verifies it
            SharedArtifacts other = new SharedArtifacts(s3, tmp.resolve("cache"));
            assertArrayEquals(data, Files.readAllBytes(other.fetch(d.sha256())));
            objects.put(key, new byte[] {1, 2, 3});
            SharedArtifacts third = new SharedArtifacts(s3, tmp.resolve("cache3"));
            IOException e = assertThrows(IOException.class, () -> third.fetch(d.sha256()));
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        }
    }

    @Test
    void settingsAreCheckedNamingTheKeys() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new S3BlobStore.Settings(
                Optional.empty(), "us-east-1", " ", "", true, Optional.empty(), Optional.empty()));
        assertTrue(e.getMessage().startsWith("solvertune.artifacts.s3.bucket"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new S3BlobStore.Settings(Optional.empty(),
                "us-east-1", "b", "", true, Optional.of("AKID"), Optional.empty()));
        assertTrue(e.getMessage().contains("give both or neither"), e.getMessage());
    }

    private static String header(Seen r, String name) {
        return r.headers().entrySet().stream().filter(h -> h.getKey().equalsIgnoreCase(name))
                .map(h -> h.getValue().get(0)).findFirst().orElse(null);
    }
}
