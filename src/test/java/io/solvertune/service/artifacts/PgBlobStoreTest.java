package io.solvertune.service.artifacts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL backend for real (the test database), and the shared store on top of it as two hosts see it: each
 * with its own cache directory, sharing only the database.
 */
@QuarkusTest
class PgBlobStoreTest {

    @Inject
    AgroalDataSource ds;

    @TempDir
    Path tmp;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void storesInChunksStreamsBackAndDeduplicates() throws Exception {
        PgBlobStore store = new PgBlobStore(ds, 4096);
        byte[] data = random(4096 * 2 + 123, 1);
        Path f = Files.write(tmp.resolve("a.bin"), data);
        Blobs.Digest d = Blobs.digest(f);
        assertFalse(store.exists(d.sha256()));
        store.put(d.sha256(), d.size(), f);
        assertTrue(store.exists(d.sha256()));
        assertEquals(3, count("SELECT count(*) FROM blob_chunks WHERE sha256 = ?", d.sha256()), "2 full + 1 partial");
        assertEquals(List.of(4096, 4096, 123), chunkSizes(d.sha256()));
        try (InputStream in = store.open(d.sha256())) {
            assertArrayEquals(data, in.readAllBytes());
        }
        store.put(d.sha256(), d.size(), f); // again: nothing new
        assertEquals(1, count("SELECT count(*) FROM blobs WHERE sha256 = ?", d.sha256()));
        assertEquals(3, count("SELECT count(*) FROM blob_chunks WHERE sha256 = ?", d.sha256()));

        Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
        Blobs.Digest e = Blobs.digest(empty);
        store.put(e.sha256(), 0, empty);
        try (InputStream in = store.open(e.sha256())) {
            assertEquals(0, in.readAllBytes().length);
        }
        assertThrows(NoSuchFileException.class, () -> store.open("0".repeat(64)));
        assertThrows(IllegalArgumentException.class, () -> store.exists("../etc/passwd"));
    }

    @Test
    void aChunkWrittenWithoutItsBlobRowIsNotABlob() throws Exception {
        PgBlobStore store = new PgBlobStore(ds, 4096);
        byte[] data = random(5000, 2);
        Path f = Files.write(tmp.resolve("b.bin"), data);
        Blobs.Digest d = Blobs.digest(f);
        // a writer that died after its first chunk
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, 0, ?)")) {
            ps.setString(1, d.sha256());
            ps.setBytes(2, java.util.Arrays.copyOf(data, 4096));
            ps.executeUpdate();
        }
        assertFalse(store.exists(d.sha256()));
        assertThrows(NoSuchFileException.class, () -> store.open(d.sha256()));
        store.put(d.sha256(), d.size(), f); // the next writer completes it
        try (InputStream in = store.open(d.sha256())) {
            assertArrayEquals(data, in.readAllBytes());
        }
    }

    @Test
    void twoHostsWithTheirOwnCachesShareATreeThroughTheDatabaseAndACorruptChunkIsRefused() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("hostA/work/job-1/teacher-000"));
        Files.write(out.resolve("trajectories.npz"), random(70_000, 3));
        Files.writeString(out.resolve("trajectories.json"), "{\"kind\": \"teacher\"}");
        Files.createDirectories(out.resolve("ckpt"));
        Files.write(out.resolve("ckpt/step-1"), random(10, 4));
        SharedArtifacts hostA = new SharedArtifacts(new PgBlobStore(ds, 16 * 1024), tmp.resolve("hostA/cache"));
        String tree = hostA.putTree(out);

        SharedArtifacts hostB = new SharedArtifacts(new PgBlobStore(ds, 16 * 1024), tmp.resolve("hostB/cache"));
        Path in = tmp.resolve("hostB/work/job-1/teacher-000");
        assertEquals(List.of("ckpt/step-1", "trajectories.json", "trajectories.npz"), hostB.fetchTree(tree, in));
        for (String rel : List.of("trajectories.npz", "trajectories.json", "ckpt/step-1")) {
            assertArrayEquals(Files.readAllBytes(out.resolve(rel)), Files.readAllBytes(in.resolve(rel)), rel);
        }
        assertEquals(List.of(), hostB.fetchTree(tree, in), "present and intact: nothing fetched");
        Files.write(in.resolve("trajectories.json"), new byte[] {'x'});
        assertEquals(List.of("trajectories.json"), hostB.fetchTree(tree, in), "a damaged local copy is replaced");

        // a chunk altered in the database: host C (empty cache) refuses it and caches nothing
        String npz = Blobs.digest(out.resolve("trajectories.npz")).sha256();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE blob_chunks SET data = set_byte(data, 0, (get_byte(data, 0) + 1) % 256) "
                        + "WHERE sha256 = ? AND seq = 1")) {
            ps.setString(1, npz);
            assertEquals(1, ps.executeUpdate());
        }
        SharedArtifacts hostC = new SharedArtifacts(new PgBlobStore(ds, 16 * 1024), tmp.resolve("hostC/cache"));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> hostC.fetch(npz));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("hostC/cache").resolve(Blobs.key(npz))));
    }

    private long count(String sql, String arg) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private List<Integer> chunkSizes(String sha) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT length(data) FROM blob_chunks WHERE sha256 = ? ORDER BY seq")) {
            ps.setString(1, sha);
            try (ResultSet rs = ps.executeQuery()) {
                List<Integer> l = new java.util.ArrayList<>();
                while (rs.next()) {
                    l.add(rs.getInt(1));
                }
                return l;
            }
        }
    }
}
