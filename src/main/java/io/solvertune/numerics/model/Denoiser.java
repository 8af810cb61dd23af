package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * A diffusion model evaluated on a batch: one call {@code predict(x, t, labels)} returning its prediction of
 * {@link #predictionType()} at continuous time {@code t} of {@link #schedule()}. Implementations map {@code t} to
 * whatever time input their network takes ({@link NoiseSchedule#modelInputTime(double)}).
 *
 * <p>The result must be a new array attached to {@code x}'s manager (callers close it); implementations close
 * every intermediate they create.
 */
public interface Denoiser extends AutoCloseable {

    /** Marks an unconditional row in a label array. */
    long UNCONDITIONAL = -1L;

    PredictionType predictionType();

    NoiseSchedule schedule();

    /**
     * Evaluates the model.
     *
     * @param x      batch of states, shape {@code [B, ...]}
     * @param t      continuous time
     * @param labels int64 {@code [B]} class label per row ({@link #UNCONDITIONAL} for none), or {@code null} for an
     *               all-unconditional batch
     */
    NDArray predict(NDArray x, double t, NDArray labels);

    /** Number of classes a conditional model knows (0 for unconditional models). */
    default int numClasses() {
        return 0;
    }

    /** Shape of one sample (without the batch axis). */
    long[] sampleShape();

    @Override
    default void close() {
    }
}
