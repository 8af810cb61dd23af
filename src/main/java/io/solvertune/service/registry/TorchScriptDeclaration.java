package io.solvertune.service.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.model.TorchScriptDenoiser;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.api.problem.InvalidRequestException;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a client declares about an uploaded TorchScript module (the query parameters of
 * {@code POST /api/v1/models/torchscript}), checked before the body is read.
 *
 * @param schedule       the noise schedule the network was trained with
 * @param inputShape     shape of one sample
 * @param predictionType noise | data | v | score | flow_velocity (normalised)
 * @param timeInput      ddpm_index | continuous | sigma | scaled_1000 (normalised)
 * @param numClasses     0 = unconditional ({@code forward(x, t)}), else {@code forward(x, t, class)}
 * @param nullClass      the label of unconditional rows ({@code null} without classes)
 * @param dtype          float32 | float64
 */
public record TorchScriptDeclaration(ScheduleSpec schedule, long[] inputShape, String predictionType,
                                     String timeInput, int numClasses, Long nullClass, String dtype) {

    /**
     * Parses and checks the parameters; each problem is a 400 naming its parameter.
     *
     * @param schedule   a schedule spec as JSON, or a beta-schedule name ({@code linear}, {@code scaled_linear},
     *                   {@code squaredcos_cap_v2}) meaning a 1000-step discrete VP schedule
     * @param inputShape comma-separated positive dimensions, e.g. {@code 1,28,28}
     * @param timeInput  defaults to {@code ddpm_index} for discrete VP schedules
     */
    public static TorchScriptDeclaration parse(String schedule, String inputShape, String predictionType,
                                               String timeInput, Integer numClasses, Long nullClass, String dtype,
                                               int maxScheduleLength) {
        ScheduleSpec s = parseSchedule(schedule, maxScheduleLength);
        long[] shape = parseShape(inputShape);
        if (predictionType == null || predictionType.isBlank()) {
            throw InvalidRequestException.field("predictionType", "required: noise, data, v, score or flow_velocity");
        }
        String pt;
        try {
            pt = PredictionType.parse(predictionType.strip()).id();
        } catch (IllegalArgumentException e) {
            throw InvalidRequestException.field("predictionType", e.getMessage());
        }
        String ti;
        if (timeInput == null || timeInput.isBlank()) {
            if (!(s instanceof ScheduleSpec.VpDiscrete)) {
                throw InvalidRequestException.field("timeInput", "required for a continuous-time schedule: "
                        + "continuous, sigma or scaled_1000");
            }
            ti = TorchScriptDenoiser.TimeInput.DDPM_INDEX.id();
        } else {
            try {
                ti = TorchScriptDenoiser.TimeInput.parse(timeInput.strip()).id();
            } catch (IllegalArgumentException e) {
                throw InvalidRequestException.field("timeInput", e.getMessage());
            }
        }
        int k = numClasses == null ? 0 : numClasses;
        if (k < 0) {
            throw InvalidRequestException.field("numClasses", "must be >= 0 (0 = unconditional), got " + k);
        }
        Long nul = null;
        if (k > 0) {
            nul = nullClass == null ? (long) k : nullClass;
            if (nul >= 0 && nul < k) {
                throw InvalidRequestException.field("nullClass", "the unconditional label " + nul
                        + " is one of the classes 0.." + (k - 1) + " (usually it is " + k + ")");
            }
        } else if (nullClass != null) {
            throw InvalidRequestException.field("nullClass", "only meaningful with numClasses > 0");
        }
        String dt = dtype == null || dtype.isBlank() ? "float32" : dtype.strip().toLowerCase(Locale.ROOT);
        if (!dt.equals("float32") && !dt.equals("float64")) {
            throw InvalidRequestException.field("dtype", "expected float32 or float64, got '" + dtype + "'");
        }
        return new TorchScriptDeclaration(s, shape, pt, ti, k, nul, dt);
    }

    /** The model spec of the module stored at {@code file}. */
    public ModelSpec spec(String file) {
        return new ModelSpec(schedule, new DenoiserSpec.TorchScript(file, inputShape.clone(), predictionType,
                numClasses > 0 ? numClasses : null, nullClass, timeInput, dtype, null), null, null);
    }

    private static ScheduleSpec parseSchedule(String s, int maxScheduleLength) {
        if (s == null || s.isBlank()) {
            throw InvalidRequestException.field("schedule", "required: a schedule spec as JSON, e.g. "
                    + "{\"type\":\"vp_discrete\",\"preset\":\"linear\",\"numTrainTimesteps\":1000}, or one of "
                    + "linear, scaled_linear, squaredcos_cap_v2");
        }
        String t = s.strip();
        ScheduleSpec spec;
        if (t.startsWith("{")) {
            try {
                spec = ModelSpec.MAPPER.readValue(t, ScheduleSpec.class);
            } catch (JsonProcessingException e) {
                throw SpecErrors.ofJson(e, "schedule");
            }
        } else {
            BetaSchedule b;
            try {
                b = BetaSchedule.fromId(t);
            } catch (IllegalArgumentException e) {
                throw InvalidRequestException.field("schedule", "expected a schedule spec as JSON or a beta schedule "
                        + "name: " + e.getMessage());
            }
            spec = new ScheduleSpec.VpDiscrete(b.id(), 1000, null, null, null, null, null);
        }
        ModelRegistry.checkScheduleLength(spec, maxScheduleLength, "schedule");
        try {
            spec.build();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage() == null ? "invalid" : e.getMessage();
            throw InvalidRequestException.field("schedule", m.startsWith("schedule") ? m.replaceFirst(
                    "^schedule(\\.\\w+)?: ", "") : m);
        }
        return spec;
    }

    private static long[] parseShape(String s) {
        if (s == null || s.isBlank()) {
            throw InvalidRequestException.field("inputShape", "required: the shape of one sample, e.g. 1,28,28");
        }
        String[] parts = s.strip().replaceAll("^\\[|]$", "").split("\\s*,\\s*");
        long[] shape = new long[parts.length];
        long n = 1;
        try {
            for (int i = 0; i < parts.length; i++) {
                shape[i] = Long.parseLong(parts[i].strip());
                if (shape[i] < 1) {
                    throw InvalidRequestException.field("inputShape", "dimensions must be positive, got " + s);
                }
                n = Math.multiplyExact(n, shape[i]);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw InvalidRequestException.field("inputShape", "expected comma-separated positive integers, e.g. "
                    + "1,28,28, got '" + s + "'");
        }
        if (n > ModelProbe.MAX_SAMPLE_VALUES) {
            throw InvalidRequestException.field("inputShape", "a sample of shape " + Arrays.toString(shape)
                    + " is larger than the " + ModelProbe.MAX_SAMPLE_VALUES + " values this server accepts");
        }
        return shape;
    }
}
