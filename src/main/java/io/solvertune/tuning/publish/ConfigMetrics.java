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
 *       ratioToBaseline, vsBaseline;</li>
 *   <li>DPM-Solver-v3: all but candidatesTried.</li>
 * </ul>
 * {@code heldOutMedian} and {@code heldOutP99}: the per-seed error distribution where the producer measured it (on the
 * mixtures the mean is decided by under 1 % of seeds).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConfigMetrics(String config, Double heldOutMse, Double heldOutStdErr, Integer heldOutSeeds,
                            Double selectMse, Integer candidatesTried, Double baseMse, Double baseStdErr,
                            Double ratioToBase, CoefficientSet.Verdict vsBase, String baseline, Double baselineMse,
                            Double ratioToBaseline, CoefficientSet.Verdict vsBaseline, Double heldOutMedian,
                            Double heldOutP99) {

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

    /** A fitted coefficient set, from its held-out validation. */
    public static ConfigMetrics of(CoefficientSet.Validation v) {
        boolean compared = v.baseline() != null;
        return new ConfigMetrics(null, v.mse(), v.stdErr(), v.seeds(), null, null, v.baseMse(), v.baseStdErr(),
                v.mse() / v.baseMse(), v.vsBase(), compared ? v.baseline() : null,
                compared ? v.baselineMse() : null, compared ? v.mse() / v.baselineMse() : null,
                compared ? v.vsBaseline() : null, null, null);
    }
}
