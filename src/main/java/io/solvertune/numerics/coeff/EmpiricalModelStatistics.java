package io.solvertune.numerics.coeff;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * DPM-Solver-v3's empirical model statistics (EMS): per grid point and per data dimension the coefficients
 * {@code l} (linear part of {@code sigma * d eps / dx}), {@code s} and {@code b} (linear regression of
 * {@code df/dlambda} on {@code f = (sigma eps - l x) / alpha}), on a grid uniform in half log-SNR between
 * {@code tStart} and {@code tEnd} (see {@link EmsGrid}).
 *
 * <p>An immutable value: the arrays are {@code [K + 1, ...sampleShape]} in C order, held as {@code double} and
 * copied on the way in and out. The integrals the sampler needs are computed once per (statistics, schedule) and
 * cached ({@link #integrals}). Validation failures are {@link IllegalArgumentException}s that name the problem.
 * Serialized as JSON, an instance shows its {@link #metadata() metadata} only; the arrays travel as npz
 * ({@link EmsNpz}).
 */
public final class EmpiricalModelStatistics {
    private final EmsGrid grid;
    private final long[] sampleShape;
    private final int dim;
    private final double[] l;
    private final double[] s;
    private final double[] b;
    private final ScheduleSpec schedule;
    private final String description;
    private final int hash;

    private final Object lock = new Object();
    private double[] cachedLambdas;
    private EmsIntegrals cachedIntegrals;
    private EmpiricalModelStatistics degenerate;

    /**
     * Validates and copies.
     *
     * @param grid        grid (its {@code steps} must equal the arrays' rows minus one)
     * @param sampleShape shape of one sample
     * @param l           {@code l}, {@code (K + 1) * prod(sampleShape)} values in C order
     * @param s           {@code s}, same layout
     * @param b           {@code b}, same layout
     * @param schedule    schedule the statistics belong to (provenance; may be {@code null})
     * @param description free text (may be {@code null})
     */
    public EmpiricalModelStatistics(EmsGrid grid, long[] sampleShape, double[] l, double[] s, double[] b,
                                    ScheduleSpec schedule, String description) {
        this(grid, sampleShape, l, s, b, schedule, description, true);
    }

    EmpiricalModelStatistics(EmsGrid grid, long[] sampleShape, double[] l, double[] s, double[] b,
                             ScheduleSpec schedule, String description, boolean copy) {
        if (grid == null) {
            throw new IllegalArgumentException("EMS: grid is required");
        }
        this.dim = sampleSize(sampleShape);
        if (l == null || s == null || b == null) {
            throw new IllegalArgumentException("EMS: l, s and b are all required");
        }
        int rows = grid.steps() + 1;
        checkLength("l", l, rows, dim, grid.steps());
        checkLength("s", s, rows, dim, grid.steps());
        checkLength("b", b, rows, dim, grid.steps());
        checkFinite("l", l, dim);
        checkFinite("s", s, dim);
        checkFinite("b", b, dim);
        this.grid = grid;
        this.sampleShape = sampleShape.clone();
        this.l = copy ? l.clone() : l;
        this.s = copy ? s.clone() : s;
        this.b = copy ? b.clone() : b;
        this.schedule = schedule;
        this.description = description;
        this.hash = Objects.hash(grid, Arrays.hashCode(sampleShape), Arrays.hashCode(this.l), Arrays.hashCode(this.s),
                Arrays.hashCode(this.b));
    }

    /** Statistics with the given time range; {@code K} is taken from the arrays' length. */
    public static EmpiricalModelStatistics of(double tStart, double tEnd, long[] sampleShape, double[] l, double[] s,
                                              double[] b) {
        int d = sampleSize(sampleShape);
        if (l == null || l.length % d != 0 || l.length / d < 2) {
            throw new IllegalArgumentException("EMS: l must hold (K + 1) x " + d + " values with K >= 1 for sample shape "
                    + Arrays.toString(sampleShape) + ", got " + (l == null ? "none" : l.length + " values"));
        }
        return new EmpiricalModelStatistics(new EmsGrid(l.length / d - 1, tStart, tEnd), sampleShape, l, s, b, null,
                null);
    }

    /**
     * The degenerate statistics {@code l = 1, s = b = 0} on the same grid and shape (DPM-Solver-v3's
     * {@code degenerated=True}, which reduces it to DPM-Solver++ up to the grid quadrature).
     */
    public static EmpiricalModelStatistics degenerate(EmsGrid grid, long[] sampleShape) {
        int d = sampleSize(sampleShape);
        int n = Math.multiplyExact(grid.steps() + 1, d);
        double[] ones = new double[n];
        Arrays.fill(ones, 1.0);
        return new EmpiricalModelStatistics(grid, sampleShape, ones, new double[n], new double[n], null,
                "degenerated (l = 1, s = b = 0)", false);
    }

    private static int sampleSize(long[] sampleShape) {
        if (sampleShape == null || sampleShape.length == 0) {
            throw new IllegalArgumentException("EMS: sample shape is required");
        }
        long n = 1;
        for (long d : sampleShape) {
            if (d < 1) {
                throw new IllegalArgumentException("EMS: sample shape " + Arrays.toString(sampleShape)
                        + " has a non-positive dimension");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("EMS: sample shape " + Arrays.toString(sampleShape) + " is too large");
            }
        }
        return (int) n;
    }

    private static void checkLength(String name, double[] a, int rows, int dim, int k) {
        if (a.length != (long) rows * dim) {
            String got = a.length % dim == 0 ? (a.length / dim) + " grid points (K + 1)"
                    : a.length + " values (not a multiple of the sample size " + dim + ")";
            throw new IllegalArgumentException("EMS: " + name + " has " + got + ", expected K + 1 = " + rows
                    + " grid points of " + dim + " values (K = " + k + ")");
        }
    }

    private static void checkFinite(String name, double[] a, int dim) {
        for (int i = 0; i < a.length; i++) {
            if (!Double.isFinite(a[i])) {
                throw new IllegalArgumentException("EMS: " + name + " is " + a[i] + " at grid index " + i / dim
                        + ", element " + i % dim + " (statistics must be finite)");
            }
        }
    }

    /** The grid. */
    public EmsGrid grid() {
        return grid;
    }

    /** {@code K}: number of grid intervals. */
    public int gridSteps() {
        return grid.steps();
    }

    public double tStart() {
        return grid.tStart();
    }

    public double tEnd() {
        return grid.tEnd();
    }

    /** Shape of one sample. */
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    /** Elements of one sample. */
    public int sampleSize() {
        return dim;
    }

    /** {@code l} as {@code [K + 1, ...sampleShape]} in C order (copy). */
    public double[] l() {
        return l.clone();
    }

    /** {@code s} (copy). */
    public double[] s() {
        return s.clone();
    }

    /** {@code b} (copy). */
    public double[] b() {
        return b.clone();
    }

    /** Value of {@code l} at grid index {@code j}, element {@code e} (flat index within one sample). */
    public double l(int j, int e) {
        return l[index(j, e)];
    }

    public double s(int j, int e) {
        return s[index(j, e)];
    }

    public double b(int j, int e) {
        return b[index(j, e)];
    }

    private int index(int j, int e) {
        if (j < 0 || j > grid.steps() || e < 0 || e >= dim) {
            throw new IndexOutOfBoundsException("EMS index (" + j + ", " + e + ") outside [0, " + grid.steps() + "] x [0, "
                    + dim + ")");
        }
        return j * dim + e;
    }

    public ScheduleSpec schedule() {
        return schedule;
    }

    public String description() {
        return description;
    }

    /** The same statistics with provenance attached. */
    public EmpiricalModelStatistics withProvenance(ScheduleSpec newSchedule, String newDescription) {
        return new EmpiricalModelStatistics(grid, sampleShape, l, s, b, newSchedule, newDescription, false);
    }

    /** Metadata (for a stored float64 copy). */
    @JsonValue
    public EmsMetadata metadata() {
        return metadata("float64");
    }

    /**
     * JSON carries metadata only: reading statistics from it fails with a clear message (load the arrays with
     * {@link EmsNpz}).
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static EmpiricalModelStatistics fromMetadataOnly(EmsMetadata metadata) {
        throw new IllegalArgumentException("EMS: JSON holds only the metadata of empirical model statistics (" + metadata
                + "); load the arrays with EmsNpz.read(dir)");
    }

    /** Metadata for a copy stored as {@code dtype}. */
    public EmsMetadata metadata(String dtype) {
        return new EmsMetadata(EmsMetadata.FORMAT_VERSION, grid.steps(), sampleShape, grid.tStart(), grid.tEnd(),
                EmsGrid.TYPE, dtype, schedule, description);
    }

    /**
     * Checks that these statistics fit samples of {@code modelSampleShape}: equal shapes, or equal after dropping
     * size-1 dimensions (the official code reshapes {@code [B, D]} to {@code [B, D, 1, 1]}), so that the elements
     * line up in C order.
     */
    public void requireCompatible(long[] modelSampleShape) {
        if (!compatible(sampleShape, modelSampleShape)) {
            throw new IllegalArgumentException("EMS: statistics of sample shape " + Arrays.toString(sampleShape)
                    + " do not fit the model's sample shape " + Arrays.toString(modelSampleShape));
        }
    }

    static boolean compatible(long[] a, long[] b) {
        if (b == null) {
            return false;
        }
        return Arrays.equals(a, b) || Arrays.equals(squeeze(a), squeeze(b));
    }

    private static long[] squeeze(long[] shape) {
        return Arrays.stream(shape).filter(d -> d != 1).toArray();
    }

    /**
     * The degenerate statistics ({@code l = 1, s = b = 0}) on this grid and shape; cached.
     */
    public EmpiricalModelStatistics degenerated() {
        synchronized (lock) {
            if (degenerate == null) {
                degenerate = degenerate(grid, sampleShape);
            }
            return degenerate;
        }
    }

    /**
     * The lambda grid on {@code schedule} and the integrals over it; computed once and cached for the last
     * schedule grid asked for.
     */
    public EmsIntegrals integrals(NoiseSchedule schedule) {
        double[] lambdas = grid.lambdas(schedule);
        synchronized (lock) {
            if (cachedIntegrals == null || !Arrays.equals(cachedLambdas, lambdas)) {
                cachedIntegrals = new EmsIntegrals(lambdas, dim, l, s, b);
                cachedLambdas = lambdas;
            }
            return cachedIntegrals;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof EmpiricalModelStatistics e && hash == e.hash && grid.equals(e.grid) && Arrays.equals(sampleShape, e.sampleShape)
                && Arrays.equals(l, e.l) && Arrays.equals(s, e.s) && Arrays.equals(b, e.b)
                && Objects.equals(metadata(), e.metadata());
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "EMS[K=" + grid.steps() + ", sampleShape=" + Arrays.toString(sampleShape) + ", t=[" + grid.tEnd() + ", "
                + grid.tStart() + "]" + (description != null ? ", " + description : "") + "]";
    }
}
