package io.solvertune.numerics.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link IdxReader} on small IDX files written here: valid (plain and gzip) and every kind of damage. */
class IdxReaderTest {
    @TempDir
    Path tmp;

    /** IDX bytes: magic 0x0000TTDD, big-endian int dims, then the payload. */
    static byte[] idx(int type, int[] dims, byte[] payload) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt((type << 8) | dims.length);
        for (int x : dims) {
            d.writeInt(x);
        }
        d.write(payload);
        d.flush();
        return b.toByteArray();
    }

    static byte[] ramp(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 37 + 200);
        }
        return p;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    private Path writeGz(String name, byte[] bytes) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
            o.write(bytes);
        }
        return f;
    }

    @Test
    void readsPlainAndGzip() throws IOException {
        byte[] payload = ramp(3 * 2 * 4);
        byte[] file = idx(0x08, new int[] {3, 2, 4}, payload);
        for (Path f : new Path[] {write("a-idx3-ubyte", file), writeGz("a-idx3-ubyte.gz", file)}) {
            IdxReader.IdxArray a = IdxReader.read(f);
            assertArrayEquals(new int[] {3, 2, 4}, a.shape());
            assertEquals(3, a.count());
            assertEquals(8, a.itemSize());
            assertArrayEquals(payload, a.data());
            for (int i = 0; i < payload.length; i++) {
                assertEquals(payload[i] & 0xff, a.unsigned(i), "unsigned byte " + i);
            }
        }
        IdxReader.IdxArray labels = IdxReader.read(write("l", idx(0x08, new int[] {5}, new byte[] {0, 9, (byte) 255, 3, 1})));
        assertEquals(5, labels.count());
        assertEquals(255, labels.unsigned(2));
    }

    /** Asserts an IOException whose message contains every fragment (case-insensitive). */
    private static void assertIo(Path f, String... fragments) {
        Throwable t = assertThrows(Throwable.class, () -> IdxReader.read(f));
        assertTrue(t instanceof IOException, "expected IOException, got " + t);
        String msg = String.valueOf(t.getMessage()).toLowerCase();
        for (String frag : fragments) {
            assertTrue(msg.contains(frag.toLowerCase()), "'" + frag + "' not in message: " + t.getMessage());
        }
    }

    @Test
    void truncatedDataNamesFileAndExpectedSize() throws IOException {
        byte[] file = idx(0x08, new int[] {4, 28, 28}, ramp(4 * 784));
        Path f = write("cut-idx3-ubyte", Arrays.copyOf(file, file.length - 100));
        assertIo(f, "truncated", "cut-idx3-ubyte", String.valueOf(4 * 784));
        Path g = writeGz("cut-idx3-ubyte.gz", Arrays.copyOf(file, file.length - 100));
        assertIo(g, "truncated");
    }

    @Test
    void badMagicWrongTypeAndDimensions() throws IOException {
        assertIo(write("png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0}), "not an IDX file");
        assertIo(write("float", idx(0x0D, new int[] {2}, new byte[8])), "unsigned-byte");
        assertIo(write("nodims", idx(0x08, new int[] {}, new byte[0])), "dimensions");
        assertIo(write("negdim", idx(0x08, new int[] {-3}, new byte[0])), "negative");
        assertIo(write("huge", idx(0x08, new int[] {100000, 100000}, new byte[0])), "too large");
    }

    /**
     * A file cut inside its header (empty, half a magic number, or missing dimension words) must also give an
     * IOException that says what is wrong, not a bare {@code EOFException} with no message.
     */
    @Test
    void truncatedHeaderHasAClearMessage() throws IOException {
        byte[] file = idx(0x08, new int[] {4, 28, 28}, ramp(16));
        assertIo(write("empty-idx", new byte[0]), "truncated");
        assertIo(write("half-magic", Arrays.copyOf(file, 2)), "truncated");
        assertIo(write("no-dims", Arrays.copyOf(file, 9)), "truncated");
    }

    private static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(b)) {
            o.write(plain);
        }
        return b.toByteArray();
    }

    @Test
    void notGzipIsAnIoException() throws IOException {
        assertIo(write("notgz.gz", "plain text, not gzip".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), "gzip");
    }

    /**
     * A .gz whose CRC-32 trailer does not match its content is corrupt. The deflate data itself decodes fine, so
     * only the gzip integrity check can notice; the reader must get to it (read to the end of the stream) instead
     * of returning the unverified bytes.
     */
    @Test
    void gzipChecksumMismatchIsAnIoException() throws IOException {
        byte[] gz = gzip(idx(0x08, new int[] {10, 10}, ramp(100)));
        // trailer = CRC32 (4 bytes, little endian) + ISIZE (4 bytes)
        gz[gz.length - 8] ^= 0x01;
        Path f = write("badcrc-idx2-ubyte.gz", gz);
        Throwable t = assertThrows(Throwable.class, () -> IdxReader.read(f), "a corrupt gzip file was accepted");
        assertTrue(t instanceof IOException, "expected IOException, got " + t);
    }

    /** FashionMnist refuses a dataset directory whose files are damaged. */
    @Test
    void fashionMnistWithTruncatedImageFile() throws IOException {
        byte[] labels = idx(0x08, new int[] {20}, new byte[20]);
        for (int i = 0; i < 20; i++) {
            labels[8 + i] = (byte) (i % 10);
        }
        byte[] images = idx(0x08, new int[] {20, 28, 28}, ramp(20 * 784));
        Path dir = Files.createDirectory(tmp.resolve("fm"));
        Files.write(dir.resolve("train-labels-idx1-ubyte"), labels);
        Files.write(dir.resolve("train-images-idx3-ubyte"), images);
        // intact: 2 per class available
        FashionMnist.Images ok = FashionMnist.firstPerClass(dir, FashionMnist.Split.TRAIN, 2);
        assertEquals(20, ok.count());
        assertEquals(FashionMnist.scaled(ramp(784 * 20)[784 * 10] & 0xff), ok.pixels()[784], 0.0f,
                "row 1 is the second image of class 0 (file index 10)");
        Files.write(dir.resolve("train-images-idx3-ubyte"), Arrays.copyOf(images, images.length - 784));
        IOException e = assertThrows(IOException.class, () -> FashionMnist.firstPerClass(dir, FashionMnist.Split.TRAIN, 2));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        // label / image count mismatch
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(0x08, new int[] {19, 28, 28}, ramp(19 * 784)));
        e = assertThrows(IOException.class, () -> FashionMnist.firstPerClass(dir, FashionMnist.Split.TRAIN, 1));
        assertTrue(e.getMessage().contains("19 images but 20 labels"), e.getMessage());
        // wrong image geometry
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(0x08, new int[] {20, 32, 32}, ramp(20 * 1024)));
        assertThrows(IOException.class, () -> FashionMnist.firstPerClass(dir, FashionMnist.Split.TRAIN, 1));
    }
}
