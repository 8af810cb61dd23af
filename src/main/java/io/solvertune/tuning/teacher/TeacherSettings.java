package io.solvertune.tuning.teacher;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;

/**
 * How teacher trajectories are computed and recorded.
 *
 * @param solver            the reference solver (default DPM-Solver++ 3M)
 * @param spacing           its time grid rule (default logSNR)
 * @param steps             its number of steps (default 500)
 * @param tStart            start time ({@code null}: the schedule's)
 * @param tEnd              end time ({@code null}: the schedule's)
 * @param recordEvery       record the state at every k-th grid point (the first and last are always recorded);
 *                          the recorded times are the declared time grid of the trajectory set
 * @param recordModelOutput also record the model output (noise prediction) at the recorded times
 * @param shardSize         seeds per shard (= batch size of one teacher solve); memory is bounded by one shard
 * @param dtype             {@code float64} or {@code float32}
 * @param accuracyTolerance the solve is repeated at half the step size on {@code accuracySeeds} seeds; the relative
 *                          RMS difference of the final states must be at most this
 * @param accuracySeeds     seeds used for the half-step check (taken from the first shard)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TeacherSettings(SolverSpec solver, TimestepSpacing spacing, int steps, Double tStart, Double tEnd,
                              int recordEvery, boolean recordModelOutput, int shardSize, String dtype,
                              double accuracyTolerance, int accuracySeeds) {

    public TeacherSettings {
        if (solver == null) {
            solver = DpmSolver.plusPlusMultistep(3);
        }
        if (spacing == null) {
            spacing = new TimestepSpacing.LogSnr();
        }
        if (steps < 1) {
            throw new IllegalArgumentException("teacher.steps: must be >= 1, got " + steps);
        }
        if (recordEvery < 1 || recordEvery > steps) {
            throw new IllegalArgumentException("teacher.recordEvery: must be in 1.." + steps + ", got " + recordEvery);
        }
        if (shardSize < 1) {
            throw new IllegalArgumentException("teacher.shardSize: must be >= 1, got " + shardSize);
        }
        if (dtype == null) {
            dtype = "float64";
        }
        if (!dtype.equals("float64") && !dtype.equals("float32")) {
            throw new IllegalArgumentException("teacher.dtype: expected float32 or float64, got '" + dtype + "'");
        }
        if (!(accuracyTolerance > 0)) {
            throw new IllegalArgumentException("teacher.accuracyTolerance: must be > 0, got " + accuracyTolerance);
        }
        if (accuracySeeds < 0) {
            throw new IllegalArgumentException("teacher.accuracySeeds: must be >= 0, got " + accuracySeeds);
        }
        if (spacing instanceof TimestepSpacing.Explicit) {
            throw new IllegalArgumentException("teacher.spacing: an explicit list cannot be refined for the half-step check");
        }
    }

    /** Defaults: DPM-Solver++ 3M, 500 logSNR steps, record every 10th point, shards of 64, float64, tolerance 1e-4. */
    public static TeacherSettings defaults() {
        return new TeacherSettings(DpmSolver.plusPlusMultistep(3), new TimestepSpacing.LogSnr(), 500, null,
                null, 10, false, 64, "float64", 1e-4, 16);
    }

    public TeacherSettings withSteps(int n, int every) {
        return new TeacherSettings(solver, spacing, n, tStart, tEnd, every, recordModelOutput, shardSize, dtype,
                accuracyTolerance, accuracySeeds);
    }

    public TeacherSettings withDtype(String d) {
        return new TeacherSettings(solver, spacing, steps, tStart, tEnd, recordEvery, recordModelOutput, shardSize, d,
                accuracyTolerance, accuracySeeds);
    }

    public TeacherSettings withShardSize(int n) {
        return new TeacherSettings(solver, spacing, steps, tStart, tEnd, recordEvery, recordModelOutput, n, dtype,
                accuracyTolerance, accuracySeeds);
    }

    public TeacherSettings withTimeRange(Double start, Double end) {
        return new TeacherSettings(solver, spacing, steps, start, end, recordEvery, recordModelOutput, shardSize, dtype,
                accuracyTolerance, accuracySeeds);
    }

    public TeacherSettings withRecordModelOutput(boolean on) {
        return new TeacherSettings(solver, spacing, steps, tStart, tEnd, recordEvery, on, shardSize, dtype,
                accuracyTolerance, accuracySeeds);
    }

    public TeacherSettings withAccuracy(double tolerance, int seeds) {
        return new TeacherSettings(solver, spacing, steps, tStart, tEnd, recordEvery, recordModelOutput, shardSize, dtype,
                tolerance, seeds);
    }

    /** The sampler configuration of the teacher solve (lower_order_final off: every step at full order). */
    public SamplerConfig samplerConfig(int stepCount) {
        return new SamplerConfig(solver, spacing, stepCount, tStart, tEnd, false, false);
    }

    /** Prediction the teacher's model outputs are recorded in. */
    public PredictionType recordedPrediction() {
        return PredictionType.NOISE;
    }
}
