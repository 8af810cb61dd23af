package io.solvertune.service.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.solvertune.service.artifacts.Blobs;
import io.solvertune.service.artifacts.PgBlobStore;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep of the artifact store's garbage on the PostgreSQL backend, for real: abandoned chunks go unless they are
 * young or a writer holds the blob's lock; unreferenced blobs go unless a stored tree lists them or a writer found them
 * stored recently; a deleted job's trees go; one process sweeps per interval; the swept bytes reach the metrics.
 * Ages are set back in the database rather than waited for.
 */
@QuarkusTest
@TestProfile(CheckpointResumeTest.Profile.class)
class BlobSweepTest {

    @Inject
    AgroalDataSource ds;
    @Inject
    MeterRegistry registry;
    @Inject
    TokenService tokens;

    @TempDir
    Path tmp;

    private final Random random = new Random(UUID.randomUUID().getMostSignificantBits());

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private BlobSweeper sweeper(SharedArtifacts shared) {
        return new BlobSweeper(shared, ds, Duration.ofHours(1), Duration.ofHours(1), false, registry);
    }

    @Test
    void abandonedChunksGoUnlessYoungOrLockedByTheirWriter() throws Exception {
        PgBlobStore store = new PgBlobStore(ds, 4096);
        SharedArtifacts shared = new SharedArtifacts(store, tmp.resolve("cache"));
        String old = deadWriter(bytes(10_000), 2);
        String held = deadWriter(bytes(10_000), 2);
        String young = deadWriter(bytes(10_000), 2);
        age("UPDATE blob_chunks SET created_at = now() - interval '2 hours' WHERE sha256 = ANY(?)", old, held);
        double before = counter("incomplete");
        try (Connection writer = ds.getConnection()) {
            lock(writer, held, true); // a writer is at it (as PgBlobStore.put holds it)
            BlobSweeper.Result r = sweeper(shared).sweep();
            assertEquals(0, chunks(old), "abandoned two hours ago: swept");
            assertEquals(2, chunks(held), "its writer holds the lock: left");
            assertEquals(2, chunks(young), "too young: left");
            assertTrue(r.incomplete().bytes() >= 2 * 4096 && r.incomplete().count() >= 1, r.toString());
            assertEquals(before + r.incomplete().bytes(), counter("incomplete"), "the metric counts the bytes");
            lock(writer, held, false);
        }
        sweeper(shared).sweep();
        assertEquals(0, chunks(held), "once its writer is gone it is swept");
        assertEquals(2, chunks(young));
    }

    @Test
    void unreferencedBlobsGoWhileStoredTreesAndRecentlyUsedBlobsStay() throws Exception {
        PgBlobStore store = new PgBlobStore(ds, 4096);
        SharedArtifacts shared = new SharedArtifacts(store, tmp.resolve("cache"));
        byte[] common = bytes(9000);
        Path kept = dir("kept", common, bytes(5000));
        Path gone = dir("gone", common, bytes(6000));
        Path touched = dir("touched", bytes(100), bytes(7000));
        String keptTree = shared.putTree(kept);
        String goneTree = shared.putTree(gone);
        String touchedTree = shared.putTree(touched);
        long job = job();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO stage_artifacts (job_id, stage, tree_sha256) VALUES (?, 'g1/teacher-000', ?)")) {
            ps.setLong(1, job);
            ps.setString(2, keptTree);
            ps.executeUpdate();
        }
        List<String> keptFiles = shared.treeBlobs(keptTree);
        List<String> goneFiles = shared.treeBlobs(goneTree);
        List<String> touchedFiles = shared.treeBlobs(touchedTree);
        String goneOnly = goneFiles.stream().filter(f -> !keptFiles.contains(f)).findFirst().orElseThrow();
        age("UPDATE blobs SET last_used_at = now() - interval '2 hours' WHERE sha256 = ANY(?)", concat(
                List.of(keptTree, goneTree, touchedTree), keptFiles, goneFiles, touchedFiles));
        // a writer stores a file again (as a stage does when its content is already there): used now
        shared.putFile(touched.resolve("b.bin"));
        String touchedFile = Blobs.digest(touched.resolve("b.bin")).sha256();

