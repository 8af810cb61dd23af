package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.service.configs.ConfigValues;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.MethodCatalog;

/**
 * The run a published config's {@code values} stand for — the same solver, exact grid, lower-order-final rule and
 * final denoising step the validation ran (and the Python client's {@code Config.plan} runs).
 */
final class ConfigRun {
    private ConfigRun() {
    }

    static SamplerConfig samplerConfig(JsonNode values) {
        ConfigValues v;
        try {
            v = ConfigValues.parse(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--config: " + e.getMessage());
        }
        double[] t = v.times();
        double tStart = t[0];
        double tEnd = t[t.length - 1];
        if (v instanceof ConfigValues.Baseline b) {
            Candidate c = b.candidate();
            return new SamplerConfig(c.solver(), c.spacing(), b.steps(), tStart, tEnd, c.lowerOrderFinal(),
                    c.denoiseToZero());
        }
        if (v instanceof ConfigValues.Coefficients c) {
            return new SamplerConfig(MethodCatalog.spec(c.set()), c.set().spacing(), c.set().steps(), tStart, tEnd,
                    true, false);
        }
        ConfigValues.DpmSolverV3 d = (ConfigValues.DpmSolverV3) v;
        return new SamplerConfig(d.spec(), d.spacing(), d.steps(), tStart, tEnd, d.lowerOrderFinal(),
                d.denoiseToZero());
    }
}
