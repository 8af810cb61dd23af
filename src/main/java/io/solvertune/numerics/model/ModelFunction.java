package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * The model as a solver sees it (the official {@code model_wrapper}): a {@link Denoiser} plus conditioning and
 * classifier-free guidance, returning the prediction the solver integrates. One instance per sampling run: it
 * counts model evaluations (NFE; a guided [uncond, cond] call counts once) and the time spent in the model.
 */
public final class ModelFunction {
    private final Denoiser denoiser;
    private final Guidance guidance;
    private final boolean checkFinite;
    private final long[] rowLabels;
    private long nfe;
    private long modelNanos;

    public ModelFunction(Denoiser denoiser, Guidance guidance) {
        this(denoiser, guidance, true);
    }

    /**
     * @param checkFinite whether every model output is checked for NaN/infinity (one reduction per call); a
     *                    non-finite output raises {@link NonFiniteModelOutputException}
     */
    public ModelFunction(Denoiser denoiser, Guidance guidance, boolean checkFinite) {
        this(denoiser, guidance, checkFinite, null);
    }

    /**
     * @param rowLabels the class of each row of the batches this function will see, required when the guidance is
     *                  per seed ({@link Guidance#rowLabels})
     */
    public ModelFunction(Denoiser denoiser, Guidance guidance, long[] rowLabels) {
        this(denoiser, guidance, true, rowLabels);
    }

    private ModelFunction(Denoiser denoiser, Guidance guidance, boolean checkFinite, long[] rowLabels) {
        this.denoiser = denoiser;
        this.guidance = guidance;
        this.checkFinite = checkFinite;
        this.rowLabels = rowLabels == null ? null : rowLabels.clone();
        if (guidance.perSeedClass()) {
            if (denoiser.numClasses() <= 0) {
                throw new IllegalArgumentException("guidance: the model is unconditional but per-seed classes were asked for");
            }
            if (rowLabels == null) {
                throw new IllegalArgumentException("guidance: per-seed classes need the row labels of the batch");
            }
            for (long l : rowLabels) {
                if (l < 0 || l >= denoiser.numClasses()) {
                    throw new IllegalArgumentException("guidance: class label " + l + " is out of range; the model has "
                            + denoiser.numClasses() + " classes");
                }
            }
        } else if (guidance.conditional()) {
            if (denoiser.numClasses() <= 0) {
                throw new IllegalArgumentException("guidance: the model is unconditional but a class label was given");
            }
            if (guidance.classLabel() >= denoiser.numClasses()) {
                throw new IllegalArgumentException("guidance: class label " + guidance.classLabel()
                        + " is out of range; the model has " + denoiser.numClasses() + " classes");
            }
        } else if (guidance.scale() != 1.0) {
            throw new IllegalArgumentException("guidance: a guidance scale other than 1 needs a class label");
        }
    }

    public Denoiser denoiser() {
        return denoiser;
    }

    public Guidance guidance() {
        return guidance;
    }

    public NoiseSchedule schedule() {
        return denoiser.schedule();
    }

    /** Model evaluations so far. */
    public long nfe() {
        return nfe;
    }

    /** Wall time spent inside the model so far, in nanoseconds. */
    public long modelNanos() {
        return modelNanos;
    }

    /** The guided prediction at {@code (x, t)}, converted to {@code target}; a new array on {@code x}'s manager. */
    public NDArray eval(NDArray x, double t, PredictionType target) {
        long t0 = System.nanoTime();
        NDArray raw = guided(x, t);
        modelNanos += System.nanoTime() - t0;
        nfe++;
        if (checkFinite) {
            checkFinite(raw, t);
        }
        NDArray out = denoiser.predictionType().convert(raw, x, t, denoiser.schedule(), target);
        if (out != raw) {
            raw.close();
        }
        return out;
    }

    /** Noise prediction. */
    public NDArray noise(NDArray x, double t) {
        return eval(x, t, PredictionType.NOISE);
    }

    /** Data prediction. */
    public NDArray data(NDArray x, double t) {
        return eval(x, t, PredictionType.DATA);
    }

    private NDArray guided(NDArray x, double t) {
        NDManager m = x.getManager();
        long b = x.getShape().get(0);
        if (!guidance.conditional()) {
            return denoiser.predict(x, t, null);
        }
        long[] cond = new long[(int) b];
        if (guidance.perSeedClass()) {
            if (rowLabels.length != b) {
                throw new IllegalArgumentException("guidance: " + rowLabels.length + " row labels for a batch of " + b);
            }
            System.arraycopy(rowLabels, 0, cond, 0, (int) b);
        } else {
            java.util.Arrays.fill(cond, guidance.classLabel());
        }
        if (!guidance.needsPair()) {
            try (NDArray labels = m.create(cond)) {
                return denoiser.predict(x, t, labels);
            }
        }
        // One batched call on [uncond, cond], as the official wrapper does; eps_u + s (eps_c - eps_u).
        long[] lab = new long[(int) (2 * b)];
        for (int i = 0; i < b; i++) {
            lab[i] = Denoiser.UNCONDITIONAL;
            lab[(int) b + i] = cond[i];
        }
        try (NDArray labels = m.create(lab);
             NDArray x2 = x.concat(x, 0);
             NDArray out = denoiser.predict(x2, t, labels);
             NDList parts = out.split(2, 0)) {
            NDArray uncond = parts.get(0);
            NDArray condOut = parts.get(1);
            NDArray r = condOut.sub(uncond);
            r.muli(guidance.scale());
            return r.addi(uncond);
        }
    }

    private static void checkFinite(NDArray out, double t) {
        // One reduction: a NaN or infinity anywhere makes the sum non-finite.
        double sum;
        try (NDArray total = out.sum()) {
            if (total.getDataType() == DataType.FLOAT64) {
                sum = total.getDouble();
            } else if (total.getDataType() == DataType.FLOAT32) {
                sum = total.getFloat();
            } else {
                try (NDArray d = total.toType(DataType.FLOAT64, true)) {
                    sum = d.getDouble();
                }
            }
        }
        if (!Double.isFinite(sum)) {
            out.close();
            throw new NonFiniteModelOutputException(t);
        }
    }
}
