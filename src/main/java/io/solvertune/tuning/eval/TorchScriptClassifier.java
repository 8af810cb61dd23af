package io.solvertune.tuning.eval;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import io.solvertune.numerics.nd.Nd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A TorchScript classifier {@code forward(x[B, ...]) -> logits[B, C]} used to measure sample quality (the fraction of
 * class-conditional samples labelled with their class).
 */
public final class TorchScriptClassifier implements AutoCloseable {
    private final Model model;
    private final PtSymbolBlock block;

    public TorchScriptClassifier(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString());
        }
        model = Model.newInstance("classifier", ai.djl.engine.Engine.getInstance().defaultDevice(), "PyTorch");
        try {
            model.load(file, null, Map.of("mapLocation", "true"));
        } catch (MalformedModelException | RuntimeException e) {
            model.close();
            throw new IllegalArgumentException("classifier: " + file + " is not a loadable TorchScript module: " + e.getMessage(), e);
        }
        block = (PtSymbolBlock) model.getBlock();

    }

    /** Predicted class of each sample (flattened [b, shape...]). */
    public int[] predict(double[] x, long[] sampleShape, int b) {
        double[] logits = logits(x, sampleShape, b);
        int c = logits.length / b;
        int[] out = new int[b];
        for (int i = 0; i < b; i++) {
            int best = 0;
            for (int k = 1; k < c; k++) {
                if (logits[i * c + k] > logits[i * c + best]) {
                    best = k;
                }
            }
            out[i] = best;
        }
        return out;
    }

    /**
     * The module's output for each sample (flattened {@code [b, shape...]} in, {@code [b, C]} row-major out): the
     * logits, the only output the project's classifier exposes (its TorchScript module has one method,
     * {@code forward}; the penultimate features are not reachable, see docs/methods/consistency.md).
     */
    public double[] logits(double[] x, long[] sampleShape, int b) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = b;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray in = Nd.create(m, x, new Shape(shape), DataType.FLOAT32);
            try (IValue iv = IValue.from((PtNDArray) in);
                 IValue res = IValueUtils.runMethod(block, "forward", iv)) {
                NDArray logits = res.toTensor((PtNDManager) m);
                if (logits.getShape().dimension() != 2 || logits.getShape().get(0) != b) {
                    throw new IllegalArgumentException("classifier: expected logits [" + b + ", C], got " + logits.getShape());
                }
                return Nd.toDoubles(logits);
            }
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
