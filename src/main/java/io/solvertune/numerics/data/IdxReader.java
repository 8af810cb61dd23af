package io.solvertune.numerics.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reads IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed. Unsigned bytes only. */
public final class IdxReader {
    private IdxReader() {
    }

    /** An IDX tensor of unsigned bytes. */
    public record IdxArray(int[] shape, byte[] data) {
        public int count() {
            return shape[0];
        }

        /** Elements per item (product of all dimensions but the first). */
        public int itemSize() {
            int n = 1;
            for (int i = 1; i < shape.length; i++) {
                n *= shape[i];
            }
            return n;
        }

        public int unsigned(int index) {
            return data[index] & 0xff;
        }
    }

    /** Reads an IDX file; a name ending in {@code .gz} is decompressed. */
    public static IdxArray read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.getFileName().toString().endsWith(".gz")
                     ? new GZIPInputStream(new BufferedInputStream(raw), 1 << 16) : new BufferedInputStream(raw);
             DataInputStream d = new DataInputStream(in)) {
            int magic;
            try {
                magic = d.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated IDX header (file too short)", e);
            }
            if ((magic >>> 16) != 0) {
                throw new IOException(file + ": not an IDX file (bad magic " + Integer.toHexString(magic) + ")");
            }
            int type = (magic >>> 8) & 0xff;
            int dims = magic & 0xff;
            if (type != 0x08) {
                throw new IOException(file + ": only unsigned-byte IDX files are supported (type 0x"
                        + Integer.toHexString(type) + ")");
            }
            if (dims < 1 || dims > 4) {
                throw new IOException(file + ": unsupported number of dimensions " + dims);
            }
            int[] shape = new int[dims];
            long total = 1;
            for (int i = 0; i < dims; i++) {
                try {
                    shape[i] = d.readInt();
                } catch (EOFException e) {
                    throw new IOException(file + ": truncated IDX header (dimension " + i + " missing)", e);
                }
                if (shape[i] < 0) {
                    throw new IOException(file + ": negative dimension");
                }
                total *= shape[i];
            }
            if (total > Integer.MAX_VALUE - 16) {
                throw new IOException(file + ": too large (" + total + " elements)");
            }
            byte[] data = new byte[(int) total];
            try {
                d.readFully(data);
            } catch (EOFException e) {
                throw new IOException(file + ": truncated, expected " + total + " data bytes", e);
            }
            // reading to the end also makes a gzip stream verify its CRC and length trailer
            if (d.read() != -1) {
                throw new IOException(file + ": unexpected data after the " + total + " data bytes");
            }
            return new IdxArray(shape, data);
        }
    }
}
