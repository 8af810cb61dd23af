package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import java.util.SplittableRandom;

/**
 * The coefficient network (the reference's {@code FactorNetPPO} MLP): {@code in -> hidden -> hidden -> out}, ReLU,
 * the last layer zero-initialised (a uniform categorical policy; a Gaussian policy centred on the neutral
 * coefficients), plus optional free parameters (the Gaussian policy's log standard deviations). Parameters live on the
 * host in double (Adam and checkpoints work on them); {@link #arrays} makes float64 NDArrays of them for one forward
 * pass, with gradients when training.
 */
final class PolicyNet {
    final int in;
    final int hidden;
    final int out;
    final int extra;
    /** W1 [in, h], b1 [h], W2 [h, h], b2 [h], W3 [h, out], b3 [out], then extra [extra] if any. */
    final double[][] params;

    PolicyNet(int in, int hidden, int out, int extra, double[][] params) {
        this.in = in;
        this.hidden = hidden;
        this.out = out;
        this.extra = extra;
        this.params = params;
        long[][] s = shapes();
        if (params.length != s.length) {
            throw new IllegalArgumentException("policy net: expected " + s.length + " parameter tensors, got "
                    + params.length);
        }
        for (int i = 0; i < s.length; i++) {
            if (params[i].length != new Shape(s[i]).size()) {
                throw new IllegalArgumentException("policy net: parameter " + i + " has " + params[i].length
                        + " values, expected " + new Shape(s[i]).size());
            }
        }
    }

    /** PyTorch's default Linear initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the hidden layers. */
    static PolicyNet init(int in, int hidden, int out, int extra, double extraInit, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] p = new double[extra > 0 ? 7 : 6][];
        p[0] = uniform(r, in * hidden, 1 / Math.sqrt(in));
        p[1] = uniform(r, hidden, 1 / Math.sqrt(in));
        p[2] = uniform(r, hidden * hidden, 1 / Math.sqrt(hidden));
        p[3] = uniform(r, hidden, 1 / Math.sqrt(hidden));
        p[4] = new double[hidden * out];
        p[5] = new double[out];
        if (extra > 0) {
            p[6] = new double[extra];
            java.util.Arrays.fill(p[6], extraInit);
        }
        return new PolicyNet(in, hidden, out, extra, p);
    }

    private static double[] uniform(SplittableRandom r, int n, double bound) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (2 * r.nextDouble() - 1) * bound;
        }
        return v;
    }

    long[][] shapes() {
        long[][] s = {{in, hidden}, {hidden}, {hidden, hidden}, {hidden}, {hidden, out}, {out}, {extra}};
        return extra > 0 ? s : java.util.Arrays.copyOf(s, 6);
    }

    /** Number of parameters. */
    int size() {
        int n = 0;
        for (double[] p : params) {
            n += p.length;
        }
        return n;
    }

    /** The parameters as float64 arrays on {@code m}, requiring gradients if {@code grad}. */
    NDArray[] arrays(NDManager m, boolean grad) {
        long[][] s = shapes();
        NDArray[] a = new NDArray[params.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = Nd.create(m, params[i], new Shape(s[i]), DataType.FLOAT64);
            if (grad) {
                a[i].setRequiresGradient(true);
            }
        }
        return a;
    }

    /** The head {@code [S, out]} for features {@code x [S, in]}. */
    static NDArray forward(NDArray[] p, NDArray x) {
        NDArray h = x.matMul(p[0]).add(p[1]).maximum(0.0);
        h = h.matMul(p[2]).add(p[3]).maximum(0.0);
        return h.matMul(p[4]).add(p[5]);
    }

    /** The head on the host, no gradients: {@code [S][out]}. */
    double[][] head(NDManager m, double[][] features) {
        try (NDManager s = m.newSubManager()) {
            NDArray[] p = arrays(s, false);
            double[] flat = new double[features.length * in];
            for (int i = 0; i < features.length; i++) {
                System.arraycopy(features[i], 0, flat, i * in, in);
            }
            NDArray x = Nd.create(s, flat, new Shape(features.length, in), DataType.FLOAT64);
            double[] h = Nd.toDoubles(forward(p, x));
            double[][] out2 = new double[features.length][out];
            for (int i = 0; i < features.length; i++) {
                System.arraycopy(h, i * out, out2[i], 0, out);
            }
            return out2;
        }
    }

    PolicyNet copy() {
        double[][] p = new double[params.length][];
        for (int i = 0; i < p.length; i++) {
            p[i] = params[i].clone();
        }
        return new PolicyNet(in, hidden, out, extra, p);
    }
}
