package io.solvertune.tuning.teacher;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.ScheduleSpec;
import java.util.List;

/**
 * The metadata record of a {@link TrajectorySet}: what was solved (model hash, schedule, guidance, seeds), how
 * (teacher settings, dtype, device, code version), how accurately (half-step check) and how fast, plus the shards
 * and the checksum of the assembled file.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrajectorySetMeta(
        int formatVersion,
        String kind,
        String modelHash,
        ScheduleSpec schedule,
        Guidance guidance,
        TeacherSettings teacher,
        long[] seeds,
        double[] times,
        int[] gridIndexes,
        long[] sampleShape,
        String dtype,
        String device,
        String codeVersion,
        String modelOutputType,
        Accuracy accuracy,
        Throughput throughput,
        List<Shard> shards,
        String file,
        String sha256,
        String createdAt) {

    public static final int FORMAT_VERSION = 1;
    public static final String KIND = "trajectory_set";

    /** Half-step self-check of the teacher. */
    public record Accuracy(int steps, int refinedSteps, int seedsChecked, double relRmsDiff, double maxAbsDiff,
                           double tolerance, boolean passed) {
    }

    /** Measured speed of the teacher. */
    public record Throughput(long modelCalls, long sampleEvaluations, double seconds, double modelCallsPerSecond,
                             double sampleEvaluationsPerSecond) {
    }

    /** One completed shard: seeds {@code [from, to)} of the seed list. */
    public record Shard(int index, int from, int to, String file, String sha256, long modelCalls, double seconds) {
    }
}
