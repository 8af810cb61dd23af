package io.solvertune.exports;

import io.solvertune.testing.ReferenceProblem;

/**
 * The exact Gaussian-mixture model on the host, for the consumer emulators: for {@code x_t = alpha x0 + sigma eps}
 * with {@code x0 ~ sum_k w_k N(mu_k, s_k^2 I)}, {@code eps(x) = -sigma grad log p_t(x)} with responsibilities from a
 * softmax over the component log-densities (written independently of {@code GaussianMixtureDenoiser}).
 */
record Mixture(double[] w, double[][] mu, double[] s) {

    static Mixture of(ReferenceProblem p) {
        return new Mixture(p.get("w").asDoubles(), p.get("mu").asMatrix(), p.get("s").asDoubles());
    }

    double[][] eps(double[][] x, double alpha, double sigma) {
        int k = w.length;
        int d = x[0].length;
        double[][] out = new double[x.length][d];
        double[] var = new double[k];
        for (int c = 0; c < k; c++) {
            var[c] = alpha * alpha * s[c] * s[c] + sigma * sigma;
        }
        for (int b = 0; b < x.length; b++) {
            double[] logp = new double[k];
            double top = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double sq = 0;
                for (int j = 0; j < d; j++) {
                    double e = x[b][j] - alpha * mu[c][j];
                    sq += e * e;
                }
                logp[c] = Math.log(w[c]) - 0.5 * sq / var[c] - 0.5 * d * Math.log(var[c]);
                top = Math.max(top, logp[c]);
            }
            double z = 0;
            for (int c = 0; c < k; c++) {
                logp[c] = Math.exp(logp[c] - top);
                z += logp[c];
            }
            for (int j = 0; j < d; j++) {
                double score = 0;
                for (int c = 0; c < k; c++) {
                    score -= logp[c] / z * (x[b][j] - alpha * mu[c][j]) / var[c];
                }
                out[b][j] = -sigma * score;
            }
        }
        return out;
    }

    /** The data prediction {@code (x - sigma eps) / alpha}. */
    double[][] x0(double[][] x, double alpha, double sigma) {
        return Vec.scale(1 / alpha, Vec.lin(1.0, x, -sigma, eps(x, alpha, sigma)));
    }
}
