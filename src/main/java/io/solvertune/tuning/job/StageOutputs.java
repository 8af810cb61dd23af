package io.solvertune.tuning.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.teacher.TrajectorySetMeta;
import java.util.List;
import java.util.Map;

/**
 * The outputs of each stage kind, as stored with the stage and handed to its dependants: small (paths relative to
 * the work directory, sha256s, summary numbers), and read back as these records ({@link TypedStage#input}) rather than
 * by field name. Absent fields are left out of the JSON.
 */
public final class StageOutputs {
    private StageOutputs() {
    }

    /** A teacher shard: its trajectory set directory and shard file. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TeacherShard(String dir, String split, long firstSeed, int count, String sha256, String shardFile,
                        long modelCalls, TrajectorySetMeta.Accuracy accuracy) {
    }

    /** A split's trajectory set, assembled from its shards. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TeacherSet(String dir, String split, long firstSeed, int count, String sha256, int recordedTimes,
                      TrajectorySetMeta.Accuracy accuracy) {
    }

    /** The best untuned baselines ({@code file}: {@link Scores.Baselines}). */
    public record Baselines(String file, List<BaselineRow> baselines) {
    }

    /**
     * One NFE's best untuned baseline; {@code heldOutMedian} and {@code heldOutP99} of the per-seed errors (absent in
     * outputs stored before they were recorded).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record BaselineRow(int nfe, String config, double heldOutMse, double heldOutStdErr, Double heldOutMedian,
                              Double heldOutP99) {
        public BaselineRow(int nfe, String config, double heldOutMse, double heldOutStdErr) {
            this(nfe, config, heldOutMse, heldOutStdErr, null, null);
        }
    }

    /**
     * A coefficient method's chosen sets, one row per NFE (also the {@code timesteps} stage's, method
     * {@code timesteps}); {@code grids}: for sets on learned grids, the file of their grids' optimisations (a JSON
     * array of {@link io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid}); {@code scores}: for sets on learned
     * grids, the file of their per-seed scores ({@link Scores#SCORES}: selection, held-out, base and baseline errors
     * per seed and every candidate's selection error, for paired verdicts against other stages' results).
     *
     * <p>{@code method} is the published method's name: a {@link MethodId}'s id, or for a fit on learned timesteps
     * {@code <id>+timesteps} (see {@link #methodId()} for the method it fitted).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Fit(String method, List<FitRow> results, String grids, String scores) {
        public Fit(String method, List<FitRow> results, String grids) {
            this(method, results, grids, null);
        }

        public Fit(String method, List<FitRow> results) {
            this(method, results, null);
        }

        public Fit(MethodId method, List<FitRow> results) {
            this(method.id(), results, null);
        }

        /** The method fitted: {@link #method} without a {@code +timesteps} suffix. */
        public MethodId methodId() {
            return MethodId.parse(method.endsWith(TIMESTEPS_SUFFIX)
                    ? method.substring(0, method.length() - TIMESTEPS_SUFFIX.length()) : method);
        }
    }

    /** The suffix of a coefficient method fitted jointly with learned timesteps. */
    public static final String TIMESTEPS_SUFFIX = "+timesteps";

    /**
     * One NFE of a coefficient method: the set's file (a {@code CoefficientSet}) and scores, or only the failures when
     * no variant fitted.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FitRow(int nfe, List<String> failures, String file, String config, Double selectMse,
                         Double heldOutMse, Double baseMse, Boolean publishable, Double heldOutMedian,
                         Double heldOutP99) {
        public FitRow(int nfe, List<String> failures, String file, String config, Double selectMse, Double heldOutMse,
                      Double baseMse, Boolean publishable) {
            this(nfe, failures, file, config, selectMse, heldOutMse, baseMse, publishable, null, null);
        }
    }

    /**
     * ConsistencySolver's training and per-NFE sets ({@code file}: {@link ConsistencyStage.Summary}; a row's
     * {@code file} is its {@code CoefficientSet}, {@code config} its inference mode).
     */
    public record Consistency(String method, String file, int iterations, List<FitRow> results) {
    }

    /** DPM-Solver-v3 statistics ({@code dir}: l.npz, sb.npz, ems.json) with their sha256 by file name. */
    public record Ems(String dir, int gridSteps, String source, int samples, String lMethod, Map<String, String> sha256) {
    }

    /** DPM-Solver-v3 variants chosen and validated ({@code file}: {@link DpmSolverV3Stage.Picks}). */
    record V3(String file, String ems, Ems emsOutput, List<V3Row> results) {
    }

    /**
     * DPM-Solver-v3 on learned grids ({@code file}: {@link DpmSolverV3Stage.Picks} whose times are the learned grids,
     * positions interpolated; {@code grids}: their optimisations, a JSON array of
     * {@link io.solvertune.tuning.publish.ConfigProvenance.LearnedGrid}); a row's {@code baseMse} is the snapped v3's.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record V3Timesteps(String file, String grids, String ems, Ems emsOutput, List<V3Row> results,
                       List<FitRow> failures) {
    }

    /** One NFE's chosen DPM-Solver-v3 variant (median and p99 of its per-seed held-out errors). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record V3Row(int nfe, String config, double heldOutMse, double baseMse, boolean publishable, Double heldOutMedian,
                 Double heldOutP99) {
        V3Row(int nfe, String config, double heldOutMse, double baseMse, boolean publishable) {
            this(nfe, config, heldOutMse, baseMse, publishable, null, null);
        }
    }

    /**
     * The sample grids of one guidance scale ({@code index}: {@value SampleGridStage#INDEX}, the same rows with the
     * provenance), or why there are none ({@code skipped}: the model's samples are not images).
     *
     * @param seeds        the held-out seeds of the rows, top to bottom
     * @param teacherSteps steps of the held-out teacher (the first column)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Grids(String index, List<Long> seeds, Integer teacherSteps, List<GridRow> grids, String skipped) {
    }

    /** One NFE's grid: its PNG (relative to the work directory), sha256, pixel size and columns left to right. */
    record GridRow(int nfe, String file, String sha256, int width, int height, List<GridColumn> columns) {
    }

    /**
     * One column of a grid: the teacher ({@code method} "teacher"), the best untuned baseline ("baseline") or a tuned
     * result (its method), the candidate it ran, the stage that chose it and its per-seed MSE against the teacher on
     * the grid's seeds (none for the teacher).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record GridColumn(String method, String config, String stage, double[] perSeedMse) {
    }
}
