package io.solvertune.tuning.publish;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.solvertune.tuning.fit.CoefficientSet;

/**
 * The validation metrics of a published config (held-out MSE against the teacher with its standard error, against the
 * base solver and against the best untuned baseline at the same NFE, with verdicts). Absent fields are left out of
 * the JSON; the three producers fill these:
 * <ul>
 *   <li>baseline: config, heldOut*, selectMse, candidatesTried, ratioToBaseline = 1;</li>
 *   <li>coefficient set: heldOut*, base*, ratioToBase, vsBase and, when it was compared, baseline, baselineMse,
 *       baselineMedian, baselineP99, ratioToBaseline, vsBaseline;</li>
 *   <li>DPM-Solver-v3: all but candidatesTried.</li>
 * </ul>
 * {@code heldOutMedian} and {@code heldOutP99}: the median and 99th percentile (numpy's linear interpolation) of the
 * per-seed held-out error, {@code baseMedian}/{@code baseP99} and {@code baselineMedian}/{@code baselineP99} those of
 * the base solver and of the best untuned baseline the verdicts compare against (on the mixtures the mean is decided by
 * under 1 % of seeds). Every producer of the pipeline fills them; configs published before they were recorded lack
 * them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigMetrics(String config, Double heldOutMse, Double heldOutStdErr, Integer heldOutSeeds,
                            Double selectMse, Integer candidatesTried, Double baseMse, Double baseStdErr,
                            Double ratioToBase, CoefficientSet.Verdict vsBase, String baseline, Double baselineMse,
                            Double ratioToBaseline, CoefficientSet.Verdict vsBaseline, Double heldOutMedian,
                            Double heldOutP99, Double baseMedian, Double baseP99, Double baselineMedian,
                            Double baselineP99) {

    /** Without the quantiles of the base and the best baseline. */
    public ConfigMetrics(String config, Double heldOutMse, Double heldOutStdErr, Integer heldOutSeeds,
                         Double selectMse, Integer candidatesTried, Double baseMse, Double baseStdErr,
                         Double ratioToBase, CoefficientSet.Verdict vsBase, String baseline, Double baselineMse,
                         Double ratioToBaseline, CoefficientSet.Verdict vsBaseline, Double heldOutMedian,
                         Double heldOutP99) {
        this(config, heldOutMse, heldOutStdErr, heldOutSeeds, selectMse, candidatesTried, baseMse, baseStdErr,
                ratioToBase, vsBase, baseline, baselineMse, ratioToBaseline, vsBaseline, heldOutMedian, heldOutP99,
                null, null, null, null);
    }

    /** Only a held-out MSE (tests and hand-published configs). */
    public static ConfigMetrics heldOut(double mse) {
        return new ConfigMetrics(null, mse, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null);
    }

    /** The best untuned baseline at its NFE: its own reference (ratio 1). */
    public static ConfigMetrics baseline(String config, double heldOutMse, double heldOutStdErr, int heldOutSeeds,
                                         double selectMse, int candidatesTried) {
        return new ConfigMetrics(config, heldOutMse, heldOutStdErr, heldOutSeeds, selectMse, candidatesTried, null,
                null, null, null, null, null, 1.0, null, null, null);
    }

    /** The best untuned baseline with the median and 99th percentile of its per-seed held-out error. */
    public static ConfigMetrics baseline(String config, double heldOutMse, double heldOutStdErr, int heldOutSeeds,
                                         double selectMse, int candidatesTried, Double heldOutMedian,
                                         Double heldOutP99) {
        return new ConfigMetrics(config, heldOutMse, heldOutStdErr, heldOutSeeds, selectMse, candidatesTried, null,
                null, null, null, null, null, 1.0, null, heldOutMedian, heldOutP99);
    }

    /** A fitted coefficient set, from its held-out validation (with its quantiles where it recorded them). */
    public static ConfigMetrics of(CoefficientSet.Validation v) {
        boolean compared = v.baseline() != null;
        return new ConfigMetrics(null, v.mse(), v.stdErr(), v.seeds(), null, null, v.baseMse(), v.baseStdErr(),
                v.mse() / v.baseMse(), v.vsBase(), compared ? v.baseline() : null,
                compared ? v.baselineMse() : null, compared ? v.mse() / v.baselineMse() : null,
                compared ? v.vsBaseline() : null, v.median(), v.p99(), v.baseMedian(), v.baseP99(),
                compared ? v.baselineMedian() : null, compared ? v.baselineP99() : null);
    }
}
