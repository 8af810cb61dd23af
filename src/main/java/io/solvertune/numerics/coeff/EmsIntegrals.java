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
 * <p><b>Off the grid</b> ({@link #at(double)}, {@link #expCoefficient(double, double, int)}): a position {@code u} in
 * {@code [0, K]} is a fractional grid index; with {@code j = floor(u)} and {@code f = u - j} its half log-SNR is
 * {@code lambda_j + f (lambda_{j+1} - lambda_j)} and {@code l, s, b} are interpolated linearly in lambda between grid
 * points {@code j} and {@code j + 1}. The integrals at {@code u} continue the cumulative ones of grid point {@code j}
 * by the trapezoid over the partial sub-interval {@code [lambda_j, lambda(u)]} (the official rule on the grid refined
 * by {@code lambda(u)}; exact for {@code L} and {@code S}, whose integrands are piecewise linear); {@code E_k} between
 * two positions is the trapezoid over the positions and the grid points strictly between them. At integer positions
 * every value is the grid's, bit for bit.
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
    private final double[] s;
    private final double[] b;
    private final double[] bigL;
    private final double[] bigS;
    private final double[] bigI;
    private final double[] bigB;
    private final double[] bigC;
    private final ConcurrentHashMap<Long, double[]> expCoefficients = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<FractionalKey, double[]> fractionalCoefficients = new ConcurrentHashMap<>();

    /** Key of a cached {@code E_k} between fractional positions (by their bits). */
    private record FractionalKey(long s, long t, int k) {
    }

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
        this.s = s;
        this.b = b;
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
    /**
     * The statistics and integrals at one position of the grid, each a vector of {@link #dim()} values.
     *
     * @param position the fractional grid index {@code u} in {@code [0, K]}
     * @param lambda   its half log-SNR
     */
    public record At(double position, double lambda, double[] l, double[] bigL, double[] bigS, double[] bigI,
                     double[] bigB, double[] bigC) {
    }

    /** Half log-SNR of fractional position {@code u}: linear between the grid points around it. */
    public double lambdaAt(double u) {
        checkPosition(u);
        int j = floorIndex(u);
        double f = u - j;
        return f == 0.0 ? lambdas[j] : lambdas[j] + f * (lambdas[j + 1] - lambdas[j]);
    }

    /**
     * The fractional position of half log-SNR {@code lambda} on the uniform grid: {@code K (lambda - lambda_T) /
     * (lambda_0 - lambda_T)} (the value {@link EmsGrid#snapIndex} rounds); a position within {@code tolerance} of a
     * grid index is that index, and one within {@code tolerance} outside {@code [0, K]} is the end.
     *
     * @throws IllegalArgumentException if the position is not finite or lies further outside {@code [0, K]}
     */
    public double position(double lambda, double tolerance) {
        double pos = steps * (lambda - lambdas[0]) / (lambdas[steps] - lambdas[0]);
        if (!Double.isFinite(pos) || pos < -tolerance || pos > steps + tolerance) {
            throw new IllegalArgumentException("EMS grid: lambda = " + lambda + " lies outside the statistics grid ["
                    + lambdas[0] + ", " + lambdas[steps] + "] (position " + pos + " of 0.." + steps + ")");
        }
        double r = Math.rint(pos);
        return Math.abs(pos - r) <= tolerance ? Math.max(0.0, Math.min(steps, r)) : pos;
    }

    /** The values at fractional position {@code u} in {@code [0, K]} (the grid point's at an integer). */
    public At at(double u) {
        checkPosition(u);
        int j = floorIndex(u);
        double f = u - j;
        if (f == 0.0) {
            return new At(u, lambdas[j], row(l, j), row(bigL, j), row(bigS, j), row(bigI, j), row(bigB, j),
                    row(bigC, j));
        }
        double lam = lambdas[j] + f * (lambdas[j + 1] - lambdas[j]);
        double h = lam - lambdas[j];
        double[] lu = new double[dim];
        double[] bl = new double[dim];
        double[] bs = new double[dim];
        double[] bi = new double[dim];
        double[] bb = new double[dim];
        double[] bc = new double[dim];
        for (int d = 0; d < dim; d++) {
            int i0 = j * dim + d;
            int i1 = i0 + dim;
            lu[d] = l[i0] + f * (l[i1] - l[i0]);
            double su = s[i0] + f * (s[i1] - s[i0]);
            double bu = b[i0] + f * (b[i1] - b[i0]);
            bl[d] = bigL[i0] + 0.5 * h * (l[i0] + lu[d]);
            bs[d] = bigS[i0] + 0.5 * h * (s[i0] + su);
            double a0 = bigL[i0] + bigS[i0];
            double a1 = bl[d] + bs[d];
            bi[d] = bigI[i0] + trapezoid(h, a0, 1.0, a1, 1.0);
            bb[d] = bigB[i0] + trapezoid(h, -bigS[i0], b[i0], -bs[d], bu);
            bc[d] = bigC[i0] + trapezoid(h, a0, bigB[i0], a1, bb[d]);
        }
        return new At(u, lam, lu, bl, bs, bi, bb, bc);
    }

    /** {@code 0.5 h (w0 e^a0 + w1 e^a1)}, with the larger exponent taken out. */
    private static double trapezoid(double h, double a0, double w0, double a1, double w1) {
        double m = Math.max(a0, a1);
        return 0.5 * h * (w0 * Math.exp(a0 - m) + w1 * Math.exp(a1 - m)) * Math.exp(m);
    }

    /**
     * {@code E_k} for an update from fractional position {@code uS} to {@code uT >= uS}: the trapezoid of
     * {@code e^((L+S)(lambda) - (L+S)(lambda_s)) (lambda - lambda_s)^k / k!} over {@code lambda(uS)}, the grid points
     * strictly between and {@code lambda(uT)} (max-subtracted); cached. Equals {@link #expCoefficient(int, int, int)}
     * when both positions are integers. Returns a copy.
     */
    public double[] expCoefficient(double uS, double uT, int k) {
        checkPosition(uS);
        checkPosition(uT);
        if (uT < uS || k < 1) {
            throw new IllegalArgumentException("EMS integrals: no coefficient E_" + k + " from position " + uS + " to "
                    + uT);
        }
        if (uS == Math.rint(uS) && uT == Math.rint(uT)) {
            return expCoefficient((int) uS, (int) uT, k);
        }
        FractionalKey key = new FractionalKey(Double.doubleToLongBits(uS), Double.doubleToLongBits(uT), k);
        double[] c = fractionalCoefficients.get(key);
        if (c == null) {
            c = computeExpCoefficient(uS, uT, k);
            if ((long) fractionalCoefficients.size() * dim > CACHE_LIMIT) {
                fractionalCoefficients.clear();
            }
            fractionalCoefficients.putIfAbsent(key, c);
        }
        return c.clone();
    }

    private double[] computeExpCoefficient(double uS, double uT, int k) {
        At s0 = at(uS);
        At t0 = at(uT);
        int first = (int) Math.floor(uS) + 1;
        int last = (int) Math.ceil(uT) - 1;
        int inner = Math.max(0, last - first + 1);
        int n = inner + 2;
        double[] lam = new double[n];
        lam[0] = s0.lambda();
        for (int j = 0; j < inner; j++) {
            lam[j + 1] = lambdas[first + j];
        }
        lam[n - 1] = t0.lambda();
        double factorial = 1.0;
        for (int i = 2; i <= k; i++) {
            factorial *= i;
        }
        double[] w = new double[n];
        for (int j = 0; j < n; j++) {
            w[j] = Math.pow(lam[j] - lam[0], k) / factorial;
        }
        double[] out = new double[dim];
        double[] a = new double[n];
        for (int d = 0; d < dim; d++) {
            double base = s0.bigL()[d] + s0.bigS()[d];
            a[0] = 0.0;
            for (int j = 0; j < inner; j++) {
                int i = (first + j) * dim + d;
                a[j + 1] = bigL[i] + bigS[i] - base;
            }
            a[n - 1] = t0.bigL()[d] + t0.bigS()[d] - base;
            double aMax = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                aMax = Math.max(aMax, a[j]);
            }
            double sum = 0.0;
            double prev = w[0] * Math.exp(a[0] - aMax);
            for (int j = 1; j < n; j++) {
                double cur = w[j] * Math.exp(a[j] - aMax);
                sum += 0.5 * (lam[j] - lam[j - 1]) * (cur + prev);
                prev = cur;
            }
            out[d] = sum * Math.exp(aMax);
        }
        return out;
    }

    private void checkPosition(double u) {
        if (!(u >= 0.0 && u <= steps)) {
            throw new IllegalArgumentException("EMS integrals: position " + u + " outside 0.." + steps);
        }
    }

    /** {@code floor(u)} ({@code K} only for {@code u = K}, where the fraction is 0). */
    private static int floorIndex(double u) {
        return (int) Math.floor(u);
    }
}
