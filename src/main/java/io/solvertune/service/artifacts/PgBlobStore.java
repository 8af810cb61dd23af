package io.solvertune.service.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Blobs in PostgreSQL (tables {@code blobs} and {@code blob_chunks}, migration V8): chunked, so neither side holds a
 * whole file in memory, and works with nothing else installed. Each chunk is written in its own short transaction
 * ({@code ON CONFLICT DO NOTHING}: two writers of one content write the same bytes), then the {@code blobs} row, so a
 * row exists only once all its chunks do. Reading fetches one chunk per query as the stream is consumed.
 *
 * <p>Garbage (migration V10): a writer holds the advisory lock {@code (LOCK_CLASS, hashtext(sha256))} on its connection
 * while it writes a blob's chunks and row, and the sweeps delete a blob's chunks only under the same lock
 * ({@code pg_try_advisory_xact_lock}: a blob being written is skipped), so nothing in flight is ever deleted. A writer
 * that finds its content already stored marks the row used ({@code last_used_at}); the sweep of unreferenced blobs
 * keeps every blob used within its minimum age, so a writer that is about to refer to a blob it found stored never
 * loses it.
 */
public final class PgBlobStore implements BlobStore {

    /** Largest chunk: PostgreSQL's bytea limit is 1 GiB, a chunk is one row held in memory on both sides. */
    public static final int MAX_CHUNK = 64 << 20;
    /** First key of the per-blob advisory locks (the second is {@code hashtext(sha256)}). */
    static final int LOCK_CLASS = 0x53544231; // "STB1"

    private final DataSource ds;
    private final int chunkBytes;

    public PgBlobStore(DataSource ds, int chunkBytes) {
        if (chunkBytes < 1024 || chunkBytes > MAX_CHUNK) {
            throw new IllegalArgumentException("solvertune.artifacts.postgresql.chunk-size: between 1K and 64M, got "
                    + chunkBytes);
        }
        this.ds = ds;
        this.chunkBytes = chunkBytes;
    }

    @Override
    public String name() {
        return "postgresql";
    }

    public int chunkBytes() {
        return chunkBytes;
    }

