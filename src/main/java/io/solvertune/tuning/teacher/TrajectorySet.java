package io.solvertune.tuning.teacher;

import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A set of teacher trajectories: {@code trajectories.npz} (numpy: {@code seeds} int64 [N], {@code t} float64 [R],
 * {@code x} [N, R, ...sample], optional {@code model_out} [N, R, ...sample], the noise prediction at the recorded
 * states) with its metadata {@code trajectories.json} ({@link TrajectorySetMeta}, incl. the file's sha256). Arrays
 * are seed-major, so a range of seeds is contiguous; reading streams the file and keeps only what was asked for.
 */
public final class TrajectorySet {
    public static final String FILE = "trajectories.npz";
    public static final String META = "trajectories.json";

    private final Path dir;
    private final TrajectorySetMeta meta;

    private TrajectorySet(Path dir, TrajectorySetMeta meta) {
        this.dir = dir;
        this.meta = meta;
    }

    /** Opens a finished set (checks the format and that the npz exists; {@link #verify()} checks its sha256). */
    public static TrajectorySet open(Path dir) throws IOException {
        Path m = dir.resolve(META);
        if (!Files.isRegularFile(m)) {
            throw new IOException(dir + ": no " + META + " (not a finished trajectory set)");
        }
        TrajectorySetMeta meta = Json.MAPPER.readValue(m.toFile(), TrajectorySetMeta.class);
        if (!TrajectorySetMeta.KIND.equals(meta.kind()) || meta.formatVersion() != TrajectorySetMeta.FORMAT_VERSION) {
            throw new IOException(m + ": not a trajectory set of format " + TrajectorySetMeta.FORMAT_VERSION);
        }
        if (!Files.isRegularFile(dir.resolve(meta.file()))) {
            throw new IOException(dir + ": missing " + meta.file());
        }
        return new TrajectorySet(dir, meta);
    }

    public TrajectorySetMeta meta() {
        return meta;
    }

    public Path directory() {
        return dir;
    }

    /** Number of seeds. */
    public int size() {
        return meta.seeds().length;
    }

    public long[] seeds() {
        return meta.seeds().clone();
    }

    /** The recorded times (descending; the first is the start, the last the end). */
    public double[] times() {
        return meta.times().clone();
    }

    /** Values per sample. */
    public int perSample() {
        return Teacher.perSample(meta.sampleShape());
    }

    /** Checks the npz against the recorded sha256. */
    public void verify() throws IOException {
        String actual = Hashing.sha256(dir.resolve(meta.file()));
        if (!actual.equals(meta.sha256())) {
            throw new IOException(dir.resolve(meta.file()) + ": sha256 " + actual + " does not match the recorded "
                    + meta.sha256());
        }
    }

    /**
     * States at the given recorded time indexes for seeds {@code [from, to)} of the set: a map time index →
     * flattened [to - from, perSample] values. One pass over the file.
     */
    public Map<Integer, double[]> states(int[] timeIndexes, int from, int to) throws IOException {
        return read("x", timeIndexes, from, to);
    }

    /** Recorded noise predictions, like {@link #states}. */
    public Map<Integer, double[]> modelOutputs(int[] timeIndexes, int from, int to) throws IOException {
        if (meta.modelOutputType() == null) {
            throw new IllegalStateException("this trajectory set has no recorded model outputs");
        }
        return read("model_out", timeIndexes, from, to);
    }

    /** Final states (last recorded time) of seeds {@code [from, to)}. */
    public double[] finalStates(int from, int to) throws IOException {
        int last = meta.times().length - 1;
        return states(new int[] {last}, from, to).get(last);
    }

    /** Initial states (x_T) of seeds {@code [from, to)}. */
    public double[] initialStates(int from, int to) throws IOException {
        return states(new int[] {0}, from, to).get(0);
    }

    private Map<Integer, double[]> read(String key, int[] timeIndexes, int from, int to) throws IOException {
        int n = size();
        int r = meta.times().length;
        if (from < 0 || to > n || from >= to) {
            throw new IllegalArgumentException("seed rows [" + from + ", " + to + ") outside 0.." + n);
        }
        for (int ti : timeIndexes) {
            if (ti < 0 || ti >= r) {
                throw new IllegalArgumentException("time index " + ti + " outside 0.." + (r - 1));
            }
        }
        int per = perSample();
        Map<Integer, double[]> out = new HashMap<>();
        for (int ti : timeIndexes) {
            out.put(ti, new double[(to - from) * per]);
        }
        Path file = dir.resolve(meta.file());
        try (ZipInputStream zin = new ZipInputStream(new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                if (!e.getName().equals(key + ".npy")) {
                    continue;
                }
                Npy.Header h = Npy.readHeader(zin, file + "[" + key + "]");
                int size = h.dtype().size();
                skipFully(zin, (long) from * r * per * size);
                for (int row = from; row < to; row++) {
                    for (int ti = 0; ti < r; ti++) {
                        double[] dst = out.get(ti);
                        if (dst == null) {
                            skipFully(zin, (long) per * size);
                        } else {
                            double[] v = Npy.readData(zin, h.dtype(), per, file.toString());
                            System.arraycopy(v, 0, dst, (row - from) * per, per);
                        }
                    }
                }
                return out;
            }
        }
        throw new IOException(file + ": no array '" + key + "'");
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        long left = n;
        while (left > 0) {
            long k = in.skip(left);
            if (k <= 0) {
                if (in.read() < 0) {
                    throw new IOException("unexpected end of trajectory data");
                }
                k = 1;
            }
            left -= k;
        }
    }

    /**
     * Streams the shards of a finished teacher run into {@code trajectories.npz} (one shard in memory at a time) and
     * writes {@code trajectories.json}; returns the final metadata.
     */
    static TrajectorySetMeta assemble(Path dir, TrajectorySetMeta m, TrajectorySetMeta.Throughput throughput,
                                      String createdAt) throws IOException {
        List<TrajectorySetMeta.Shard> shards = new ArrayList<>(m.shards());
        shards.sort((a, b) -> Integer.compare(a.index(), b.index()));
        int n = m.seeds().length;
        int r = m.times().length;
        long[] shape = new long[m.sampleShape().length + 2];
        shape[0] = n;
        shape[1] = r;
        System.arraycopy(m.sampleShape(), 0, shape, 2, m.sampleShape().length);
        NpyArray.NpyDtype nd = m.dtype().equals("float32") ? NpyArray.NpyDtype.FLOAT32 : NpyArray.NpyDtype.FLOAT64;
        Path tmp = dir.resolve(FILE + ".tmp");
        List<String> keys = new ArrayList<>(List.of("x"));
        if (m.modelOutputType() != null) {
            keys.add("model_out");
        }
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
             ZipOutputStream zout = new ZipOutputStream(raw)) {
            zout.setLevel(1);
            zout.putNextEntry(Npy.entry("seeds.npy"));
            Npy.write(zout, NpyArray.ofLongs(m.seeds(), n));
            zout.closeEntry();
            zout.putNextEntry(Npy.entry("t.npy"));
            Npy.write(zout, NpyArray.ofDoubles(m.times(), r));
            zout.closeEntry();
            for (String key : keys) {
                zout.putNextEntry(Npy.entry(key + ".npy"));
                Npy.writeHeader(zout, nd, shape);
                int expectFrom = 0;
                for (TrajectorySetMeta.Shard s : shards) {
                    if (s.from() != expectFrom) {
                        throw new IOException("shards do not cover the seeds contiguously at " + expectFrom);
                    }
                    Map<String, NpyArray> a = Npy.readNpz(dir.resolve(s.file()));
                    Npy.writeData(zout, nd, a.get(key).doubles());
                    expectFrom = s.to();
                }
                if (expectFrom != n) {
                    throw new IOException("shards cover " + expectFrom + " of " + n + " seeds");
                }
                zout.closeEntry();
            }
        }
        Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        String sha = Hashing.sha256(dir.resolve(FILE));
        TrajectorySetMeta fin = new TrajectorySetMeta(m.formatVersion(), m.kind(), m.modelHash(), m.schedule(),
                m.guidance(), m.teacher(), m.seeds(), m.times(), m.gridIndexes(), m.sampleShape(), m.dtype(), m.device(),
                m.codeVersion(), m.modelOutputType(), m.accuracy(), throughput, m.shards(), FILE, sha, createdAt);
        Path metaTmp = dir.resolve(META + ".tmp");
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(metaTmp.toFile(), fin);
        Files.move(metaTmp, dir.resolve(META), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return fin;
    }
}
