package io.solvertune.service.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Where content-addressed bytes live so that every host reaches them: PostgreSQL ({@link PgBlobStore}, the default)
 * or an S3-compatible object store ({@link S3BlobStore}). Keys are lower-case hex SHA-256 digests of the content;
 * blobs are immutable. Framework-free. {@link SharedArtifacts} adds the local cache, hashing and directory trees.
 */
public interface BlobStore {

    /** A short name for logs and metrics ({@code postgresql}, {@code s3}). */
    String name();

    /** Whether the blob {@code sha256} is stored (completely). */
    boolean exists(String sha256) throws IOException;

    /**
     * Stores {@code file}, whose content has digest {@code sha256} and {@code size} bytes, streaming it; nothing
     * happens if the blob is already stored. The caller computed the digest; readers verify it.
     */
    void put(String sha256, long size, Path file) throws IOException;

    /**
     * Streams the blob.
     *
     * @throws java.nio.file.NoSuchFileException if it is not stored
     */
    InputStream open(String sha256) throws IOException;

    /** What a sweep removed: blobs (or abandoned uploads) and their bytes. */
    record Swept(long count, long bytes) {
        public static final Swept NONE = new Swept(0, 0);

        public Swept plus(Swept o) {
            return new Swept(count + o.count, bytes + o.bytes);
        }
    }

    /**
     * Removes what writers left behind and abandoned at least {@code minAge} ago: chunks without their blob row
     * (PostgreSQL), multipart uploads never completed nor aborted (S3). Never touches an upload in flight.
     */
    default Swept sweepIncomplete(Duration minAge) throws IOException {
        return Swept.NONE;
    }

    /**
     * Deletes the blobs not in {@code keep} that no writer stored or found stored for at least {@code minAge}.
     * Backends that cannot tell when a blob was last used leave everything (and say so in {@link #sweepsUnreferenced}).
     */
    default Swept sweepUnreferenced(Set<String> keep, Duration minAge) throws IOException {
        return Swept.NONE;
    }

    /** Whether {@link #sweepUnreferenced} deletes anything on this backend. */
    default boolean sweepsUnreferenced() {
        return false;
    }
}
