package io.solvertune.service.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The artifact store every host reaches: a {@link BlobStore} (PostgreSQL or S3-compatible) with the local disk only as
 * a cache ({@code <cache>/sha256/ab/abcdef...}). Files are content-addressed and streamed both ways; a fetched blob is
 * verified against its digest before it enters the cache. A directory (a stage's output: a teacher shard, a merged
 * set, EMS statistics, a fitted set, checkpoints) is stored as a tree: each file a blob, plus a manifest blob listing
 * relative paths, digests and sizes. Framework-free.
 */
public final class SharedArtifacts {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Manifest format of a stored directory. */
    public static final String TREE_FORMAT = "solvertune-tree/1";

    private final BlobStore store;
    private final Path cache;

    public SharedArtifacts(BlobStore store, Path cacheDir) {
        this.store = store;
        this.cache = cacheDir.toAbsolutePath().normalize();
    }

    public BlobStore store() {
        return store;
    }

    public Path cacheDir() {
        return cache;
    }

    /** Stores a file; returns its digest. */
    public Blobs.Digest putFile(Path file) throws IOException {
        Blobs.Digest d = Blobs.digest(file);
        store.put(d.sha256(), d.size(), file);
        return d;
    }

    /** Stores a stream (spooled through the local cache, hashed on the way); returns its digest. */
    public Blobs.Digest put(InputStream in) throws IOException {
        Path tmp = tempFile();
        try {
            Blobs.Digest d;
            try (OutputStream out = Files.newOutputStream(tmp)) {
                d = Blobs.copy(in, out);
            }
            store.put(d.sha256(), d.size(), tmp);
            moveIntoCache(tmp, d.sha256());
            return d;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The local copy of blob {@code sha256}: from the cache, else streamed from the store, verified and cached.
     *
     * @throws java.nio.file.NoSuchFileException if the store does not have it
     * @throws IOException                      if the fetched bytes do not have the digest
     */
    public Path fetch(String sha256) throws IOException {
        Path local = cache.resolve(Blobs.key(sha256));
        if (Files.isRegularFile(local)) {
            return local;
        }
        Path tmp = tempFile();
        try {
            Blobs.Digest d;
            try (InputStream in = store.open(sha256); OutputStream out = Files.newOutputStream(tmp)) {
                d = Blobs.copy(in, out);
            }
            if (!d.sha256().equals(sha256)) {
                throw new IOException("blob " + sha256 + " from " + store.name() + " has digest " + d.sha256()
                        + " (corrupt or tampered); not cached");
            }
            moveIntoCache(tmp, sha256);
            return local;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Stores every regular file under {@code dir} and a manifest of them; returns the manifest's digest. */
    public String putTree(Path dir) throws IOException {
        return putTree(dir, p -> true, null).sha256();
    }

    /** A stored directory: its manifest's digest, how many files and bytes it lists. */
    public record Tree(String sha256, int files, long bytes) {
    }

    /**
     * Digests of files seen before, by path, size and modification time: a directory stored again and again (a
     * running stage's checkpoints) hashes only the files that changed.
     */
    public static final class DigestCache {
        private record Seen(long size, long modified, Blobs.Digest digest) {
        }

        private final Map<Path, Seen> seen = new HashMap<>();

        synchronized Blobs.Digest digest(Path file) throws IOException {
            long size = Files.size(file);
            long modified = Files.getLastModifiedTime(file).toMillis();
            Seen s = seen.get(file);
            if (s != null && s.size() == size && s.modified() == modified) {
                return s.digest();
            }
            Blobs.Digest d = Blobs.digest(file);
            seen.put(file, new Seen(size, modified, d));
            return d;
        }
    }

    /**
     * Stores the regular files under {@code dir} that {@code include} accepts, and a manifest of them.
     *
     * @param cache digests of earlier calls (null: hash every file)
     */
    public Tree putTree(Path dir, Predicate<Path> include, DigestCache cache) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(include).sorted().toList();
        }
        ObjectNode manifest = JSON.createObjectNode().put("format", TREE_FORMAT);
        ArrayNode list = manifest.putArray("files");
        long bytes = 0;
        for (Path f : files) {
            Blobs.Digest d = cache == null ? Blobs.digest(f) : cache.digest(f);
            store.put(d.sha256(), d.size(), f);
            bytes += d.size();
            list.addObject().put("path", dir.relativize(f).toString().replace('\\', '/')).put("sha256", d.sha256())
                    .put("size", d.size());
        }
        String sha = put(new java.io.ByteArrayInputStream(JSON.writeValueAsBytes(manifest))).sha256();
        return new Tree(sha, files.size(), bytes);
    }

    /** The digests of the files tree {@code manifestSha} lists. */
    public List<String> treeBlobs(String manifestSha) throws IOException {
        JsonNode manifest = JSON.readTree(fetch(manifestSha).toFile());
        if (!TREE_FORMAT.equals(manifest.path("format").asText())) {
            throw new IOException("blob " + manifestSha + " is not a " + TREE_FORMAT + " manifest");
        }
        List<String> shas = new ArrayList<>();
        for (JsonNode f : manifest.path("files")) {
            shas.add(f.path("sha256").asText());
        }
        return shas;
    }

    /**
     * Materialises tree {@code manifestSha} under {@code dir}: files already there with the right size and digest are
     * kept, others are fetched (through the cache) and written atomically.
     *
     * @return the relative paths written
     */
    public List<String> fetchTree(String manifestSha, Path dir) throws IOException {
        JsonNode manifest = JSON.readTree(fetch(manifestSha).toFile());
        if (!TREE_FORMAT.equals(manifest.path("format").asText())) {
            throw new IOException("blob " + manifestSha + " is not a " + TREE_FORMAT + " manifest");
        }
        Path root = dir.toAbsolutePath().normalize();
        List<String> written = new ArrayList<>();
        for (JsonNode f : manifest.path("files")) {
            String rel = f.path("path").asText();
            Path target = root.resolve(rel).normalize();
            if (!target.startsWith(root) || rel.isEmpty()) {
                throw new IOException("manifest " + manifestSha + ": path '" + rel + "' leaves the directory");
            }
            String sha = f.path("sha256").asText();
            if (Files.isRegularFile(target) && Files.size(target) == f.path("size").asLong(-1)
                    && Blobs.digest(target).sha256().equals(sha)) {
                continue;
            }
            Path src = fetch(sha);
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(target.getFileName() + ".fetch");
            Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            written.add(rel);
        }
        return written;
    }

    private Path tempFile() throws IOException {
        Path dir = cache.resolve("tmp");
        Files.createDirectories(dir);
        return Files.createTempFile(dir, "blob-", ".part");
    }

    private void moveIntoCache(Path tmp, String sha256) throws IOException {
        Path local = cache.resolve(Blobs.key(sha256));
        Files.createDirectories(local.getParent());
        try {
            Files.move(tmp, local, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // another thread cached the same content
        }
    }
}
