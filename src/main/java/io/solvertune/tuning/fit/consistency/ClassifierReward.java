package io.solvertune.tuning.fit.consistency;

import io.solvertune.tuning.eval.TorchScriptClassifier;
import java.util.Objects;

/**
 * The perceptual term of ConsistencySolver's reward for image models, after the paper's feature-similarity rewards:
 * {@code weight x cos(f(x), f(x_teacher))}, the cosine similarity of the project's classifier's output for a rollout's
 * final state and for the teacher's final state of the same noise, added to the reward {@code -MSE}. {@code f} is the
 * classifier's logits: the project's TorchScript classifier exposes only {@code forward} (no feature method, and
 * DJL reaches no submodule or BatchNorm buffer), so its last layer is the feature vector available.
 *
 * @param classifier the TorchScript classifier (not closed here)
 * @param weight     factor on the cosine, (0, 1000]
 * @param id         what identifies the classifier in the trainer's settings (e.g. its file's sha256), so a
 *                   checkpoint of another classifier or weight is refused
 */
public record ClassifierReward(TorchScriptClassifier classifier, double weight, String id) {

    public ClassifierReward {
        Objects.requireNonNull(classifier, "classifierReward: classifier is required");
        if (!(weight > 0 && weight <= 1000)) {
            throw new IllegalArgumentException("classifierWeight: must be in (0, 1000], got " + weight);
        }
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("classifierReward: an id of the classifier is required");
        }
    }

    /** The classifier's output rows {@code [rows, C]} of {@code x} ({@code rows x perSample}, row-major). */
    double[][] features(double[] x, long[] sampleShape, int rows) {
        double[] flat = classifier.logits(x, sampleShape, rows);
        int c = flat.length / rows;
        double[][] out = new double[rows][c];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(flat, r * c, out[r], 0, c);
        }
        return out;
    }

    /** Cosine similarity of two vectors (0 if either is zero). */
    static double cosine(double[] a, double[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }

    /**
     * The reward of every row: {@code -mse[r] + weight x cos(f(finals[r]), targetFeatures[r])}.
     *
     * @param finals         the rollouts' final states ({@code rows x perSample})
     * @param targetFeatures the classifier's output for each row's teacher final state
     */
    double[] rewards(double[] mse, double[] finals, double[][] targetFeatures, long[] sampleShape) {
        int rows = mse.length;
        double[][] f = features(finals, sampleShape, rows);
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            out[r] = -mse[r] + weight * cosine(f[r], targetFeatures[r]);
        }
        return out;
    }
}
