package io.solvertune.numerics.spec;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model spec file: schedule, model, default conditioning and the data type sampling runs in.
 *
 * <pre>{@code
 * {"schedule": {"type": "vp_discrete", "preset": "scaled_linear", "numTrainTimesteps": 1000},
 *  "model": {"type": "gaussian_mixture", "npz": "ref_public_gmm_sd_d8.npz"},
 *  "guidance": {"classLabel": 0, "scale": 5.0},
 *  "dtype": "float64"}
 * }</pre>
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelSpec(ScheduleSpec schedule, DenoiserSpec model, Guidance guidance, String dtype) {

    /** The mapper every spec goes through: unknown fields are errors. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Reads and checks a spec file. */
    public static ModelSpec read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString());
        }
        ModelSpec spec = MAPPER.readValue(file.toFile(), ModelSpec.class);
        spec.validate();
        return spec;
    }

    /** Checks required fields. */
    public void validate() {
        if (schedule == null) {
            throw new IllegalArgumentException("schedule: required");
        }
        if (model == null) {
            throw new IllegalArgumentException("model: required");
        }
        if (dtype != null) {
            DenoiserSpec.parseDtype(dtype, "dtype");
        }
    }

    /**
     * The data type sampling runs in: the spec's {@code dtype}, else float64 for analytic models, float32 for
     * empirical ones and the declared dtype of TorchScript networks (float32 by default).
     */
    public DataType dataType() {
        if (dtype != null) {
            return DenoiserSpec.parseDtype(dtype, "dtype");
        }
        if (model instanceof DenoiserSpec.TorchScript ts) {
            return ts.dtype() == null ? DataType.FLOAT32 : DenoiserSpec.parseDtype(ts.dtype(), "model.dtype");
        }
        return model instanceof DenoiserSpec.Empirical ? DataType.FLOAT32 : DataType.FLOAT64;
    }

    /** Default guidance: the spec's, else unconditional. */
    public Guidance guidanceOrNone() {
        return guidance == null ? Guidance.none() : guidance;
    }

    /** Builds the schedule and the model. */
    public Denoiser build(Path baseDir) throws IOException {
        NoiseSchedule s = schedule.build();
        return model.build(s, baseDir);
    }
}
