package io.solvertune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.tuning.publish.ConfigValues;

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
        return v.samplerConfig();
    }
}