        double before = counter("unreferenced");
        BlobSweeper.Result r = sweeper(shared).sweep();
        for (String s : concat(List.of(keptTree), keptFiles)) {
            assertTrue(store.exists(s), "listed by a stored tree: kept " + s);
        }
        assertFalse(store.exists(goneTree), "an unreferenced manifest goes");
        assertFalse(store.exists(goneOnly), "a file only it listed goes");
        assertEquals(0, chunks(goneOnly), "with its chunks");
        assertTrue(store.exists(touchedFile), "found stored by a writer an instant ago: kept");
        assertFalse(store.exists(touchedTree));
        assertTrue(r.unreferenced().count() >= 3 && r.unreferenced().bytes() >= 6000 + 100, r.toString());
        assertEquals(before + r.unreferenced().bytes(), counter("unreferenced"));

        // the job is deleted: its trees are garbage too
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM jobs WHERE id = ?")) {
            ps.setLong(1, job);
            ps.executeUpdate();
        }
        age("UPDATE blobs SET last_used_at = now() - interval '2 hours' WHERE sha256 = ANY(?)", concat(
                List.of(keptTree), keptFiles));
        sweeper(shared).sweep();
        for (String s : concat(List.of(keptTree), keptFiles)) {
            assertFalse(store.exists(s), "the deleted job's blob goes " + s);
        }
    }

    @Test
    void oneProcessSweepsPerInterval() throws Exception {
        SharedArtifacts shared = new SharedArtifacts(new PgBlobStore(ds, 4096), tmp.resolve("cache"));
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE blob_sweeps SET next_at = now() WHERE id = 1")) {
            ps.executeUpdate();
        }
        BlobSweeper a = sweeper(shared);
        BlobSweeper b = sweeper(shared);
        assertTrue(a.sweepIfDue().isPresent(), "due: the first process sweeps");
        assertTrue(b.sweepIfDue().isEmpty(), "the second waits for the next interval");
        assertTrue(a.sweepIfDue().isEmpty(), "so does the first");
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT next_at > now() + "
                + "interval '59 minutes', last_finished_at IS NOT NULL FROM blob_sweeps WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertTrue(rs.getBoolean(1), "next sweep in an hour");
            assertTrue(rs.getBoolean(2), "the sweep's end is recorded");
        }
    }

    private Path dir(String name, byte[] a, byte[] b) throws Exception {
        Path d = Files.createDirectories(tmp.resolve(name));
        Files.write(d.resolve("a.bin"), a);
        Files.write(d.resolve("b.bin"), b);
        return d;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
    }

    /** Chunks of a writer that died before its blob row: the first {@code chunks} chunks of {@code data}. */
    private String deadWriter(byte[] data, int chunks) throws Exception {
        Path f = Files.write(tmp.resolve(UUID.randomUUID() + ".bin"), data);
        String sha = Blobs.digest(f).sha256();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)")) {
            for (int i = 0; i < chunks; i++) {
                ps.setString(1, sha);
                ps.setInt(2, i);
                ps.setBytes(3, java.util.Arrays.copyOfRange(data, i * 4096, (i + 1) * 4096));
                ps.executeUpdate();
            }
        }
        return sha;
    }

    private void age(String sql, String... shas) throws Exception {
        age(sql, List.of(shas));
    }

    private void age(String sql, List<String> shas) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("text", shas.toArray()));
            ps.executeUpdate();
        }
    }

    private void lock(Connection c, String sha, boolean take) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + (take ? "pg_advisory_lock" : "pg_advisory_unlock")
                + "(1398030897, hashtext(?))")) {
            ps.setString(1, sha);
            ps.execute();
        }
    }

    private long chunks(String sha) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM blob_chunks WHERE sha256 = ?")) {
            ps.setString(1, sha);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A job row to hang stage artifacts on. */
    private long job() throws Exception {
        tokens.create("sweep-test", Role.SUBMITTER);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO jobs "
                + "(idempotency_key, created_by, created_by_name, model_name, spec, state) SELECT ?, id, name, "
                + "'none', '{}'::jsonb, 'CANCELLED' FROM api_tokens WHERE name = 'sweep-test' ORDER BY id LIMIT 1 "
                + "RETURNING id")) {
            ps.setString(1, UUID.randomUUID().toString());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The swept bytes as /q/metrics shows them. */
    private static double counter(String what) {
        String text = OpsSupport.metrics();
        double v = OpsSupport.value(text, "solvertune_artifacts_swept_bytes_total", "what=\"" + what + "\"");
        assertFalse(Double.isNaN(v), "solvertune_artifacts_swept_bytes_total{what=\"" + what + "\"} is exported: "
                + text.lines().filter(l -> l.contains("swept")).toList());
        return v;
    }
}
