package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.Arrays;

/**
 * Exact noise prediction of a mixture of isotropic Gaussians {@code sum_k w_k N(mu_k, s_k^2 I)} in R^D under a
 * schedule: {@code p_t = sum_k w_k N(alpha mu_k, (alpha^2 s_k^2 + sigma^2) I)} and
 * {@code eps(x, t) = -sigma grad log p_t(x)}, responsibilities by a softmax over log-densities.
 *
 * <p>Conditioning: component {@code k} belongs to class {@code componentClass[k]}; a row labelled {@code c} uses
 * only the components of class {@code c} (weights renormalised by the softmax), an unconditional row uses all.
 * This is exactly the model of {@code shared/reference/README.md} (there {@code componentClass[k] = k % 2}).
 */
public final class GaussianMixtureDenoiser implements Denoiser, JacobianDiagonal {
    private final NoiseSchedule schedule;
    private final double[] weights;
    private final double[][] means;
    private final double[] stds;
    private final int[] componentClass;
    private final int numClasses;
    private final int dim;
    private final NDManager manager;
    private final DtypeCache meansNd;

    /**
     * @param componentClass class of each component, or {@code null} for an unconditional mixture
     */
    public GaussianMixtureDenoiser(NoiseSchedule schedule, double[] weights, double[][] means, double[] stds,
                                   int[] componentClass) {
        int k = weights.length;
        if (k == 0 || means.length != k || stds.length != k) {
            throw new IllegalArgumentException("gaussian_mixture: weights, means and stds need the same number of"
                    + " components (got " + weights.length + ", " + means.length + ", " + stds.length + ")");
        }
        this.dim = means[0].length;
        double total = 0;
        for (int i = 0; i < k; i++) {
            if (means[i].length != dim) {
                throw new IllegalArgumentException("gaussian_mixture: means[" + i + "] has " + means[i].length
                        + " entries, expected " + dim);
            }
            if (!(weights[i] > 0) || !Double.isFinite(weights[i])) {
                throw new IllegalArgumentException("gaussian_mixture: weights[" + i + "] must be positive, got " + weights[i]);
            }
            if (!(stds[i] >= 0) || !Double.isFinite(stds[i])) {
                throw new IllegalArgumentException("gaussian_mixture: stds[" + i + "] must be >= 0, got " + stds[i]);
            }
            for (double v : means[i]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("gaussian_mixture: means[" + i + "] is not finite");
                }
            }
            total += weights[i];
        }
        this.schedule = schedule;
        this.weights = new double[k];
        for (int i = 0; i < k; i++) {
            this.weights[i] = weights[i] / total;
        }
        this.means = new double[k][];
        for (int i = 0; i < k; i++) {
            this.means[i] = means[i].clone();
        }
        this.stds = stds.clone();
        if (componentClass != null) {
            if (componentClass.length != k) {
                throw new IllegalArgumentException("gaussian_mixture: componentClass needs one entry per component");
            }
            int max = -1;
            for (int c : componentClass) {
                if (c < 0) {
                    throw new IllegalArgumentException("gaussian_mixture: component classes must be >= 0");
                }
                max = Math.max(max, c);
            }
            boolean[] seen = new boolean[max + 1];
            for (int c : componentClass) {
                seen[c] = true;
            }
            for (int c = 0; c <= max; c++) {
                if (!seen[c]) {
                    throw new IllegalArgumentException("gaussian_mixture: class " + c + " has no component");
                }
            }
            this.componentClass = componentClass.clone();
            this.numClasses = max + 1;
        } else {
            this.componentClass = null;
            this.numClasses = 0;
        }
        this.manager = NDManager.newBaseManager();
        double[] flat = new double[k * dim];
        for (int i = 0; i < k; i++) {
            System.arraycopy(means[i], 0, flat, i * dim, dim);
        }
        this.meansNd = DtypeCache.of(manager, flat, k, dim);
    }

    /** Class of component k is {@code k % numClasses} (the reference problems use 2). */
    public static int[] moduloClasses(int components, int numClasses) {
        int[] c = new int[components];
        for (int i = 0; i < components; i++) {
            c[i] = i % numClasses;
        }
        return c;
    }

    public int components() {
        return weights.length;
    }

    public double[] weights() {
        return weights.clone();
    }

    public double[][] means() {
        double[][] m = new double[means.length][];
        for (int i = 0; i < m.length; i++) {
            m[i] = means[i].clone();
        }
        return m;
    }

    public double[] stds() {
        return stds.clone();
    }

    public int[] componentClass() {
        return componentClass == null ? null : componentClass.clone();
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
    public int numClasses() {
        return numClasses;
    }

    @Override
    public long[] sampleShape() {
        return new long[] {dim};
    }

    @Override
    public NDArray predict(NDArray x, double t, NDArray labels) {
        Shape shape = x.getShape();
        long b = shape.get(0);
        if (shape.size() / Math.max(b, 1) != dim) {
            throw new IllegalArgumentException("gaussian_mixture: expected " + dim + " values per sample, got shape " + shape);
        }
        int k = weights.length;
        double alpha = schedule.alpha(t);
        double sigma = schedule.sigma(t);
        double[] var = new double[k];
        double[] invVar = new double[k];
        double[] negHalfInvVar = new double[k];
        double[] logNorm = new double[k];
        for (int i = 0; i < k; i++) {
            var[i] = alpha * alpha * stds[i] * stds[i] + sigma * sigma;
            invVar[i] = 1.0 / var[i];
            negHalfInvVar[i] = -0.5 / var[i];
            logNorm[i] = Math.log(weights[i]) - 0.5 * dim * Math.log(2.0 * Math.PI * var[i]);
        }
        double[] mask = labels == null ? null : maskFor(labels.toLongArray(), (int) b);
        DataType dt = x.getDataType();
        NDManager m = x.getManager();
        NDArray mu = meansNd.get(dt);
        try (NDArray xf = x.reshape(b, dim);
             NDArray xe = xf.expandDims(1);
             NDArray am = mu.mul(alpha);
             NDArray ame = am.expandDims(0);
             NDArray diff = xe.sub(ame);
             NDArray sq = diff.square();
             NDArray d2 = sq.sum(new int[] {2});
             NDArray nhiv = Nd.vector(m, negHalfInvVar, dt);
             NDArray ln = Nd.vector(m, logNorm, dt);
             NDArray iv = Nd.vector(m, invVar, dt);
             NDArray logits = d2.mul(nhiv);
             NDArray maskNd = mask == null ? null : Nd.create(m, mask, new Shape(b, k), dt)) {
            logits.addi(ln);
            if (maskNd != null) {
                logits.addi(maskNd);
            }
            try (NDArray r = logits.softmax(1);
                 NDArray c = r.mul(iv);
                 NDArray csum = c.sum(new int[] {1}, true);
                 NDArray cmu = c.matMul(mu);
                 NDArray xc = xf.mul(csum)) {
                // eps = sigma (x sum_k c_k - alpha sum_k c_k mu_k),  c_k = r_k / v_k
                NDArray eps = xc.sub(cmu.muli(alpha));
                eps.muli(sigma);
                NDArray out = eps.reshape(shape);
                if (out != eps) {
                    eps.close();
                }
                return out;
            }
        }
    }

    private double[] maskFor(long[] rowLabels, int b) {
        int k = weights.length;
        if (rowLabels.length != b) {
            throw new IllegalArgumentException("gaussian_mixture: " + rowLabels.length + " labels for a batch of " + b);
        }
        double[] mask = new double[b * k];
        for (int row = 0; row < b; row++) {
            long lab = rowLabels[row];
            if (lab == UNCONDITIONAL) {
                continue;
            }
            if (componentClass == null || lab < 0 || lab >= numClasses) {
                throw new IllegalArgumentException("gaussian_mixture: class label " + lab + " is out of range (model has "
                        + numClasses + " classes)");
            }
            for (int i = 0; i < k; i++) {
                if (componentClass[i] != lab) {
                    mask[row * k + i] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        return mask;
    }

    @Override
    public void close() {
        meansNd.close();
        manager.close();
    }

    @Override
    public String toString() {
        return "GaussianMixture(K=" + weights.length + ", D=" + dim + ", classes=" + numClasses + ", stds="
                + Arrays.toString(stds) + ")";
    }

    /**
     * Exact {@code d eps_i / d x_i} on the host: with responsibilities r_k and g_k = (alpha mu_k - x)/v_k,
     * {@code d eps_i/d x_i = sigma (sum_k r_k / v_k - sum_k r_k g_ki^2 + (sum_k r_k g_ki)^2)}.
     */
    @Override
    public double[] noiseJacobianDiagonal(double[] x, int b, double t, long[] labels) {
        int k = weights.length;
        double a = schedule.alpha(t);
        double sg = schedule.sigma(t);
        double[] v = new double[k];
        double[] logNorm = new double[k];
        for (int c = 0; c < k; c++) {
            v[c] = a * a * stds[c] * stds[c] + sg * sg;
            logNorm[c] = Math.log(weights[c]) - 0.5 * dim * Math.log(2 * Math.PI * v[c]);
        }
        double[] out = new double[b * dim];
        double[] logits = new double[k];
        double[] r = new double[k];
        for (int row = 0; row < b; row++) {
            long lab = labels == null ? UNCONDITIONAL : labels[row];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                if (lab != UNCONDITIONAL && componentClass != null && componentClass[c] != lab) {
                    logits[c] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double d2 = 0;
                for (int e = 0; e < dim; e++) {
                    double q = x[row * dim + e] - a * means[c][e];
                    d2 += q * q;
                }
                logits[c] = logNorm[c] - 0.5 * d2 / v[c];
                max = Math.max(max, logits[c]);
            }
            double z = 0;
            for (int c = 0; c < k; c++) {
                r[c] = logits[c] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(logits[c] - max);
                z += r[c];
            }
            for (int c = 0; c < k; c++) {
                r[c] /= z;
            }
            for (int e = 0; e < dim; e++) {
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                for (int c = 0; c < k; c++) {
                    double g = (a * means[c][e] - x[row * dim + e]) / v[c];
                    s1 += r[c] / v[c];
                    s2 += r[c] * g * g;
                    s3 += r[c] * g;
                }
                out[row * dim + e] = sg * (s1 - s2 + s3 * s3);
            }
        }
        return out;
    }
}
