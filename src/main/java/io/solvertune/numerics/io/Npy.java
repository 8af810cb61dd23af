package io.solvertune.numerics.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Reads and writes numpy {@code .npy} and {@code .npz} files (C order, little endian). */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Refuse single arrays beyond this many elements (protects against hostile headers). */
    public static final long MAX_ELEMENTS = 1L << 30;

    private Npy() {
    }

    /** Reads one {@code .npy} file. */
    public static NpyArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads the header of a {@code .npy} payload, leaving the stream at the first data byte. */
    public static Header readHeader(InputStream in, String name) throws IOException {
        byte[] magic = in.readNBytes(6);
        for (int i = 0; i < 6; i++) {
            if (magic.length < 6 || magic[i] != MAGIC[i]) {
                throw new IOException(name + ": not a .npy file");
            }
        }
        byte[] ver = in.readNBytes(2);
        if (ver.length < 2) {
            throw new IOException(name + ": truncated .npy header");
        }
        int headerLen;
        if (ver[0] == 1) {
            byte[] l = in.readNBytes(2);
            if (l.length < 2) {
                throw new IOException(name + ": truncated .npy header");
            }
            headerLen = (l[0] & 0xff) | ((l[1] & 0xff) << 8);
        } else if (ver[0] == 2 || ver[0] == 3) {
            byte[] l = in.readNBytes(4);
            if (l.length < 4) {
                throw new IOException(name + ": truncated .npy header");
            }
            headerLen = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt();
        } else {
            throw new IOException(name + ": unsupported .npy version " + ver[0]);
        }
        if (headerLen < 0 || headerLen > 1 << 20) {
            throw new IOException(name + ": bad .npy header length " + headerLen);
        }
        String header = new String(in.readNBytes(headerLen), StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(name + ": malformed .npy header: " + header.trim());
        }
        if (f.group(1).equals("True")) {
            throw new IOException(name + ": Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
        }
        NpyArray.NpyDtype dtype = dtypeOf(d.group(1), name);
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.trim();
            if (!p.isEmpty()) {
                try {
                    dims.add(Long.parseLong(p));
                } catch (NumberFormatException e) {
                    throw new IOException(name + ": bad shape in header: " + s.group(1), e);
                }
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IOException(name + ": negative dimension");
            }
            n *= dim;
            if (n > (1L << 40)) {
                throw new IOException(name + ": array too large");
            }
        }
        return new Header(shape, dtype);
    }

    /** Shape and data type of a {@code .npy} payload; the stream is left at the first data byte. */
    public record Header(long[] shape, NpyArray.NpyDtype dtype) {
        /** Number of elements. */
        public long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Reads one array from a stream holding a {@code .npy} payload. */
    public static NpyArray read(InputStream in, String name) throws IOException {
        Header h = readHeader(in, name);
        long[] shape = h.shape();
        NpyArray.NpyDtype dtype = h.dtype();
        long n = h.count();
        if (n > MAX_ELEMENTS || n * dtype.size() > Integer.MAX_VALUE - 8) {
            throw new IOException(name + ": array too large to read into memory (" + n + " elements)");
        }
        byte[] raw = in.readNBytes((int) (n * dtype.size()));
        if (raw.length != n * dtype.size()) {
            throw new IOException(name + ": truncated data (" + raw.length + " of " + n * dtype.size() + " bytes)");
        }
        ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int count = (int) n;
        return switch (dtype) {
            case FLOAT64 -> {
                double[] v = new double[count];
                bb.asDoubleBuffer().get(v);
                yield new NpyArray(shape, dtype, v, null);
            }
            case FLOAT32 -> {
                double[] v = new double[count];
                for (int i = 0; i < count; i++) {
                    v[i] = bb.getFloat();
                }
                yield new NpyArray(shape, dtype, v, null);
            }
            case INT64 -> {
                long[] v = new long[count];
                bb.asLongBuffer().get(v);
                yield new NpyArray(shape, dtype, null, v);
            }
            case INT32 -> {
                long[] v = new long[count];
                for (int i = 0; i < count; i++) {
                    v[i] = bb.getInt();
                }
                yield new NpyArray(shape, dtype, null, v);
            }
            case UINT8, BOOL -> {
                long[] v = new long[count];
                for (int i = 0; i < count; i++) {
                    v[i] = raw[i] & 0xff;
                }
                yield new NpyArray(shape, dtype, null, v);
            }
        };
    }

    private static NpyArray.NpyDtype dtypeOf(String descr, String name) throws IOException {
        return switch (descr) {
            case "<f8", "=f8" -> NpyArray.NpyDtype.FLOAT64;
            case "<f4", "=f4" -> NpyArray.NpyDtype.FLOAT32;
            case "<i8", "=i8" -> NpyArray.NpyDtype.INT64;
            case "<i4", "=i4" -> NpyArray.NpyDtype.INT32;
            case "|u1", "<u1" -> NpyArray.NpyDtype.UINT8;
            case "|b1" -> NpyArray.NpyDtype.BOOL;
            default -> throw new IOException(name + ": unsupported dtype '" + descr
                    + "' (supported: float64, float32, int64, int32, uint8, bool; little endian)");
        };
    }

    /** Writes one {@code .npy} file. */
    public static void write(Path file, NpyArray a) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out, a);
        }
    }

    /** Writes the {@code .npy} header of an array of {@code shape} and {@code dtype} (data follows, C order). */
    public static void writeHeader(OutputStream out, NpyArray.NpyDtype dtype, long[] shape) throws IOException {
        StringBuilder sh = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sh.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) {
                sh.append(shape.length == 1 ? "," : ", ");
            }
        }
        sh.append(')');
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + sh + ", }";
        int base = MAGIC.length + 2 + 2;
        int total = base + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        out.write(MAGIC);
        out.write(new byte[] {1, 0});
        out.write(new byte[] {(byte) (header.length() & 0xff), (byte) ((header.length() >> 8) & 0xff)});
        out.write(header.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes floating values as raw little-endian data of {@code dtype} (FLOAT64 or FLOAT32). */
    public static void writeData(OutputStream out, NpyArray.NpyDtype dtype, double[] values) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(values.length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case FLOAT64 -> bb.asDoubleBuffer().put(values);
            case FLOAT32 -> {
                for (double v : values) {
                    bb.putFloat((float) v);
                }
            }
            default -> throw new IllegalArgumentException("writeData supports float64/float32, got " + dtype);
        }
        out.write(bb.array());
    }

    /** Reads {@code count} floating values of {@code dtype} from raw little-endian data. */
    public static double[] readData(InputStream in, NpyArray.NpyDtype dtype, int count, String name) throws IOException {
        byte[] raw = in.readNBytes(count * dtype.size());
        if (raw.length != count * dtype.size()) {
            throw new IOException(name + ": truncated data");
        }
        ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        double[] v = new double[count];
        switch (dtype) {
            case FLOAT64 -> bb.asDoubleBuffer().get(v);
            case FLOAT32 -> {
                for (int i = 0; i < count; i++) {
                    v[i] = bb.getFloat();
                }
            }
            default -> throw new IOException(name + ": expected float data, got " + dtype);
        }
        return v;
    }

    /** Writes one array as {@code .npy} payload. */
    public static void write(OutputStream out, NpyArray a) throws IOException {
        writeHeader(out, a.dtype(), a.shape());
        int n = a.size();
        ByteBuffer bb = ByteBuffer.allocate(n * a.dtype().size()).order(ByteOrder.LITTLE_ENDIAN);
        switch (a.dtype()) {
            case FLOAT64 -> bb.asDoubleBuffer().put(a.doubles());
            case FLOAT32 -> {
                for (double v : a.doubles()) {
                    bb.putFloat((float) v);
                }
            }
            case INT64 -> bb.asLongBuffer().put(a.longs());
            case INT32 -> {
                for (long v : a.longs()) {
                    bb.putInt((int) v);
                }
            }
            case UINT8, BOOL -> {
                for (long v : a.longs()) {
                    bb.put((byte) v);
                }
            }
            default -> throw new AssertionError();
        }
        out.write(bb.array());
    }

    /** A zip entry with a fixed timestamp, so that the same arrays always give the same bytes (and sha256). */
    public static ZipEntry entry(String name) {
        ZipEntry e = new ZipEntry(name);
        e.setTime(FIXED_TIME);
        return e;
    }

    /** 1980-01-02 00:00 local time: the earliest DOS timestamp that survives every time zone. */
    private static final long FIXED_TIME = java.time.LocalDateTime.of(1980, 1, 2, 0, 0)
            .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();

    /** Reads every array of an {@code .npz} archive, in archive order (keys without the {@code .npy} suffix). */
    public static Map<String, NpyArray> readNpz(Path file) throws IOException {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(file))) {
            ZipEntry e;
            boolean any = false;
            while ((e = zin.getNextEntry()) != null) {
                any = true;
                String key = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                out.put(key, read(zin, file + "[" + key + "]"));
            }
            if (!any) {
                throw new IOException(file + ": not an .npz archive (no entries)");
            }
        }
        return out;
    }

    /** Writes arrays to an {@code .npz} archive (deflated when {@code compress}). */
    public static void writeNpz(Path file, Map<String, NpyArray> arrays, boolean compress) throws IOException {
        try (ZipOutputStream zout = new ZipOutputStream(Files.newOutputStream(file))) {
            zout.setMethod(ZipOutputStream.DEFLATED);
            zout.setLevel(compress ? 6 : 0);
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                zout.putNextEntry(entry(e.getKey() + ".npy"));
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                write(buf, e.getValue());
                buf.writeTo(zout);
                zout.closeEntry();
            }
        }
    }
}
