package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Plain-Java helpers for the model tests: random data, NDArray <-> double[][], comparisons. */
final class Host {
    private Host() {
    }

    static double[][] gaussian(Random r, int rows, int cols, double scale) {
        double[][] a = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                a[i][j] = scale * r.nextGaussian();
            }
        }
        return a;
    }

    static double[] flat(double[][] a) {
        int cols = a[0].length;
        double[] f = new double[a.length * cols];
        for (int i = 0; i < a.length; i++) {
            System.arraycopy(a[i], 0, f, i * cols, cols);
        }
        return f;
    }

    static NDArray nd(NDManager m, double[][] a) {
        return m.create(flat(a), new Shape(a.length, a[0].length));
    }

    static NDArray nd32(NDManager m, double[][] a) {
        double[] f = flat(a);
        float[] g = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            g[i] = (float) f[i];
        }
        return m.create(g, new Shape(a.length, a[0].length));
    }

    /** Rows of a 2-D (or [B, ...]) array as doubles. */
    static double[][] rows(NDArray a) {
        double[] f;
        if (a.getDataType() == DataType.FLOAT64) {
            f = a.toDoubleArray();
        } else {
            float[] g = a.toFloatArray();
            f = new double[g.length];
            for (int i = 0; i < g.length; i++) {
                f[i] = g[i];
            }
        }
        int b = (int) a.getShape().get(0);
        int d = f.length / b;
        double[][] out = new double[b][d];
        for (int i = 0; i < b; i++) {
            System.arraycopy(f, i * d, out[i], 0, d);
        }
        return out;
    }

    static double maxAbs(double[][] a) {
        double m = 0;
        for (double[] r : a) {
            for (double v : r) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    /** Element-wise {@code |e - g| <= tol * max(1, |e|)}. */
    static void assertClose(double[][] expected, double[][] got, double tol, String what) {
        assertEquals(expected.length, got.length, what + ": rows");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i].length, got[i].length, what + ": cols");
            for (int j = 0; j < expected[i].length; j++) {
                double e = expected[i][j];
                assertEquals(e, got[i][j], tol * Math.max(1.0, Math.abs(e)), what + " [" + i + "][" + j + "]");
            }
        }
    }

    /** Largest {@code |e - g| / max(1, |e|)}. */
    static double maxScaledError(double[][] expected, double[][] got) {
        double w = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                w = Math.max(w, Math.abs(expected[i][j] - got[i][j]) / Math.max(1.0, Math.abs(expected[i][j])));
            }
        }
        return w;
    }

    static double logSumExp(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        if (m == Double.NEGATIVE_INFINITY) {
            return m;
        }
        double s = 0;
        for (double x : v) {
            s += Math.exp(x - m);
        }
        return m + Math.log(s);
    }

    /** Solves {@code A x = b} for a symmetric positive-definite A by Cholesky (A is not modified). */
    static double[] choleskySolve(double[][] a, double[] b) {
        int n = b.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new IllegalStateException("not positive definite");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) {
                s -= l[i][k] * y[k];
            }
            y[i] = s / l[i][i];
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double s = y[i];
            for (int k = i + 1; k < n; k++) {
                s -= l[k][i] * x[k];
            }
            x[i] = s / l[i][i];
        }
        return x;
    }
}
