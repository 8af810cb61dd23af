package io.solvertune.tuning.publish;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.numerics.Platform;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.tuning.teacher.TeacherSettings;

/**
 * Where a published config came from: model (id, name, content hash, schedule), guidance, NFE and timestep grid,
 * the teacher settings and seeds it was fitted and validated on, the code version and platform, its metrics and the
 * job and stage that produced it. Absent fields are left out of the JSON (hand-published configs carry only some).
 *
 * @param stage the job's stage that produced the values ({@code g7.5/fit-dc}, ...)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigProvenance(Long jobId, Long modelId, String modelName, String modelHash, ScheduleSpec schedule,
                               Guidance guidance, Integer nfe, double[] timesteps, Teachers teacher, Seeds seeds,
                               String codeVersion, Platform platform, ConfigMetrics metrics, String stage) {

    /** The teacher settings of the training and the held-out trajectory sets. */
    public record Teachers(TeacherSettings train, TeacherSettings heldOut) {
    }

    /** A seed range. */
    public record SeedRange(long first, long count) {
    }

    /**
     * The seed protocol.
     *
     * @param fitRows            training rows {@code [0, n)} the baselines' and v3's choices may use
     * @param coefficientFitRows training rows coefficient fits use
     * @param selectRows         training rows choices are made on ({@code [from, to)})
     * @param publishableHeldOut whether the held-out set is large enough to publish on
     */
    public record Seeds(SeedRange train, SeedRange heldOut, int[] fitRows, int coefficientFitRows, int[] selectRows,
                        boolean publishableHeldOut) {
    }

    /** Only a code version (tests and hand-published configs). */
    public static ConfigProvenance codeVersion(String codeVersion) {
        return new ConfigProvenance(null, null, null, null, null, null, null, null, null, null, codeVersion, null,
                null, null);
    }

    /** The same provenance, published by job {@code id}. */
    public ConfigProvenance withJobId(long id) {
        return new ConfigProvenance(id, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher,
                seeds, codeVersion, platform, metrics, stage);
    }
}
