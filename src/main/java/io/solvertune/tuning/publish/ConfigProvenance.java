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
 * @param stage       the job's stage that produced the values ({@code g7.5/fit-dc}, ...)
 * @param training    how a trained method was trained (ConsistencySolver), or null; absent from the JSON of every
 *                    other config, so documents published before it existed read and write as they did
 * @param learnedGrid for a config on a learned grid (method {@code timesteps} or {@code <method>+timesteps}): the
 *                    grid's optimisation (absent on every other config, and on configs published before it existed)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigProvenance(Long jobId, Long modelId, String modelName, String modelHash, ScheduleSpec schedule,
                               Guidance guidance, Integer nfe, double[] timesteps, Teachers teacher, Seeds seeds,
                               String codeVersion, Platform platform, ConfigMetrics metrics, String stage,
                               Training training, LearnedGrid learnedGrid) {

    /** A provenance without training and learned grid (every method but ConsistencySolver and learned timesteps). */
    public ConfigProvenance(Long jobId, Long modelId, String modelName, String modelHash, ScheduleSpec schedule,
                            Guidance guidance, Integer nfe, double[] timesteps, Teachers teacher, Seeds seeds,
                            String codeVersion, Platform platform, ConfigMetrics metrics, String stage) {
        this(jobId, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher, seeds, codeVersion,
                platform, metrics, stage, null, null);
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
     * @param selectEvery      with checkpoint selection: iterations between the snapshots scored on the selection rows
     *                         (absent without it, and on configs published before it existed)
     * @param selectedIteration with checkpoint selection: the iteration whose policy this table is (the snapshot with
     *                         the lowest selection-row MSE at this NFE)
     * @param selectionCurve   with checkpoint selection: every snapshot's selection-row MSE at this NFE
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Training(String trainer, String policy, String inference, java.util.Map<String, Object> hyperparameters,
                           int iterations, SeedRange trainSeeds, int rewardCurveEvery,
                           java.util.List<RewardPoint> rewardCurve, Integer selectEvery, Integer selectedIteration,
                           java.util.List<SelectionPoint> selectionCurve) {

        /** A training without checkpoint selection. */
        public Training(String trainer, String policy, String inference, java.util.Map<String, Object> hyperparameters,
                        int iterations, SeedRange trainSeeds, int rewardCurveEvery,
                        java.util.List<RewardPoint> rewardCurve) {
            this(trainer, policy, inference, hyperparameters, iterations, trainSeeds, rewardCurveEvery, rewardCurve,
                    null, null, null);
        }
    }

    /** One snapshot's selection-row MSE (in the inference mode scored). */
    public record SelectionPoint(int iteration, String inference, double mse) {
    }

    /** One point of a reward curve. */
    public record RewardPoint(int iteration, int nfe, double reward, double ratioToNeutral) {
    }

    /**
     * How a grid was learned: CMA-ES over LD3's softmax-cumsum parameterisation of the grid, minimising the final-state
     * MSE against the teacher on the fit rows, from the variant's own spacing and (if it ran) the GITS grid.
     *
     * @param variant        the untuned solver and spacing the grid was learned for ({@code dpmsolver++(2M)
     *                       time_quadratic})
     * @param nfe            model calls per sample
     * @param fitRows        training rows the objective is computed on
     * @param objective      what is minimised ({@code final-state-mse})
     * @param coordinate     the axis of the step sizes (lambda or time)
     * @param optimizer      {@code cma-es}
     * @param maxEvaluations the evaluation budget
     * @param evaluations    evaluations spent (the starts included)
     * @param sigma          CMA-ES initial step size (log step sizes)
     * @param population     CMA-ES population (0: its default)
     * @param seed           CMA-ES seed
     * @param initialiser    the start whose run gave the grid: {@code spacing} (the variant's own grid) or
     *                       {@code gits}
     * @param startGrid      the variant's own grid
     * @param gitsGrid       the GITS grid (absent if GITS did not run)
     * @param gitsFailure    why GITS did not give a grid, if it failed
     * @param startObjective the objective of the variant's own grid
     * @param gitsObjective  the objective of the GITS grid
     * @param endObjective   the objective of the learned grid (equals the best start's if nothing beat it)
     * @param improved       whether the learned grid beats every start on the fit rows
     * @param grid           the learned grid
     * @param trace          every improvement of the best objective: {@code [evaluation, start, objective]}
     * @param generations    every CMA-ES generation: {@code [evaluation, start, generation's lowest, best so far]}
     * @param published      whether the config runs this grid ({@code false}: the variant's untuned grid had the
     *                       lower selection error and was published instead)
     * @param fitFrom        the first of the training rows (absent: 0; only the {@code learn-timesteps} command
     *                       learns on other rows)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LearnedGrid(String variant, int nfe, int fitRows, String objective, String coordinate,
                              String optimizer, int maxEvaluations, int evaluations, double sigma, int population,
                              long seed, String initialiser, double[] startGrid, double[] gitsGrid, String gitsFailure,
                              double startObjective, Double gitsObjective, double endObjective, boolean improved,
                              double[] grid, java.util.List<double[]> trace, java.util.List<double[]> generations,
                              Boolean published, Integer fitFrom) {

        /** The same record, saying whether the config runs its grid. */
        public LearnedGrid withPublished(boolean p) {
            return new LearnedGrid(variant, nfe, fitRows, objective, coordinate, optimizer, maxEvaluations,
                    evaluations, sigma, population, seed, initialiser, startGrid, gitsGrid, gitsFailure,
                    startObjective, gitsObjective, endObjective, improved, grid, trace, generations, p, fitFrom);
        }
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
                null, null, null, null);
    }

    /** The same provenance, published by job {@code id}. */
    public ConfigProvenance withJobId(long id) {
        return new ConfigProvenance(id, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher,
                seeds, codeVersion, platform, metrics, stage, training, learnedGrid);
    }

    /** The same provenance with the learned grid's optimisation. */
    public ConfigProvenance withLearnedGrid(LearnedGrid g) {
        return new ConfigProvenance(jobId, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher,
                seeds, codeVersion, platform, metrics, stage, training, g);
    }

    /** The same provenance with how its values were trained. */
    public ConfigProvenance withTraining(Training t) {
        return new ConfigProvenance(jobId, modelId, modelName, modelHash, schedule, guidance, nfe, timesteps, teacher,
                seeds, codeVersion, platform, metrics, stage, t, learnedGrid);
    }
}
