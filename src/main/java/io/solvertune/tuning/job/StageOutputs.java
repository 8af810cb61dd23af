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

    /** One NFE's best untuned baseline. */
    public record BaselineRow(int nfe, String config, double heldOutMse, double heldOutStdErr) {
    }

    /** A coefficient method's chosen sets, one row per NFE. */
    public record Fit(MethodId method, List<FitRow> results) {
    }

    /**
     * One NFE of a coefficient method: the set's file (a {@code CoefficientSet}) and scores, or only the failures when
     * no variant fitted.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FitRow(int nfe, List<String> failures, String file, String config, Double selectMse, Double heldOutMse,
                  Double baseMse, Boolean publishable) {
    }

    /** DPM-Solver-v3 statistics ({@code dir}: l.npz, sb.npz, ems.json) with their sha256 by file name. */
    public record Ems(String dir, int gridSteps, String source, int samples, String lMethod, Map<String, String> sha256) {
    }

    /** DPM-Solver-v3 variants chosen and validated ({@code file}: {@link DpmSolverV3Stage.Picks}). */
    record V3(String file, String ems, Ems emsOutput, List<V3Row> results) {
    }

    /** One NFE's chosen DPM-Solver-v3 variant. */
    record V3Row(int nfe, String config, double heldOutMse, double baseMse, boolean publishable) {
    }
}
