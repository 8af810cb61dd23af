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

    /** A multipart upload in the fake: its key, when it began, its parts by number. */
    record Upload(String path, java.time.Instant initiated, Map<Integer, byte[]> parts) {
    }

    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
    /** Part numbers the fake refuses (500 InternalError), to make an upload fail. */
    private final java.util.Set<Integer> failParts = ConcurrentHashMap.newKeySet();
    /** Content-Length of every UploadPart request (as sent, before aws-chunked decoding: the decoded size). */
    private final List<Integer> partSizes = new CopyOnWriteArrayList<>();

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> q = new java.util.TreeMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                String[] p = kv.split("=", 2);
                q.put(java.net.URLDecoder.decode(p[0], StandardCharsets.UTF_8),
                        p.length > 1 ? java.net.URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
            }
        }
        return q;
    }

    private static void xml(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + body).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/xml");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    /** CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads, ListParts. */
    private boolean multipart(HttpExchange ex, String path, byte[] body) throws IOException {
        Map<String, String> q = query(ex);
        String m = ex.getRequestMethod();
        String ns = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
        if (m.equals("POST") && q.containsKey("uploads")) {
            String id = "up-" + uploads.size() + "-" + System.nanoTime();
            uploads.put(id, new Upload(path, java.time.Instant.now(), new java.util.TreeMap<>()));
            xml(ex, 200, "<InitiateMultipartUploadResult" + ns + "><Bucket>tuning</Bucket><Key>" + path
                    + "</Key><UploadId>" + id + "</UploadId></InitiateMultipartUploadResult>");
            return true;
        }
        if (m.equals("PUT") && q.containsKey("uploadId")) {
            int n = Integer.parseInt(q.get("partNumber"));
            Upload u = uploads.get(q.get("uploadId"));
            if (u == null) {
                xml(ex, 404, "<Error><Code>NoSuchUpload</Code><Message>no such upload</Message></Error>");
                return true;
            }
            if (failParts.contains(n)) {
                xml(ex, 500, "<Error><Code>InternalError</Code><Message>injected</Message></Error>");
                return true;
            }
            String sha = ex.getRequestHeaders().getFirst("x-amz-content-sha256");
            byte[] data = sha != null && sha.startsWith("STREAMING-") ? decodeAwsChunked(body) : body;
            partSizes.add(data.length);
            u.parts().put(n, data);
            ex.getResponseHeaders().add("ETag", "\"etag-" + n + "\"");
            ex.sendResponseHeaders(200, -1);
            return true;
        }
        if (m.equals("POST") && q.containsKey("uploadId")) {
            Upload u = uploads.remove(q.get("uploadId"));
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            u.parts().values().forEach(all::writeBytes);
            objects.put(u.path(), all.toByteArray());
            xml(ex, 200, "<CompleteMultipartUploadResult" + ns + "><Bucket>tuning</Bucket><Key>" + path
                    + "</Key><ETag>\"done\"</ETag></CompleteMultipartUploadResult>");
            return true;
        }
        if (m.equals("DELETE") && q.containsKey("uploadId")) {
            uploads.remove(q.get("uploadId"));
            ex.sendResponseHeaders(204, -1);
            return true;
        }
        if (m.equals("GET") && q.containsKey("uploads")) {
            StringBuilder sb = new StringBuilder("<ListMultipartUploadsResult" + ns + "><Bucket>tuning</Bucket>"
                    + "<IsTruncated>false</IsTruncated>");
            String prefix = "/tuning/" + q.getOrDefault("prefix", "");
            uploads.forEach((id, u) -> {
                if (u.path().startsWith(prefix)) {
                    sb.append("<Upload><Key>").append(u.path().substring("/tuning/".length())).append("</Key><UploadId>")
                            .append(id).append("</UploadId><Initiated>").append(u.initiated())
                            .append("</Initiated></Upload>");
                }
            });
            xml(ex, 200, sb.append("</ListMultipartUploadsResult>").toString());
            return true;
        }
        if (m.equals("GET") && q.containsKey("uploadId")) {
            Upload u = uploads.get(q.get("uploadId"));
            StringBuilder sb = new StringBuilder("<ListPartsResult" + ns + "><IsTruncated>false</IsTruncated>");
            u.parts().forEach((n, d) -> sb.append("<Part><PartNumber>").append(n).append("</PartNumber><ETag>\"etag-")
                    .append(n).append("\"</ETag><Size>").append(d.length).append("</Size></Part>"));
            xml(ex, 200, sb.append("</ListPartsResult>").toString());
            return true;
        }
        return false;
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        seen.add(new Seen(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders())));
        byte[] body = ex.getRequestBody().readAllBytes();
        if (multipart(ex, path, body)) {
            ex.close();
            return;
        }
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

    private S3BlobStore multipartStore() {
        return new S3BlobStore(new S3BlobStore.Settings(
                Optional.of(URI.create("http://127.0.0.1:" + server.getAddress().getPort())), "eu-west-1",
                "tuning", "fleet-a/", true, Optional.of("AKIDEXAMPLE"), Optional.of("secret"), S3BlobStore.MIN_PART,
                S3BlobStore.MIN_PART));
    }

    @Test
    void aLargeBlobGoesUpInStreamedPartsAndAFailedUploadIsAbortedLeavingNoParts() throws Exception {
        int part = (int) S3BlobStore.MIN_PART;
        byte[] data = new byte[2 * part + 1234];
        new Random(11).nextBytes(data);
        Path f = Files.write(tmp.resolve("big.npz"), data);
        Blobs.Digest d = Blobs.digest(f);
        try (S3BlobStore s3 = multipartStore()) {
            String key = "/tuning/fleet-a/sha256/" + d.sha256().substring(0, 2) + "/" + d.sha256();
            s3.put(d.sha256(), d.size(), f);
            assertArrayEquals(data, objects.get(key), "the parts assemble to the file");
            assertEquals(List.of(part, part, 1234), partSizes, "three parts: two of part-size and the rest");
            Seen create = seen.stream().filter(r -> r.method().equals("POST")).findFirst().orElseThrow();
            assertEquals(d.sha256(), header(create, "x-amz-meta-sha256"), "the digest in the object's metadata");
            assertTrue(uploads.isEmpty(), "completed");
            try (InputStream in = s3.open(d.sha256())) {
                assertArrayEquals(data, in.readAllBytes());
            }

            // part 2 fails on every try: the upload is aborted, nothing is stored, no parts are left behind
            byte[] other = new byte[2 * part + 77];
            new Random(12).nextBytes(other);
            Path g = Files.write(tmp.resolve("big2.npz"), other);
            Blobs.Digest e = Blobs.digest(g);
            failParts.add(2);
            IOException err = assertThrows(IOException.class, () -> s3.put(e.sha256(), e.size(), g));
            assertTrue(err.getMessage().contains("artifact store (s3://tuning)"), err.getMessage());
            assertTrue(uploads.isEmpty(), "aborted: " + uploads.keySet());
            assertTrue(seen.stream().anyMatch(r -> r.method().equals("DELETE")), "AbortMultipartUpload sent");
            assertFalse(s3.exists(e.sha256()));
            failParts.clear();

            // a writer that died mid-upload: the sweep aborts its upload once it is old enough, and counts its bytes
            uploads.put("dead", new Upload("/tuning/fleet-a/sha256/ab/" + "ab".repeat(32),
                    java.time.Instant.now().minusSeconds(7200), new java.util.TreeMap<>(Map.of(1, new byte[1000]))));
            uploads.put("young", new Upload("/tuning/fleet-a/sha256/cd/" + "cd".repeat(32),
                    java.time.Instant.now(), new java.util.TreeMap<>(Map.of(1, new byte[10]))));
            BlobStore.Swept swept = s3.sweepIncomplete(java.time.Duration.ofHours(1));
            assertEquals(new BlobStore.Swept(1, 1000), swept);
            assertEquals(java.util.Set.of("young"), uploads.keySet(), "an upload younger than min-age is left");
        }
    }

    @Test
    void partSizeGrowsPastTenThousandParts() {
        try (S3BlobStore s3 = multipartStore()) {
            assertEquals(S3BlobStore.MIN_PART, s3.partSizeFor(3 * S3BlobStore.MIN_PART));
            long huge = 100L << 30; // 100 GiB: 5 MiB parts would be 20,480 of them
            long p = s3.partSizeFor(huge);
            assertTrue(p * S3BlobStore.MAX_PARTS >= huge && p % (1 << 20) == 0, Long.toString(p));
            assertEquals(11L << 20, p, "the next whole MiB above 100 GiB / 10,000");
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
        e = assertThrows(IllegalArgumentException.class, () -> new S3BlobStore.Settings(Optional.empty(),
                "us-east-1", "b", "", true, Optional.empty(), Optional.empty(), 64L << 20, 1L << 20));
        assertTrue(e.getMessage().startsWith("solvertune.artifacts.s3.part-size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new S3BlobStore.Settings(Optional.empty(),
                "us-east-1", "b", "", true, Optional.empty(), Optional.empty(), 8L << 20, 16L << 20));
        assertTrue(e.getMessage().startsWith("solvertune.artifacts.s3.multipart-threshold"), e.getMessage());
    }

    private static String header(Seen r, String name) {
        return r.headers().entrySet().stream().filter(h -> h.getKey().equalsIgnoreCase(name))
                .map(h -> h.getValue().get(0)).findFirst().orElse(null);
    }
}
