package io.solvertune.numerics.coeff;

import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes empirical model statistics in the official DPM-Solver-v3 directory layout: {@code l.npz} with key
 * {@code l} and {@code sb.npz} with keys {@code s} and {@code b}, each of shape {@code [K + 1, ...sampleShape]}
 * (float32 or float64 on reading; float64 by default on writing), plus our JSON sidecar {@code ems.json}
 * ({@link EmsMetadata}) with the time range and provenance the official files do not carry.
 */
public final class EmsNpz {
    public static final String L_FILE = "l.npz";
    public static final String SB_FILE = "sb.npz";
    public static final String METADATA_FILE = "ems.json";

    private EmsNpz() {
    }

    /** Reads a directory written by {@link #write}: {@code l.npz}, {@code sb.npz} and {@code ems.json}. */
    public static EmpiricalModelStatistics read(Path dir) throws IOException {
        Path meta = dir.resolve(METADATA_FILE);
        if (!Files.isRegularFile(meta)) {
            throw new NoSuchFileException(meta.toString(), null, "no EMS metadata; for an official statistics "
                    + "directory give the time range: EmsNpz.read(dir, tStart, tEnd)");
        }
        EmsMetadata m = EmsMetadata.read(meta);
        EmpiricalModelStatistics ems = read(dir.resolve(L_FILE), dir.resolve(SB_FILE), m.tStart(), m.tEnd());
        if (ems.gridSteps() != m.gridSteps()) {
            throw new IllegalArgumentException("EMS " + dir + ": " + METADATA_FILE + " says K = " + m.gridSteps()
                    + " but the arrays have K + 1 = " + (ems.gridSteps() + 1) + " rows");
        }
        if (!Arrays.equals(ems.sampleShape(), m.sampleShape())) {
            throw new IllegalArgumentException("EMS " + dir + ": " + METADATA_FILE + " says sample shape "
                    + Arrays.toString(m.sampleShape()) + " but the arrays have " + Arrays.toString(ems.sampleShape()));
        }
        return ems.withProvenance(m.schedule(), m.description());
    }

    /** Reads an official statistics directory ({@code l.npz}, {@code sb.npz}) computed on {@code [tEnd, tStart]}. */
    public static EmpiricalModelStatistics read(Path dir, double tStart, double tEnd) throws IOException {
        return read(dir.resolve(L_FILE), dir.resolve(SB_FILE), tStart, tEnd);
    }

    /** Reads {@code l} from {@code lFile} and {@code s}, {@code b} from {@code sbFile}. */
    public static EmpiricalModelStatistics read(Path lFile, Path sbFile, double tStart, double tEnd) throws IOException {
        NpyArray l = array(Npy.readNpz(lFile), "l", lFile);
        Map<String, NpyArray> sb = Npy.readNpz(sbFile);
        NpyArray s = array(sb, "s", sbFile);
        NpyArray b = array(sb, "b", sbFile);
        return fromArrays(l, s, b, tStart, tEnd);
    }

    /** Builds statistics from arrays shaped {@code [K + 1, ...sampleShape]}, checking that they agree. */
    public static EmpiricalModelStatistics fromArrays(NpyArray l, NpyArray s, NpyArray b, double tStart, double tEnd) {
        long[] shape = l.shape();
        if (shape.length < 2) {
            throw new IllegalArgumentException("EMS: l must have shape [K + 1, ...sampleShape], got "
                    + Arrays.toString(shape));
        }
        Map<String, NpyArray> others = new LinkedHashMap<>();
        others.put("s", s);
        others.put("b", b);
        for (Map.Entry<String, NpyArray> e : others.entrySet()) {
            long[] other = e.getValue().shape();
            if (other.length < 1 || other[0] != shape[0]) {
                throw new IllegalArgumentException("EMS: " + e.getKey() + " has " + (other.length < 1 ? "no" : other[0])
                        + " grid points (K + 1) but l has " + shape[0] + " (l and sb come from different grids)");
            }
            if (!Arrays.equals(other, shape)) {
                throw new IllegalArgumentException("EMS: " + e.getKey() + " has shape " + Arrays.toString(other)
                        + " but l has " + Arrays.toString(shape));
            }
        }
        long[] sample = Arrays.copyOfRange(shape, 1, shape.length);
        EmsGrid grid = new EmsGrid((int) (shape[0] - 1), tStart, tEnd);
        return new EmpiricalModelStatistics(grid, sample, l.asDoubles(), s.asDoubles(), b.asDoubles(), null, null,
                false);
    }

    private static NpyArray array(Map<String, NpyArray> arrays, String key, Path file) {
        NpyArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalArgumentException("EMS: " + file + " has no array '" + key + "' (keys: " + arrays.keySet()
                    + ")");
        }
        if (!a.dtype().floating()) {
            throw new IllegalArgumentException("EMS: " + file + "[" + key + "] has dtype " + a.dtype()
                    + ", expected float32 or float64");
        }
        return a;
    }

    /** Writes {@code l.npz}, {@code sb.npz} (float64) and {@code ems.json} into {@code dir} (created if needed). */
    public static void write(Path dir, EmpiricalModelStatistics ems) throws IOException {
        write(dir, ems, NpyArray.NpyDtype.FLOAT64);
    }

    /** Writes the statistics as {@code dtype} (float64 or float32) plus {@code ems.json}. */
    public static void write(Path dir, EmpiricalModelStatistics ems, NpyArray.NpyDtype dtype) throws IOException {
        if (dtype != NpyArray.NpyDtype.FLOAT64 && dtype != NpyArray.NpyDtype.FLOAT32) {
            throw new IllegalArgumentException("EMS: can be written as float64 or float32, not " + dtype);
        }
        Files.createDirectories(dir);
        long[] shape = new long[ems.sampleShape().length + 1];
        shape[0] = ems.gridSteps() + 1;
        System.arraycopy(ems.sampleShape(), 0, shape, 1, shape.length - 1);
        Npy.writeNpz(dir.resolve(L_FILE), Map.of("l", new NpyArray(shape, dtype, ems.l(), null)), false);
        Map<String, NpyArray> sb = new LinkedHashMap<>();
        sb.put("s", new NpyArray(shape, dtype, ems.s(), null));
        sb.put("b", new NpyArray(shape, dtype, ems.b(), null));
        Npy.writeNpz(dir.resolve(SB_FILE), sb, false);
        ems.metadata(dtype == NpyArray.NpyDtype.FLOAT64 ? "float64" : "float32").write(dir.resolve(METADATA_FILE));
    }
}
