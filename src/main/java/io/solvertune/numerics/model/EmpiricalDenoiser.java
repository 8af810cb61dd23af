package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * The optimal denoiser of an empirical data distribution (a finite dataset {@code x_1..x_M}): under
 * {@code x = alpha x0 + sigma eps}, {@code E[x0 | x] = sum_i softmax_i(-|x - alpha x_i|^2 / (2 sigma^2)) x_i}.
 * Data prediction; batched as two matrix products per call. The {@code |x|^2} term is constant per row and dropped
 * from the logits, which avoids its cancellation in float32.
 *
 * <p>Class-conditional: a row labelled {@code c} uses only the data of class {@code c}; unconditional rows use all.
 */
public final class EmpiricalDenoiser implements Denoiser {
    private final NoiseSchedule schedule;
    private final NDManager manager;
    private final NDArray data;        // [M, D]
    private final NDArray dataT;       // [D, M]
    private final NDArray halfSqNorm;  // [M]  |x_i|^2 / 2
    private final NDArray maskTable;   // [numClasses + 1, M]: row 0 unconditional (zeros), row c+1 class c
    private final int numClasses;
    private final long[] sampleShape;
    private final int count;
    private final int[] labels;

    /**
     * @param manager     owns {@code data}; closed with this denoiser
     * @param data        dataset {@code [M, ...]} (float32 or float64); the computation runs in its data type
     * @param labels      class of each item, or {@code null} for an unconditional model
     * @param numClasses  number of classes (ignored without labels)
     */
    public EmpiricalDenoiser(NoiseSchedule schedule, NDManager manager, NDArray data, int[] labels, int numClasses) {
        this.schedule = schedule;
        this.manager = manager;
        Shape s = data.getShape();
        if (s.dimension() < 2 || s.get(0) < 1) {
            throw new IllegalArgumentException("empirical: the dataset needs shape [M, ...] with M >= 1, got " + s);
        }
        this.count = (int) s.get(0);
        this.sampleShape = s.slice(1).getShape();
        long d = s.size() / count;
        this.data = data.reshape(count, d);
        this.dataT = this.data.transpose();
        try (NDArray sq = this.data.square(); NDArray sum = sq.sum(new int[] {1})) {
            this.halfSqNorm = sum.mul(0.5);
        }
        this.labels = labels == null ? null : labels.clone();
        if (labels != null) {
            if (labels.length != count) {
                throw new IllegalArgumentException("empirical: " + labels.length + " labels for " + count + " items");
            }
            if (numClasses < 1) {
                throw new IllegalArgumentException("empirical: numClasses must be >= 1 with labels");
            }
            double[] mask = new double[(numClasses + 1) * count];
            int[] perClass = new int[numClasses];
            for (int i = 0; i < count; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new IllegalArgumentException("empirical: label " + labels[i] + " of item " + i
                            + " is outside 0.." + (numClasses - 1));
                }
                perClass[labels[i]]++;
                for (int c = 0; c < numClasses; c++) {
                    if (labels[i] != c) {
                        mask[(c + 1) * count + i] = Double.NEGATIVE_INFINITY;
                    }
                }
            }
            for (int c = 0; c < numClasses; c++) {
                if (perClass[c] == 0) {
                    throw new IllegalArgumentException("empirical: class " + c + " has no data");
                }
            }
            // created directly in the data type: DJL's toType(sameType, copy=true) returns an alias, not a copy
            this.maskTable = Nd.create(manager, mask, new Shape(numClasses + 1, count), data.getDataType());
            this.numClasses = numClasses;
        } else {
            this.maskTable = null;
            this.numClasses = 0;
        }
    }

    public int size() {
        return count;
    }

    public DataType dataType() {
        return data.getDataType();
    }

    @Override
    public PredictionType predictionType() {
        return PredictionType.DATA;
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
        return sampleShape.clone();
    }

    @Override
    public NDArray predict(NDArray x, double t, NDArray labels) {
        Shape shape = x.getShape();
        long b = shape.get(0);
        long d = data.getShape().get(1);
        if (shape.size() / Math.max(b, 1) != d) {
            throw new IllegalArgumentException("empirical: expected " + d + " values per sample, got shape " + shape);
        }
        double a = schedule.alpha(t);
        double s2 = schedule.sigma(t) * schedule.sigma(t);
        DataType dt = data.getDataType();
        try (NDArray xin = x.getDataType() == dt ? null : x.toType(dt, true)) {
            NDArray xs = xin == null ? x : xin;
            try (NDArray xf = xs.reshape(b, d);
                 NDArray dot = xf.matMul(dataT);
                 NDArray norms = halfSqNorm.mul(a * a / s2)) {
                // logits = (a x.x_i - a^2 |x_i|^2 / 2) / sigma^2
                dot.muli(a / s2);
                dot.subi(norms);
                if (labels != null && maskTable != null) {
                    try (NDArray idx = labels.add(1L); NDArray rows = maskTable.get(new NDIndex("{}", idx))) {
                        dot.addi(rows);
                    }
                } else if (labels != null) {
                    checkUnconditional(labels);
                }
                try (NDArray w = dot.softmax(1); NDArray x0 = w.matMul(data)) {
                    NDArray r = x0.reshape(shape);
                    NDArray out = r.getDataType() == x.getDataType() ? r : r.toType(x.getDataType(), true);
                    if (out != r) {
                        r.close();
                    }
                    out.attach(x.getManager());
                    return out;
                }
            }
        }
    }

    private static void checkUnconditional(NDArray labels) {
        for (long l : labels.toLongArray()) {
            if (l != UNCONDITIONAL) {
                throw new IllegalArgumentException("empirical: the model is unconditional but got class label " + l);
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }

    /**
     * Data items for seeds (flattened [n, D]): a uniformly chosen item per seed, from the row's class when labels are
     * given (the distribution the class-conditional denoiser is optimal for).
     */
    public double[] sampleData(long[] seeds, long[] rowLabels) {
        int d = (int) (data.getShape().get(1));
        double[] all = io.solvertune.numerics.nd.Nd.toDoubles(data);
        double[] out = new double[seeds.length * d];
        for (int i = 0; i < seeds.length; i++) {
            java.util.Random r = new java.util.Random(new java.util.SplittableRandom(seeds[i] ^ 0x2545F4914F6CDD1DL).nextLong());
            long label = rowLabels == null ? -1 : rowLabels[i];
            int item;
            if (label < 0 || labels == null) {
                item = r.nextInt(count);
            } else {
                int n = 0;
                for (int c : labels) {
                    n += c == label ? 1 : 0;
                }
                int pick = r.nextInt(n);
                item = -1;
                for (int j = 0; j < count; j++) {
                    if (labels[j] == label && pick-- == 0) {
                        item = j;
                        break;
                    }
                }
            }
            System.arraycopy(all, item * d, out, i * d, d);
        }
        return out;
    }
}
