package io.solvertune.service.artifacts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The content-addressed store: layout, dedup, limits, rollback and deletion keep row ⇔ file. */
@QuarkusTest
class ArtifactStoreTest {

    @Inject
    ArtifactStore store;

    @Test
    void storesContentAddressedAndDeduplicates() throws Exception {
        byte[] data = ("teacher set " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        ArtifactStore.Stored a = store.put(new ByteArrayInputStream(data), "trajectories", 1024);
        assertEquals(sha, a.sha256());
        assertEquals(data.length, a.sizeBytes());
        assertEquals(store.root().resolve("sha256/" + sha.substring(0, 2) + "/" + sha), a.path());
        assertArrayEquals(data, Files.readAllBytes(a.path()));
        assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(a.path())), "stored files are read-only");
        ArtifactStore.Stored again = store.put(new ByteArrayInputStream(data), "ems", 1024);
        assertEquals(a.id(), again.id());
        assertEquals("trajectories", again.kind(), "the first writer's kind");
        assertEquals(a.path(), store.path(sha).orElseThrow());
        assertTrue(store.deleteIfUnreferenced(a.id()));
        assertTrue(store.find(sha).isEmpty());
        assertFalse(Files.exists(a.path()));
        assertFalse(store.deleteIfUnreferenced(a.id()), "already gone");
    }

    @Test
    void overTheLimitNothingIsKeptAndTheRestIsNotRead() throws IOException {
        long tmpBefore = tmpFiles();
        CountingStream in = new CountingStream(1 << 20);
        ArtifactTooLargeException e = assertThrows(ArtifactTooLargeException.class,
                () -> store.put(in, "torchscript", 100_000));
        assertEquals(100_000, e.limitBytes());
        assertTrue(e.getMessage().contains("100000 bytes"), e.getMessage());
        assertTrue(in.read < 200_000, "stopped reading soon after the limit, read " + in.read);
        assertEquals(tmpBefore, tmpFiles());
        // exactly at the limit is fine
        byte[] exact = new byte[1000];
        exact[0] = (byte) UUID.randomUUID().hashCode();
        ArtifactStore.Stored s = store.put(new ByteArrayInputStream(exact), "test", 1000);
        assertEquals(1000, s.sizeBytes());
        store.deleteIfUnreferenced(s.id());
    }

    @Test
    void aRolledBackCommitLeavesNoFileAfterDiscard() throws Exception {
        byte[] data = ("rolled back " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        ArtifactStore.Staged staged = store.stage(new ByteArrayInputStream(data), 1024);
        Path target = store.location(staged.sha256());
        assertThrows(IllegalStateException.class, () -> QuarkusTransaction.requiringNew().run(() -> {
            try {
                store.commit(staged, "test");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            assertTrue(Files.exists(target), "moved into place inside the transaction");
            throw new IllegalStateException("the caller fails after the commit");
        }));
        staged.close();
        assertTrue(store.find(staged.sha256()).isEmpty(), "the row was rolled back");
        assertTrue(store.discardIfUnreferenced(staged.sha256()));
        assertFalse(Files.exists(target));
    }

    @Test
    void closingAnUncommittedStageDeletesItsTemporaryFile() throws IOException {
        ArtifactStore.Staged staged = store.stage(new ByteArrayInputStream(new byte[] {1, 2, 3}), 10);
        assertTrue(Files.exists(staged.file()));
        assertEquals(store.root().resolve("tmp"), staged.file().getParent(), "same file system as the store");
        staged.close();
        assertFalse(Files.exists(staged.file()));
    }

    @Test
    void rejectsMalformedHashes() {
        assertTrue(store.find("../../etc/passwd").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> store.location("ABC"));
    }

    private long tmpFiles() throws IOException {
        Path tmp = store.root().resolve("tmp");
        if (!Files.isDirectory(tmp)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(tmp)) {
            return s.count();
        }
    }

    /** An endless-ish stream that counts what was read from it. */
    private static final class CountingStream extends InputStream {
        private final long length;
        long read;

        CountingStream(long length) {
            this.length = length;
        }

        @Override
        public int read() {
            if (read >= length) {
                return -1;
            }
            read++;
            return 7;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (read >= length) {
                return -1;
            }
            int n = (int) Math.min(len, length - read);
            java.util.Arrays.fill(b, off, off + n, (byte) 7);
            read += n;
            return n;
        }
    }
}
