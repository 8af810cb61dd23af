package io.solvertune.service.artifacts;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.MemorySize;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Content-addressed file store: files under {@code solvertune.artifact-root} at {@code sha256/ab/abcdef...}, one row
 * per file in table {@code artifacts}. Under a per-sha256 PostgreSQL advisory lock the store keeps the invariant
 * <em>a row exists ⇒ its file exists</em>, across processes sharing the database and the root directory.
 *
 * <p>Writing is two-phase so that callers can validate a file before anyone can reference it:
 * <ol>
 *   <li>{@link #stage} streams the bytes to a temporary file in the root's {@code tmp/} directory (same file system),
 *       hashing and counting them; past {@code maxBytes} it stops reading, deletes the temporary file and throws
 *       {@link ArtifactTooLargeException}. The {@link Staged} file can be read (validated) and is deleted on
 *       {@link Staged#close()} unless committed.</li>
 *   <li>{@link #commit} (inside the caller's transaction) moves it atomically into place — or drops it if the content
 *       is already stored — and inserts the row. If the caller's transaction then rolls back, the caller must call
 *       {@link #discardIfUnreferenced(String)} so the file does not outlive its row.</li>
 * </ol>
 * {@link #put(InputStream, String, long)} does both in a transaction of its own. Files are made read-only.
 */
@ApplicationScoped
public class ArtifactStore {

    private static final Logger LOG = Logger.getLogger(ArtifactStore.class);
    private static final Pattern SHA256 = Pattern.compile("^[0-9a-f]{64}$");
    /** First key of this store's advisory locks ('STAR'), so they cannot collide with other users of pg locks. */
    private static final int LOCK_CLASS = 0x53544152;
    private static final Duration STALE_TEMP = Duration.ofHours(24);

    /** A stored file. */
    public record Stored(long id, String sha256, long sizeBytes, String kind, Path path, Instant createdAt) {
    }

    /** Bytes written to a temporary file, hashed and counted, not yet in the store. */
    public static final class Staged implements AutoCloseable {
        private final Path file;
        private final String sha256;
        private final long sizeBytes;
        private boolean consumed;

        Staged(Path file, String sha256, long sizeBytes) {
            this.file = file;
            this.sha256 = sha256;
            this.sizeBytes = sizeBytes;
        }

        /** The temporary file (read it to validate the content; do not move or modify it). */
        public Path file() {
            return file;
        }

        public String sha256() {
            return sha256;
        }

        public long sizeBytes() {
            return sizeBytes;
        }

        /** Deletes the temporary file unless {@link ArtifactStore#commit} took it. */
        @Override
        public void close() {
            if (!consumed) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.warnf(e, "could not delete temporary upload %s", file);
                }
            }
        }
    }

    private final EntityManager em;
    private final Path root;
    private final long maxUploadBytes;

    public ArtifactStore(EntityManager em,
                         @ConfigProperty(name = "solvertune.artifact-root",
                                 defaultValue = "${user.home}/.solvertune/artifacts") String root,
                         @ConfigProperty(name = "solvertune.upload.max-bytes", defaultValue = "256M")
                         MemorySize maxUploadBytes) {
        this.em = em;
        this.root = Path.of(root).toAbsolutePath().normalize();
        this.maxUploadBytes = maxUploadBytes.asLongValue();
        if (this.maxUploadBytes <= 0) {
            throw new IllegalArgumentException("solvertune.upload.max-bytes: must be positive, got " + maxUploadBytes);
        }
    }

    /** The root directory. */
    public Path root() {
        return root;
    }

    /** Largest upload a client may send ({@code solvertune.upload.max-bytes}, default 256 MiB). */
    public long maxUploadBytes() {
        return maxUploadBytes;
    }

    /** Where the file of {@code sha256} lives (whether or not it is stored). */
    public Path location(String sha256) {
        return root.resolve(relativePath(checkSha(sha256)));
    }

    static String relativePath(String sha256) {
        return "sha256/" + sha256.substring(0, 2) + "/" + sha256;
    }

    // ---- writing --------------------------------------------------------------------------------------------------

    /**
     * Streams {@code in} to a temporary file, at most {@code maxBytes} bytes.
     *
     * @throws ArtifactTooLargeException if the stream is longer (nothing is kept; the rest is not read)
     */
    public Staged stage(InputStream in, long maxBytes) throws IOException {
        Path tmpDir = root.resolve("tmp");
        Files.createDirectories(tmpDir);
        Path tmp = Files.createTempFile(tmpDir, "upload-", ".part");
        MessageDigest md = sha256Digest();
        long n = 0;
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) != -1) {
                n += r;
                if (n > maxBytes) {
                    throw new ArtifactTooLargeException(maxBytes);
                }
                md.update(buf, 0, r);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, r);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
            }
            out.force(true);
        } catch (IOException | RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return new Staged(tmp, HexFormat.of().formatHex(md.digest()), n);
    }

    /**
     * Moves a staged file into the store and records it, in the caller's transaction (or a new one). Storing content
     * that is already stored returns the existing row. If the surrounding transaction rolls back, call
     * {@link #discardIfUnreferenced(String)}.
     */
    @Transactional
    public Stored commit(Staged staged, String kind) throws IOException {
        if (staged.consumed) {
            throw new IllegalStateException("this staged file was already committed");
        }
        if (kind == null || !kind.matches("[a-z][a-z0-9_-]{0,39}")) {
            throw new IllegalArgumentException("kind: expected a short lower-case name, got '" + kind + "'");
        }
        String sha = staged.sha256;
        lock(sha);
        Path target = location(sha);
        if (Files.isRegularFile(target) && Files.size(target) == staged.sizeBytes) {
            Files.delete(staged.file); // same content already in place (content-addressed)
        } else {
            Files.createDirectories(target.getParent());
            Files.move(staged.file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            makeReadOnly(target);
        }
        staged.consumed = true;
        ArtifactEntity e = ArtifactEntity.findBySha256(sha).orElse(null);
        if (e == null) {
            e = new ArtifactEntity();
            e.kind = kind;
            e.sha256 = sha;
            e.sizeBytes = staged.sizeBytes;
            e.path = relativePath(sha);
            e.persist();
            em.flush();
        }
        return stored(e);
    }

    /**
     * Stores a stream of at most {@code maxBytes} bytes in a transaction of its own (the row is committed when this
     * returns, whatever the caller's transaction does).
     *
     * @throws ArtifactTooLargeException if the stream is longer (nothing is kept)
     */
    public Stored put(InputStream in, String kind, long maxBytes) throws IOException {
        try (Staged staged = stage(in, maxBytes)) {
            try {
                return QuarkusTransaction.requiringNew().call(() -> commit(staged, kind));
            } catch (RuntimeException e) {
                discardIfUnreferenced(staged.sha256);
                throw e;
            }
        }
    }

    /** Stores a copy of a local file (workers' outputs: teacher sets, EMS statistics), no size limit. */
    public Stored put(Path file, String kind) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return put(in, kind, Long.MAX_VALUE);
        }
    }

    // ---- reading --------------------------------------------------------------------------------------------------

    /** The stored file of {@code sha256}, if it is recorded and present. */
    @Transactional
    public Optional<Path> path(String sha256) {
        return find(sha256).map(Stored::path).filter(Files::isRegularFile);
    }

    @Transactional
    public Optional<Stored> find(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            return Optional.empty();
        }
        return ArtifactEntity.findBySha256(sha256).map(this::stored);
    }

    @Transactional
    public Optional<Stored> find(long id) {
        return ArtifactEntity.<ArtifactEntity>findByIdOptional(id).map(this::stored);
    }

    /** The stored form of a row. */
    public Stored stored(ArtifactEntity e) {
        return new Stored(e.id, e.sha256, e.sizeBytes, e.kind, root.resolve(e.path), e.createdAt);
    }

    // ---- deleting -------------------------------------------------------------------------------------------------

    /**
     * Deletes an artifact and its file if nothing references it any more (every referencing table has a foreign key
     * with ON DELETE RESTRICT). Runs in transactions of its own; call it after the referencing row's deletion has
     * committed.
     *
     * @return whether it was deleted (false: unknown id, or still referenced)
     */
    public boolean deleteIfUnreferenced(long id) {
        String sha;
        try {
            sha = QuarkusTransaction.requiringNew().call(() -> {
                ArtifactEntity e = ArtifactEntity.findById(id);
                if (e == null) {
                    return null;
                }
                lock(e.sha256);
                e.delete();
                em.flush(); // a foreign key still pointing here fails now
                return e.sha256;
            });
        } catch (RuntimeException e) {
            if (isForeignKeyViolation(e)) {
                return false;
            }
            throw e;
        }
        if (sha == null) {
            return false;
        }
        discardIfUnreferenced(sha);
        return true;
    }

    /**
     * Deletes the file of {@code sha256} unless a row records it (after a rolled-back {@link #commit}, or after the
     * row was deleted). Runs in a transaction of its own.
     *
     * @return whether a file was deleted
     */
    public boolean discardIfUnreferenced(String sha256) {
        checkSha(sha256);
        return QuarkusTransaction.requiringNew().call(() -> {
            lock(sha256);
            if (ArtifactEntity.findBySha256(sha256).isPresent()) {
                return false;
            }
            try {
                return Files.deleteIfExists(location(sha256));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    // ---- housekeeping ---------------------------------------------------------------------------------------------

    /** Deletes temporary uploads left behind by a crashed process (older than a day; others may be in progress). */
    void removeStaleTemporaryFiles(@Observes StartupEvent ev) {
        Path tmpDir = root.resolve("tmp");
        if (!Files.isDirectory(tmpDir)) {
            return;
        }
        FileTime cutoff = FileTime.from(Instant.now().minus(STALE_TEMP));
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmpDir, "upload-*.part")) {
            for (Path p : ds) {
                if (Files.getLastModifiedTime(p).compareTo(cutoff) < 0) {
                    Files.deleteIfExists(p);
                    LOG.infof("deleted stale temporary upload %s", p);
                }
            }
        } catch (IOException e) {
            LOG.warnf(e, "could not clean %s", tmpDir);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /** Serialises everything this store does to one sha256 until the current transaction ends. */
    private void lock(String sha256) {
        int key = (int) Long.parseLong(sha256.substring(0, 8), 16);
        em.createNativeQuery("SELECT pg_advisory_xact_lock(" + LOCK_CLASS + ", " + key + ")").getResultList();
    }

    private static String checkSha(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256: expected 64 lower-case hex digits, got '" + sha256 + "'");
        }
        return sha256;
    }

    private static void makeReadOnly(Path p) {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
        } catch (UnsupportedOperationException | IOException e) {
            p.toFile().setReadOnly();
        }
    }

    private static boolean isForeignKeyViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && "23503".equals(s.getSQLState())) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
