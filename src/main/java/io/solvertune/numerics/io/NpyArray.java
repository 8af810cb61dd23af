package io.solvertune.numerics.io;

import java.util.Arrays;

/**
 * A host array read from or written to a {@code .npy} file: shape plus data in C order. Floating data is held as
 * {@code double[]} (float32 files are widened), integer data as {@code long[]}.
 */
public record NpyArray(long[] shape, NpyDtype dtype, double[] doubles, long[] longs) {

    /** numpy dtypes this project reads and writes. */
    public enum NpyDtype {
        FLOAT64("<f8", 8), FLOAT32("<f4", 4), INT64("<i8", 8), INT32("<i4", 4), UINT8("|u1", 1), BOOL("|b1", 1);

        private final String descr;
        private final int size;

        NpyDtype(String descr, int size) {
            this.descr = descr;
            this.size = size;
        }

        public String descr() {
            return descr;
        }

        public int size() {
            return size;
        }

        public boolean floating() {
            return this == FLOAT64 || this == FLOAT32;
        }
    }

    public NpyArray {
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        int len = doubles != null ? doubles.length : longs.length;
        if (n != len) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data has " + len);
        }
    }

    public static NpyArray ofDoubles(double[] data, long... shape) {
        return new NpyArray(shape, NpyDtype.FLOAT64, data, null);
    }

    public static NpyArray ofFloats(double[] data, long... shape) {
        return new NpyArray(shape, NpyDtype.FLOAT32, data, null);
    }

    public static NpyArray ofLongs(long[] data, long... shape) {
        return new NpyArray(shape, NpyDtype.INT64, null, data);
    }

    /** Number of elements. */
    public int size() {
        return doubles != null ? doubles.length : longs.length;
    }

    /** Values as doubles (converting integers). */
    public double[] asDoubles() {
        if (doubles != null) {
            return doubles;
        }
        double[] d = new double[longs.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = longs[i];
        }
        return d;
    }

    /** Rows of a 2-D array. */
    public double[][] asMatrix() {
        if (shape.length != 2) {
            throw new IllegalArgumentException("expected a 2-D array, got shape " + Arrays.toString(shape));
        }
        double[] d = asDoubles();
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(d, i * cols, m[i], 0, cols);
        }
        return m;
    }
}
