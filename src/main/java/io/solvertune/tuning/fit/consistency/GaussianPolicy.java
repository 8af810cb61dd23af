package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import java.util.SplittableRandom;

/**
 * A diagonal Gaussian policy: the head is the mean of each coefficient (zero-initialised, so training starts at the
 * neutral coefficients, i.e. DDIM), with one learned log standard deviation per coefficient shared by every step. The
 * entropy bonus is the mean per-coefficient differential entropy {@code log sigma + (1 + log 2 pi)/2}.
 */
final class GaussianPolicy implements Policy {
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
    private final int dims;
    private final double initStd;

    GaussianPolicy(int dims, double initStd) {
        if (!(initStd > 0) || !Double.isFinite(initStd)) {
            throw new IllegalArgumentException("initStd: must be a positive number, got " + initStd);
        }
        this.dims = dims;
        this.initStd = initStd;
    }

    @Override
    public int dims() {
        return dims;
    }

    @Override
    public int headSize() {
        return dims;
    }

    @Override
    public int extra() {
        return dims;
    }

    @Override
    public double extraInit() {
        return Math.log(initStd);
    }

    @Override
    public String id() {
        return "gaussian";
    }

    @Override
    public Sampled sample(double[][] head, double[] logStd, int rows, int[] used, SplittableRandom rng) {
        int steps = head.length;
        double[][][] a = new double[rows][steps][dims];
        double[][] lp = new double[rows][steps];
        for (int i = 0; i < steps; i++) {
            for (int d = 0; d < dims; d++) {
                double sd = Math.exp(logStd[d]);
                for (int r = 0; r < rows; r++) {
                    double z = gaussian(rng);
                    a[r][i][d] = head[i][d] + sd * z;
                    if (d < used[i]) {
                        lp[r][i] += -0.5 * z * z - logStd[d] - HALF_LOG_2PI;
                    }
                }
            }
        }
        return new Sampled(a, lp, null);
    }

    /** A standard normal draw (Box-Muller, one value per call: deterministic given the generator). */
    static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    @Override
    public double[][] deterministic(double[][] head, Inference inference) {
        double[][] out = new double[head.length][];
        for (int i = 0; i < head.length; i++) {
            out[i] = head[i].clone();
        }
        return out;
    }

    @Override
    public NDArray[] logProbAndEntropy(NDManager m, NDArray head, NDArray logStd, Sampled s, int[] used) {
        int steps = used.length;
        int rows = s.actions().length;
        double[] act = new double[rows * steps * dims];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < steps; i++) {
                System.arraycopy(s.actions()[r][i], 0, act, (r * steps + i) * dims, dims);
            }
        }
        NDArray a = Nd.create(m, act, new Shape(rows, steps, dims), DataType.FLOAT64);
        NDArray mask = Nd.create(m, Policy.mask(used, dims), new Shape(steps, dims), DataType.FLOAT64);
        NDArray z = a.sub(head.expandDims(0)).div(logStd.exp());
        NDArray lpd = z.square().mul(-0.5).sub(logStd).sub(HALF_LOG_2PI);
        NDArray lp = lpd.mul(mask).sum(new int[] {2});
        NDArray ent = logStd.add(0.5 + HALF_LOG_2PI).expandDims(0).mul(mask).sum()
                .div(Math.max(1.0, CategoricalPolicy.sum(used)));
        return new NDArray[] {lp, ent};
    }

    @Override
    public NDArray expectedNd(NDManager m, NDArray head) {
        return head;
    }
}
