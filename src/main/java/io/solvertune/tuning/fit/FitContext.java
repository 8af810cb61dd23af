package io.solvertune.tuning.fit;

import io.solvertune.tuning.Progress;
import io.solvertune.tuning.teacher.Teacher;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import java.util.Arrays;
import java.util.Objects;

/**
 * What every coefficient fitter (IIA, D-ODE, DC-Solver) works from: the model and its conditioning, the training
 * samples' initial noise (rows of a teacher set, with their seeds for per-seed class labels), the time range and the
 * arithmetic. Fitters draw their own targets from it (a fine solve of the base solver, or a high-accuracy teacher at
 * exactly the student's times).
 *
 * @param model       the denoiser (not closed by fitters)
 * @param guidance    conditioning and guidance scale
 * @param seeds       seed of each training row (row labels via {@link Guidance#rowLabels})
 * @param initial     initial noise of the rows, row-major {@code [seeds.length, sampleShape...]}
 * @param sampleShape shape of one sample
 * @param tStart      start time of the sampling runs
 * @param tEnd        end time of the sampling runs
 * @param dtype       arithmetic of the fit runs (float64 for the analytic models)
 * @param batch       rows per sampling batch (memory bound)
 * @param progress    progress listener
 * @param provenance  model hash, schedule, guidance, teacher and code version to copy into the fitted sets (its
 *                    trainSeeds and settings are filled in by the fitter)
 */
public record FitContext(Denoiser model, Guidance guidance, long[] seeds, double[] initial, long[] sampleShape,
                         double tStart, double tEnd, DataType dtype, int batch, Progress progress,
                         CoefficientSet.Provenance provenance) {

    public FitContext {
        Objects.requireNonNull(model, "fit: model is required");
        Objects.requireNonNull(guidance, "fit: guidance is required");
        Objects.requireNonNull(seeds, "fit: seeds are required");
        Objects.requireNonNull(initial, "fit: initial noise is required");
        int per = Teacher.perSample(sampleShape);
        if (initial.length != (long) seeds.length * per) {
            throw new IllegalArgumentException("fit: initial has " + initial.length + " values, expected "
                    + seeds.length + " rows x " + per);
        }
        if (seeds.length < 1) {
            throw new IllegalArgumentException("fit: at least one training sample is required");
        }
        if (!(tStart > tEnd)) {
            throw new IllegalArgumentException("fit: tStart must be greater than tEnd");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("fit: batch must be >= 1");
        }
        if (dtype == null) {
            dtype = DataType.FLOAT64;
        }
        if (progress == null) {
            progress = Progress.NONE;
        }
    }

    /** Number of training rows. */
    public int rows() {
        return seeds.length;
    }

    /** Values per sample. */
    public int perSample() {
        return Teacher.perSample(sampleShape);
    }

    /** The same context on the first {@code n} rows. */
    public FitContext first(int n) {
        if (n < 1 || n > rows()) {
            throw new IllegalArgumentException("fit: asked for " + n + " samples, have " + rows());
        }
        return new FitContext(model, guidance, Arrays.copyOf(seeds, n), Arrays.copyOf(initial, n * perSample()),
                sampleShape, tStart, tEnd, dtype, batch, progress, provenance);
    }

    /** The fitted set's provenance: this context's with the training seeds and the fitter's settings. */
    public CoefficientSet.Provenance provenanceWith(java.util.Map<String, Object> settings) {
        CoefficientSet.Provenance p = provenance;
        return p == null
                ? new CoefficientSet.Provenance(null, model.schedule().spec(), guidance, null, seeds.clone(),
                        io.solvertune.numerics.CodeVersion.get(), java.time.Instant.now().toString(), settings)
                : new CoefficientSet.Provenance(p.modelHash(), p.schedule(), p.guidance(), p.teacher(), seeds.clone(),
                        p.codeVersion(), java.time.Instant.now().toString(), settings);
    }
}
