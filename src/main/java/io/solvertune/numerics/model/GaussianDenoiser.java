package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * Exact noise prediction of Gaussian data {@code N(mu, Sigma)}, with full or diagonal covariance, and the closed-form
 * solution of its probability-flow ODE.
 *
 * <p>With {@code Sigma = U diag(ev) U^T}: {@code p_t = N(alpha mu, alpha^2 Sigma + sigma^2 I)},
 * {@code eps(x, t) = sigma U diag(1/(alpha^2 ev + sigma^2)) U^T (x - alpha mu)}, and the PF-ODE maps each
 * eigen-coordinate linearly: {@code x_t = alpha_t mu + U diag(sqrt(v_t / v_s)) U^T (x_s - alpha_s mu)},
 * {@code v = alpha^2 ev + sigma^2}.
 */
public final class GaussianDenoiser implements Denoiser, JacobianDiagonal {
    private final NoiseSchedule schedule;
    private final int dim;
    private final double[] mean;
    private final double[] eigenvalues;
    private final boolean diagonal;
    private final NDManager manager;
    private final DtypeCache meanNd;
    private final DtypeCache basisNd;   // U  [D, D] (null when diagonal)
    private final DtypeCache basisTNd;  // U^T
    private final double[][] basisHost; // U (columns = eigenvectors), null when diagonal

