package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import java.util.SplittableRandom;

/**
 * The reference's policy ({@code FactorNetPPO}): an independent categorical distribution per coefficient over
 * {@code bins} equally spaced values — {@code a_0} in [0, 2], {@code a_1} in [-2, 0], {@code a_j} in [-1, 1] for
 * {@code j >= 2} — with logits from the head ({@code dims x bins}); entropy normalised by {@code log(bins)}.
 */
final class CategoricalPolicy implements Policy {
    private final int dims;
    private final int bins;
    private final double[][] values;

    CategoricalPolicy(int dims, int bins) {
        if (bins < 2) {
            throw new IllegalArgumentException("bins: must be >= 2, got " + bins);
        }
        this.dims = dims;
        this.bins = bins;
        this.values = new double[dims][bins];
        for (int d = 0; d < dims; d++) {
            double lo = d == 0 ? 0 : d == 1 ? -2 : -1;
            double hi = d == 0 ? 2 : d == 1 ? 0 : 1;
            for (int b = 0; b < bins; b++) {
                values[d][b] = lo + (hi - lo) * b / (bins - 1);
            }
        }
    }

    double value(int d, int b) {
        return values[d][b];
    }

    @Override
    public int dims() {
        return dims;
    }

    @Override
    public int headSize() {
        return dims * bins;
    }

    @Override
    public int extra() {
        return 0;
    }

    @Override
    public double extraInit() {
        return 0;
    }

    @Override
    public String id() {
        return "categorical-" + bins;
    }

    /** Softmax probabilities of step {@code i}, coefficient {@code d}. */
    private double[] probs(double[] head, int d) {
        double max = Double.NEGATIVE_INFINITY;
        for (int b = 0; b < bins; b++) {
            max = Math.max(max, head[d * bins + b]);
        }
        double[] p = new double[bins];
        double z = 0;
        for (int b = 0; b < bins; b++) {
            p[b] = Math.exp(head[d * bins + b] - max);
            z += p[b];
        }
        for (int b = 0; b < bins; b++) {
            p[b] /= z;
        }
        return p;
    }

    @Override
    public Sampled sample(double[][] head, double[] extra, int rows, int[] used, SplittableRandom rng) {
        int steps = head.length;
        double[][][] a = new double[rows][steps][dims];
        double[][] lp = new double[rows][steps];
        int[][][] idx = new int[rows][steps][dims];
        for (int i = 0; i < steps; i++) {
            for (int d = 0; d < dims; d++) {
                double[] p = probs(head[i], d);
                for (int r = 0; r < rows; r++) {
                    double u = rng.nextDouble();
                    int b = 0;
                    double c = p[0];
                    while (u >= c && b < bins - 1) {
                        b++;
                        c += p[b];
                    }
                    idx[r][i][d] = b;
                    a[r][i][d] = values[d][b];
                    if (d < used[i]) {
                        lp[r][i] += Math.log(p[b]);
                    }
                }
            }
        }
        return new Sampled(a, lp, idx);
    }

    @Override
    public double[][] deterministic(double[][] head, Inference inference) {
        double[][] out = new double[head.length][dims];
        for (int i = 0; i < head.length; i++) {
            for (int d = 0; d < dims; d++) {
                double[] p = probs(head[i], d);
                if (inference == Inference.ARGMAX) {
                    int best = 0;
                    for (int b = 1; b < bins; b++) {
                        if (p[b] > p[best]) {
                            best = b;
                        }
                    }
                    out[i][d] = values[d][best];
                } else {
                    double e = 0;
                    for (int b = 0; b < bins; b++) {
                        e += p[b] * values[d][b];
                    }
                    out[i][d] = e;
                }
            }
        }
        return out;
    }

    @Override
    public NDArray[] logProbAndEntropy(NDManager m, NDArray head, NDArray extra, Sampled s, int[] used) {
        int steps = used.length;
        int rows = s.actions().length;
        NDArray logits = head.reshape(steps, dims, bins);
        NDArray logp = logits.logSoftmax(2);
        double[] onehot = new double[rows * steps * dims * bins];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < steps; i++) {
                for (int d = 0; d < used[i]; d++) {
                    onehot[((r * steps + i) * dims + d) * bins + s.bins()[r][i][d]] = 1.0;
                }
            }
        }
        NDArray sel = Nd.create(m, onehot, new Shape(rows, steps, dims, bins), DataType.FLOAT64);
        NDArray lp = logp.expandDims(0).mul(sel).sum(new int[] {2, 3});
        NDArray mask = Nd.create(m, Policy.mask(used, dims), new Shape(steps, dims), DataType.FLOAT64);
        NDArray ent = logp.exp().mul(logp).sum(new int[] {2}).neg().div(Math.log(bins));
        NDArray entropy = ent.mul(mask).sum().div(Math.max(1.0, sum(used)));
        return new NDArray[] {lp, entropy};
    }

    @Override
    public NDArray expectedNd(NDManager m, NDArray head) {
        long steps = head.getShape().get(0);
        double[] v = new double[dims * bins];
        for (int d = 0; d < dims; d++) {
            System.arraycopy(values[d], 0, v, d * bins, bins);
        }
        NDArray vals = Nd.create(m, v, new Shape(dims, bins), DataType.FLOAT64);
        return head.reshape(steps, dims, bins).softmax(2).mul(vals).sum(new int[] {2});
    }

    static double sum(int[] used) {
        double s = 0;
        for (int u : used) {
            s += u;
        }
        return s;
    }
}
