package io.solvertune.tuning.fit.consistency;

/**
 * Adam (Kingma and Ba) on host parameters, with global-norm gradient clipping before the update (as
 * {@code clip_grad_norm_} then {@code optimizer.step()} in the reference). Its moments and step count are part of a
 * training checkpoint.
 */
final class Adam {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;

    final double[][] m;
    final double[][] v;
    long t;

    Adam(double[][] m, double[][] v, long t) {
        this.m = m;
        this.v = v;
        this.t = t;
    }

    static Adam zeros(double[][] like) {
        double[][] m = new double[like.length][];
        double[][] v = new double[like.length][];
        for (int i = 0; i < like.length; i++) {
            m[i] = new double[like[i].length];
            v[i] = new double[like[i].length];
        }
        return new Adam(m, v, 0);
    }

    /** Global L2 norm of the gradients. */
    static double norm(double[][] g) {
        double s = 0;
        for (double[] a : g) {
            for (double x : a) {
                s += x * x;
            }
        }
        return Math.sqrt(s);
    }

    /** Clips {@code g} to global norm {@code maxNorm} (if > 0) and takes one Adam step on {@code p}; returns the norm. */
    double step(double[][] p, double[][] g, double lr, double maxNorm) {
        double norm = norm(g);
        double scale = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1.0;
        t++;
        double c1 = 1 - Math.pow(BETA1, t);
        double c2 = 1 - Math.pow(BETA2, t);
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p[i].length; j++) {
                double gj = g[i][j] * scale;
                m[i][j] = BETA1 * m[i][j] + (1 - BETA1) * gj;
                v[i][j] = BETA2 * v[i][j] + (1 - BETA2) * gj * gj;
                p[i][j] -= lr * (m[i][j] / c1) / (Math.sqrt(v[i][j] / c2) + EPS);
            }
        }
        return norm;
    }
}
