package io.solvertune.numerics.coeff;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cumulative integrals DPM-Solver-v3 needs, precomputed once per (statistics, lambda grid) in {@code double}
 * with the official trapezoid rule ({@code weighted_cumsumexp_trapezoid}: subtract the per-dimension maximum of the
 * exponent, integrate, multiply back), all from grid index 0:
 *
 * <pre>
 *   L = int l,   S = int s,   I = int e^(L+S),   B = int e^(-S) b,   C = int e^(L+S) B
 * </pre>
 *
 * and, lazily and cached, the high-order coefficients of an update from grid index {@code iS} to {@code iT}:
 * {@code E_k = int_{lambda_iS}^{lambda_iT} e^((L+S)(lambda) - (L+S)_iS) (lambda - lambda_iS)^k / k! dlambda} (trapezoid on
 * the grid sub-range, max-subtracted).
 *
 * <p>Arrays are {@code [K + 1, D]} flattened row-major ({@code D} = elements of one sample). Row accessors return
 * copies; the object is immutable apart from its thread-safe coefficient cache.
 */
public final class EmsIntegrals {
    /** Upper bound on the doubles held by the {@code E_k} cache before it is cleared. */
    private static final long CACHE_LIMIT = 8L << 20;

    private final int steps;
    private final int dim;
    private final double[] lambdas;
    private final double[] l;
    private final double[] bigL;
    private final double[] bigS;
    private final double[] bigI;
    private final double[] bigB;
    private final double[] bigC;
    private final ConcurrentHashMap<Long, double[]> expCoefficients = new ConcurrentHashMap<>();

    EmsIntegrals(double[] lambdas, int dim, double[] l, double[] s, double[] b) {
        int rows = lambdas.length;
        if (rows < 2 || l.length != (long) rows * dim || s.length != l.length || b.length != l.length) {
            throw new IllegalArgumentException("EMS integrals: " + rows + " grid points do not match arrays of "
                    + l.length + ", " + s.length + ", " + b.length + " values with " + dim + " per row");
        }
        this.steps = rows - 1;
        this.dim = dim;
        this.lambdas = lambdas.clone();
        this.l = l;
        this.bigL = cumTrapezoid(null, lambdas, l, dim);
        this.bigS = cumTrapezoid(null, lambdas, s, dim);
        double[] ls = new double[l.length];
        double[] negS = new double[l.length];
        for (int i = 0; i < ls.length; i++) {
            ls[i] = bigL[i] + bigS[i];
            negS[i] = -bigS[i];
        }
        this.bigI = cumTrapezoid(ls, lambdas, null, dim);
        this.bigB = cumTrapezoid(negS, lambdas, b, dim);
        this.bigC = cumTrapezoid(ls, lambdas, bigB, dim);
    }

    /**
     * {@code y_n = sum_{i=1..n} 0.5 (x_i - x_{i-1}) (w_i e^{a_i - a_max} + w_{i-1} e^{a_{i-1} - a_max})} times
     * {@code e^{a_max}} per dimension, {@code y_0 = 0}; {@code a = null} means 0, {@code w = null} means 1.
     */
    static double[] cumTrapezoid(double[] a, double[] x, double[] w, int dim) {
        int rows = x.length;
        double[] out = new double[rows * dim];
        double[] tmpPrev = new double[rows];
        for (int d = 0; d < dim; d++) {
            double aMax = 0.0;
            if (a != null) {
                aMax = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < rows; j++) {
                    aMax = Math.max(aMax, a[j * dim + d]);
                }
            }
            for (int j = 0; j < rows; j++) {
                double e = a == null ? 1.0 : Math.exp(a[j * dim + d] - aMax);
                tmpPrev[j] = w == null ? e : w[j * dim + d] * e;
            }
            double scale = Math.exp(aMax);
            double acc = 0.0;
            out[d] = 0.0;
            for (int j = 1; j < rows; j++) {
                acc += 0.5 * (x[j] - x[j - 1]) * (tmpPrev[j] + tmpPrev[j - 1]);
                out[j * dim + d] = acc * scale;
            }
        }
        return out;
    }

    /** {@code K}: number of grid intervals. */
    public int steps() {
        return steps;
    }

    /** Elements of one sample. */
    public int dim() {
        return dim;
    }

    /** The lambda grid (copy). */
    public double[] lambdas() {
        return lambdas.clone();
    }

    /** Half log-SNR of grid point {@code j}. */
    public double lambda(int j) {
        return lambdas[j];
    }

    /** {@code l} at grid index {@code j} (copy). */
    public double[] l(int j) {
        return row(l, j);
    }

    /** {@code L} at grid index {@code j} (copy). */
    public double[] bigL(int j) {
        return row(bigL, j);
    }

    /** {@code S} at grid index {@code j} (copy). */
    public double[] bigS(int j) {
        return row(bigS, j);
    }

    /** {@code I} at grid index {@code j} (copy). */
    public double[] bigI(int j) {
        return row(bigI, j);
    }

    /** {@code B} at grid index {@code j} (copy). */
    public double[] bigB(int j) {
        return row(bigB, j);
    }

    /** {@code C} at grid index {@code j} (copy). */
    public double[] bigC(int j) {
        return row(bigC, j);
    }

    private double[] row(double[] a, int j) {
        if (j < 0 || j > steps) {
            throw new IndexOutOfBoundsException("grid index " + j + " outside 0.." + steps);
        }
        return Arrays.copyOfRange(a, j * dim, (j + 1) * dim);
    }

    /**
     * {@code E_k} for an update from grid index {@code iS} to {@code iT >= iS} (official
     * {@code compute_exponential_coefficients_high_order(i_s, i_t, order = k + 1)}); cached. Returns a copy.
     */
    public double[] expCoefficient(int iS, int iT, int k) {
        if (iS < 0 || iT > steps || iT < iS || k < 1) {
            throw new IllegalArgumentException("EMS integrals: no coefficient E_" + k + " from index " + iS + " to " + iT);
        }
        long key = ((long) iS * (steps + 1) + iT) * 64 + k;
        double[] c = expCoefficients.get(key);
        if (c == null) {
            c = computeExpCoefficient(iS, iT, k);
            if ((long) expCoefficients.size() * dim > CACHE_LIMIT) {
                expCoefficients.clear();
            }
            expCoefficients.putIfAbsent(key, c);
        }
        return c.clone();
    }

    private double[] computeExpCoefficient(int iS, int iT, int k) {
        int n = iT - iS + 1;
        double factorial = 1.0;
        for (int i = 2; i <= k; i++) {
            factorial *= i;
        }
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = Math.pow(lambdas[iS + j] - lambdas[iS], k) / factorial;
        }
        double[] out = new double[dim];
        double[] a = new double[n];
        for (int d = 0; d < dim; d++) {
            double base = bigL[iS * dim + d];
            double baseS = bigS[iS * dim + d];
            double aMax = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                int i = (iS + j) * dim + d;
                a[j] = bigL[i] + bigS[i] - base - baseS;
                aMax = Math.max(aMax, a[j]);
            }
            double sum = 0.0;
            double prev = w[0] * Math.exp(a[0] - aMax);
            for (int j = 1; j < n; j++) {
                double cur = w[j] * Math.exp(a[j] - aMax);
                sum += 0.5 * (lambdas[iS + j] - lambdas[iS + j - 1]) * (cur + prev);
                prev = cur;
            }
            out[d] = sum * Math.exp(aMax);
        }
        return out;
    }
}
