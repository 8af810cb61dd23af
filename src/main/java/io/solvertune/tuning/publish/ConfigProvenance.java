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
 * @param stage    the job's stage that produced the values ({@code g7.5/fit-dc}, ...)
 * @param training how a trained method was trained (ConsistencySolver), or null; absent from the JSON of every other
 *                 config, so documents published before it existed read and write as they did
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigProvenance(Long jobId, Long modelId, String modelName, String modelHash, ScheduleSpec schedule,
                               Guidance guidance, Integer nfe, double[] timesteps, Teachers teacher, Seeds seeds,
                               String codeVersion, Platform platform, ConfigMetrics metrics, String stage,
                               Training training) {

    /** A provenance without training (every method but ConsistencySolver). */
    public ConfigProvenance(Long jobId, Long modelId, String modelName, String modelHash, ScheduleSpec schedule,
                            Guidance guidance, Integer nfe, double[] timesteps, Teachers teacher, Seeds seeds,
                            String codeVersion, Platform platform, ConfigMetrics metrics, String stage) {
        this(jobId, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher, seeds, codeVersion,
                platform, metrics, stage, null);
    }

    /**
     * How a trained method's values were trained.
     *
     * @param trainer          {@code rl-grpo-ppo} (ConsistencySolver's reinforcement learning)
     * @param policy           the policy ({@code gaussian}, {@code categorical-11})
     * @param inference        how the policy became this table: {@code expected} | {@code argmax}
     * @param hyperparameters  every trainer setting by its job-spec name (form, order, iterations, noises, group,
     *                         learningRate, seed, spacing, ...)
     * @param iterations       iterations trained
     * @param trainSeeds       the seeds of the training rows
     * @param rewardCurveEvery the curve below holds every k-th iteration (and the last)
     * @param rewardCurve      per iteration: the NFE drawn, the mean reward (minus the final-state MSE to the teacher)
     *                         and the mean ratio of the rollouts' MSE to DDIM's on the same noises
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Training(String trainer, String policy, String inference, java.util.Map<String, Object> hyperparameters,
                           int iterations, SeedRange trainSeeds, int rewardCurveEvery,
                           java.util.List<RewardPoint> rewardCurve) {
    }

    /** One point of a reward curve. */
    public record RewardPoint(int iteration, int nfe, double reward, double ratioToNeutral) {
    }

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
                null, null, null);
    }

    /** The same provenance, published by job {@code id}. */
    public ConfigProvenance withJobId(long id) {
        return new ConfigProvenance(id, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher,
                seeds, codeVersion, platform, metrics, stage, training);
    }
}
