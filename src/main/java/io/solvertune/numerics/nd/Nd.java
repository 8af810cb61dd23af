package io.solvertune.numerics.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Small NDArray helpers.
 *
 * <p>Pitfall (DJL 0.36, PyTorch engine): {@code toType(t, true)} with {@code t} equal to the array's own type returns
 * an alias of the same storage, not a copy; and arrays made from Java arrays ({@code create(float[])}) borrow a
 * direct buffer that lives only as long as that NDArray object. A "copy" made that way turns into freed memory once
 * the original is closed. Use {@link #copyAs} for a real copy.
 */
public final class Nd {
    private Nd() {
    }

    /** A 1-D array of {@code v} in data type {@code dt}. */
    public static NDArray vector(NDManager m, double[] v, DataType dt) {
        return create(m, v, new Shape(v.length), dt);
    }

    /** An array of {@code v} with {@code shape} in data type {@code dt}. */
    public static NDArray create(NDManager m, double[] v, Shape shape, DataType dt) {
        if (dt == DataType.FLOAT64) {
            return m.create(v, shape);
        }
        if (dt == DataType.FLOAT32) {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            return m.create(f, shape);
        }
        try (NDArray a = m.create(v, shape)) {
            return a.toType(dt, true);
        }
    }

    /** All values as doubles (any floating type). */
    public static double[] toDoubles(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        if (a.getDataType() == DataType.FLOAT32) {
            float[] f = a.toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        try (NDArray d = a.toType(DataType.FLOAT64, true)) {
            return d.toDoubleArray();
        }
    }

    /** A real copy of {@code a} in data type {@code dt} (never an alias, see the class comment). */
    public static NDArray copyAs(NDArray a, DataType dt) {
        return a.getDataType() == dt ? a.duplicate() : a.toType(dt, true);
    }
}
