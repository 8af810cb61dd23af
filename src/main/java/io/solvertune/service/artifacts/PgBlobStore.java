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
import javax.sql.DataSource;

/**
 * Blobs in PostgreSQL (tables {@code blobs} and {@code blob_chunks}, migration V8): chunked, so neither side holds a
 * whole file in memory, and works with nothing else installed. Each chunk is written in its own short transaction
 * ({@code ON CONFLICT DO NOTHING}: two writers of one content write the same bytes), then the {@code blobs} row, so a
 * row exists only once all its chunks do. Reading fetches one chunk per query as the stream is consumed.
 */
public final class PgBlobStore implements BlobStore {

    /** Largest chunk: PostgreSQL's bytea limit is 1 GiB, a chunk is one row held in memory on both sides. */
    public static final int MAX_CHUNK = 64 << 20;

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

    @Override
    public void put(String sha256, long size, Path file) throws IOException {
        Blobs.checkSha(sha256);
        if (exists(sha256)) {
            return;
        }
        int chunks = 0;
        try (InputStream in = Files.newInputStream(file); Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
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