    private GaussianDenoiser(NoiseSchedule schedule, double[] mean, double[] eigenvalues, double[][] basis) {
        this.schedule = schedule;
        this.dim = mean.length;
        this.mean = mean.clone();
        this.eigenvalues = eigenvalues.clone();
        this.diagonal = basis == null;
        this.basisHost = basis == null ? null : copy(basis);
        this.manager = NDManager.newBaseManager();
        this.meanNd = DtypeCache.of(manager, this.mean, dim);
        if (basis != null) {
            double[] u = new double[dim * dim];
            double[] ut = new double[dim * dim];
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < dim; j++) {
                    u[i * dim + j] = basis[i][j];
                    ut[j * dim + i] = basis[i][j];
                }
            }
            this.basisNd = DtypeCache.of(manager, u, dim, dim);
            this.basisTNd = DtypeCache.of(manager, ut, dim, dim);
        } else {
            this.basisNd = null;
            this.basisTNd = null;
        }
    }

    private static double[][] copy(double[][] m) {
        double[][] c = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }

    /** Diagonal covariance {@code diag(variances)}. */
    public static GaussianDenoiser diagonal(NoiseSchedule schedule, double[] mean, double[] variances) {
        if (mean.length != variances.length || mean.length == 0) {
            throw new IllegalArgumentException("gaussian: mean and variances need the same, positive length");
        }
        for (int i = 0; i < variances.length; i++) {
            if (!(variances[i] >= 0) || !Double.isFinite(variances[i])) {
                throw new IllegalArgumentException("gaussian: variances[" + i + "] must be >= 0, got " + variances[i]);
            }
        }
        return new GaussianDenoiser(schedule, mean, variances, null);
    }

    /** Full covariance (symmetric positive semi-definite); eigen-decomposed once with Commons Math. */
    public static GaussianDenoiser full(NoiseSchedule schedule, double[] mean, double[][] covariance) {
        int d = mean.length;
        if (covariance.length != d) {
            throw new IllegalArgumentException("gaussian: covariance must be " + d + "x" + d);
        }
        for (int i = 0; i < d; i++) {
            if (covariance[i].length != d) {
                throw new IllegalArgumentException("gaussian: covariance row " + i + " has " + covariance[i].length
                        + " entries, expected " + d);
            }
            for (int j = 0; j < i; j++) {
                double a = covariance[i][j];
                double b = covariance[j][i];
                if (Math.abs(a - b) > 1e-10 * Math.max(1.0, Math.max(Math.abs(a), Math.abs(b)))) {
                    throw new IllegalArgumentException("gaussian: covariance is not symmetric at (" + i + ", " + j + ")");
                }
            }
        }
        RealMatrix c = new Array2DRowRealMatrix(covariance, true);
        EigenDecomposition ed = new EigenDecomposition(c);
        double[] ev = ed.getRealEigenvalues();
        RealMatrix v = ed.getV(); // columns are eigenvectors
        double[][] u = v.getData();
        double scale = 0;
        for (double e : ev) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < d; i++) {
            if (ev[i] < -1e-10 * Math.max(1.0, scale)) {
                throw new IllegalArgumentException("gaussian: covariance is not positive semi-definite (eigenvalue "
                        + ev[i] + ")");
            }
            ev[i] = Math.max(ev[i], 0.0);
        }
        return new GaussianDenoiser(schedule, mean, ev, u);
    }

    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    public boolean isDiagonal() {
        return diagonal;
    }

    @Override
    public PredictionType predictionType() {
        return PredictionType.NOISE;
    }

    @Override
    public NoiseSchedule schedule() {
        return schedule;
    }

    @Override
    public long[] sampleShape() {
        return new long[] {dim};
    }

    @Override
    public NDArray predict(NDArray x, double t, NDArray labels) {
        double a = schedule.alpha(t);
        double s = schedule.sigma(t);
        double[] scale = new double[dim];
        for (int i = 0; i < dim; i++) {
            scale[i] = s / (a * a * eigenvalues[i] + s * s);
        }
        return eigenMap(x, a, scale, 0.0);
    }

    /**
     * The exact PF-ODE solution at time {@code t} from states {@code xs} at time {@code s} (either direction).
     */
    public NDArray exactSolution(NDArray xs, double s, double t) {
        double as = schedule.alpha(s);
        double ss = schedule.sigma(s);
        double at = schedule.alpha(t);
        double st = schedule.sigma(t);
        double[] scale = new double[dim];
        for (int i = 0; i < dim; i++) {
            scale[i] = Math.sqrt((at * at * eigenvalues[i] + st * st) / (as * as * eigenvalues[i] + ss * ss));
        }
        return eigenMap(xs, as, scale, at);
    }

    /** {@code U diag(scale) U^T (x - a mu) + c mu}. */
    private NDArray eigenMap(NDArray x, double a, double[] scale, double c) {
        Shape shape = x.getShape();
        long b = shape.get(0);
        if (shape.size() / Math.max(b, 1) != dim) {
            throw new IllegalArgumentException("gaussian: expected " + dim + " values per sample, got shape " + shape);
        }
        DataType dt = x.getDataType();
        NDManager m = x.getManager();
        NDArray mu = meanNd.get(dt);
        try (NDArray xf = x.reshape(b, dim);
             NDArray am = mu.mul(a);
             NDArray centred = xf.sub(am);
             NDArray sc = Nd.vector(m, scale, dt)) {
            NDArray y;
            if (diagonal) {
                y = centred.mul(sc);
            } else {
                try (NDArray proj = centred.matMul(basisNd.get(dt))) {     // (x - a mu) U
                    proj.muli(sc);
                    y = proj.matMul(basisTNd.get(dt));                     // ... U^T
                }
            }
            if (c != 0.0) {
                try (NDArray cm = mu.mul(c)) {
                    y.addi(cm);
                }
            }
            NDArray out = y.reshape(shape);
            if (out != y) {
                y.close();
            }
            return out;
        }
    }

    @Override
    public void close() {
        meanNd.close();
        if (basisNd != null) {
            basisNd.close();
            basisTNd.close();
        }
        manager.close();
    }

    /** Data samples {@code mu + U diag(sqrt(ev)) z}, one per seed (flattened [n, D]); z from a per-seed stream. */
    public double[] sampleData(long[] seeds) {
        double[] out = new double[seeds.length * dim];
        double[][] u = basisHost;
        for (int i = 0; i < seeds.length; i++) {
            java.util.Random r = new java.util.Random(new java.util.SplittableRandom(seeds[i] ^ 0x2545F4914F6CDD1DL).nextLong());
            double[] z = new double[dim];
            for (int k = 0; k < dim; k++) {
                z[k] = Math.sqrt(eigenvalues[k]) * r.nextGaussian();
            }
            for (int j = 0; j < dim; j++) {
                double v = mean[j];
                if (u == null) {
                    v += z[j];
                } else {
                    for (int k = 0; k < dim; k++) {
                        v += u[j][k] * z[k];
                    }
                }
                out[i * dim + j] = v;
            }
        }
        return out;
    }

    /** The closed-form diagonal of the noise prediction's Jacobian times sigma: {@code sigma^2 sum_k U_ik^2 / (alpha^2 ev_k + sigma^2)}. */
    public double[] lExact(double t) {
        double a = schedule.alpha(t);
        double s = schedule.sigma(t);
        double[] l = new double[dim];
        for (int i = 0; i < dim; i++) {
            double acc = 0;
            for (int k = 0; k < dim; k++) {
                double uik = basisHost == null ? (i == k ? 1.0 : 0.0) : basisHost[i][k];
                acc += uik * uik / (a * a * eigenvalues[k] + s * s);
            }
            l[i] = s * s * acc;
        }
        return l;
    }

    /** Eigenvectors as columns ({@code null} for a diagonal covariance). */
    public double[][] basis() {
        if (basisHost == null) {
            return null;
        }
        double[][] c = new double[dim][];
        for (int i = 0; i < dim; i++) {
            c[i] = basisHost[i].clone();
        }
        return c;
    }

    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] noiseJacobianDiagonal(double[] x, int b, double t, long[] labels) {
        double s = schedule.sigma(t);
        double[] l = lExact(t); // sigma^2 diag(C^{-1}) = sigma * diag(d eps/dx)
        double[] out = new double[b * dim];
        for (int i = 0; i < b; i++) {
            for (int e = 0; e < dim; e++) {
                out[i * dim + e] = l[e] / s;
            }
        }
        return out;
    }
}