    @Override
    public boolean exists(String sha256) throws IOException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM blobs WHERE sha256 = ?")) {
            ps.setString(1, Blobs.checkSha(sha256));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
    }

    /** Marks a stored blob used now; whether it is stored. */
    private static boolean touch(Connection c, String sha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE blobs SET last_used_at = now() WHERE sha256 = ?")) {
            ps.setString(1, sha256);
            return ps.executeUpdate() > 0;
        }
    }

    private static void advisory(Connection c, String fn, String sha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + fn + "(?, hashtext(?))")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setString(2, sha256);
            ps.execute();
        }
    }

    @Override
    public void put(String sha256, long size, Path file) throws IOException {
        Blobs.checkSha(sha256);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            if (touch(c, sha256)) {
                return;
            }
            advisory(c, "pg_advisory_lock", sha256); // the sweeps leave a blob alone while its writer holds this
            try {
                if (!touch(c, sha256)) {
                    write(c, sha256, size, file);
                }
            } finally {
                advisory(c, "pg_advisory_unlock", sha256);
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
    }

    private void write(Connection c, String sha256, long size, Path file) throws IOException, SQLException {
        int chunks = 0;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[chunkBytes];
            long total = 0;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO blob_chunks (sha256, seq, data) "
                    + "VALUES (?, ?, ?) ON CONFLICT (sha256, seq) DO NOTHING")) {
                while (true) {
                    int n = in.readNBytes(buf, 0, chunkBytes);
                    if (n == 0 && (chunks > 0 || total > 0 || size > 0)) {
                        break;
                    }
                    ps.setString(1, sha256);
                    ps.setInt(2, chunks);
                    ps.setBytes(3, n == chunkBytes ? buf : java.util.Arrays.copyOf(buf, n));
                    ps.executeUpdate();
                    chunks++;
                    total += n;
                    if (n < chunkBytes) {
                        break;
                    }
                }
            }
            if (total != size) {
                throw new IOException(file + ": " + total + " bytes read, " + size + " expected (changed while stored?)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO blobs (sha256, size_bytes, chunk_bytes, "
                    + "chunks) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING")) {
                ps.setString(1, sha256);
                ps.setLong(2, size);
                ps.setInt(3, chunkBytes);
                ps.setInt(4, chunks);
                ps.executeUpdate();
            }
        }
    }

    @Override
    public Swept sweepIncomplete(Duration minAge) throws IOException {
        List<String> candidates = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT DISTINCT sha256 "
                + "FROM blob_chunks c WHERE created_at < now() - ? * interval '1 millisecond' "
                + "AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = c.sha256)")) {
            ps.setLong(1, minAge.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    candidates.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
        Swept swept = Swept.NONE;
        for (String sha : candidates) {
            // under the blob's lock: no writer is at it; and none was for minAge (its newest chunk is that old)
            swept = swept.plus(deleteLocked(sha, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?) "
                    + "AND (SELECT max(created_at) FROM blob_chunks WHERE sha256 = ?) < now() - ? * interval "
                    + "'1 millisecond'", minAge, false));
        }
        return swept;
    }

    @Override
    public Swept sweepUnreferenced(Set<String> keep, Duration minAge) throws IOException {
        List<String> candidates = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT sha256 FROM blobs WHERE last_used_at < now() - ? * interval '1 millisecond'")) {
            ps.setLong(1, minAge.toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!keep.contains(rs.getString(1))) {
                        candidates.add(rs.getString(1));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
        Swept swept = Swept.NONE;
        for (String sha : candidates) {
            swept = swept.plus(deleteLocked(sha, null, minAge, true));
        }
        return swept;
    }

    @Override
    public boolean sweepsUnreferenced() {
        return true;
    }

    /**
     * In one transaction under the blob's advisory lock (skipped if a writer holds it): checks {@code guard} (two
     * sha256 parameters and the age), or for a whole blob deletes its row if still unused for {@code minAge}; then
     * deletes its chunks. Bytes freed: the chunks' data.
     */
    private Swept deleteLocked(String sha, String guard, Duration minAge, boolean wholeBlob) throws IOException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_xact_lock(?, hashtext(?))")) {
                    ps.setInt(1, LOCK_CLASS);
                    ps.setString(2, sha);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (!rs.getBoolean(1)) {
                            c.rollback();
                            return Swept.NONE; // being written right now
                        }
                    }
                }
                if (wholeBlob) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM blobs WHERE sha256 = ? "
                            + "AND last_used_at < now() - ? * interval '1 millisecond'")) {
                        ps.setString(1, sha);
                        ps.setLong(2, minAge.toMillis());
                        if (ps.executeUpdate() == 0) {
                            c.rollback();
                            return Swept.NONE; // used again meanwhile
                        }
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement(guard)) {
                        ps.setString(1, sha);
                        ps.setString(2, sha);
                        ps.setLong(3, minAge.toMillis());
                        try (ResultSet rs = ps.executeQuery()) {
                            if (!rs.next()) {
                                c.rollback();
                                return Swept.NONE;
                            }
                        }
                    }
                }
                long chunks = 0;
                long bytes = 0;
                try (PreparedStatement ps = c.prepareStatement(
                        "DELETE FROM blob_chunks WHERE sha256 = ? RETURNING octet_length(data)")) {
                    ps.setString(1, sha);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            chunks++;
                            bytes += rs.getLong(1);
                        }
                    }
                }
                c.commit();
                return wholeBlob || chunks > 0 ? new Swept(1, bytes) : Swept.NONE;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        Blobs.checkSha(sha256);
        int chunks;
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT chunks FROM blobs WHERE sha256 = ?")) {
            ps.setString(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new NoSuchFileException("blob " + sha256 + " (postgresql)");
                }
                chunks = rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
        }
        return new ChunkStream(sha256, chunks);
    }

    /** Fetches chunk after chunk as it is read. */
    private final class ChunkStream extends InputStream {
        private final String sha256;
        private final int chunks;
        private int next;
        private byte[] current = new byte[0];
        private int pos;

        ChunkStream(String sha256, int chunks) {
            this.sha256 = sha256;
            this.chunks = chunks;
        }

        private boolean fill() throws IOException {
            while (pos >= current.length) {
                if (next >= chunks) {
                    return false;
                }
                try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                        "SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = ?")) {
                    ps.setString(1, sha256);
                    ps.setInt(2, next);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new IOException("blob " + sha256 + ": chunk " + next + " of " + chunks + " missing");
                        }
                        current = rs.getBytes(1);
                    }
                } catch (SQLException e) {
                    throw new IOException("artifact store (postgresql): " + e.getMessage(), e);
                }
                pos = 0;
                next++;
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? current[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
