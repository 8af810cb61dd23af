package io.solvertune.numerics.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.spec.ModelSpec;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link ScheduleSpec}: JSON round trip through the spec mapper, {@code build()}, and validation messages. */
class ScheduleSpecTest {
    static final ObjectMapper MAPPER = ModelSpec.MAPPER;
    static final double[] PROBE_T = {0.0011, 0.01, 0.1, 0.37, 0.5, 0.9, 0.99};

    static Stream<Arguments> schedules() {
        double[] betas = DiffusersReference.linearBetas(1e-4, 0.02, 50);
        double[] ac = DiffusersReference.alphasCumprod(DiffusersReference.scaledLinearBetas(0.00085, 0.012, 64));
        return Stream.of(
                VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000),
                VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 500, 2e-4, 0.03, -7.0),
                VpDiscreteSchedule.preset(BetaSchedule.SQUAREDCOS_CAP_V2, 1000),
                VpDiscreteSchedule.fromBetas(betas),
                VpDiscreteSchedule.fromAlphasCumprod(ac, Double.NEGATIVE_INFINITY),
                new VpLinearSchedule(0.05, 12.5),
                new VpCosineSchedule(),
                new EdmSchedule(0.01, 50.0),
                new RectifiedFlowSchedule(3.0)).map(Arguments::of);
    }

    /** Serialising spec(), reading it back and building gives the identical schedule (doubles survive JSON exactly). */
    @ParameterizedTest
    @MethodSource("schedules")
    void jsonRoundTrip(NoiseSchedule s) throws JsonProcessingException {
        String json = MAPPER.writeValueAsString(s.spec());
        JsonNode tree = MAPPER.readTree(json);
        assertTrue(tree.has("type"), json);
        ScheduleSpec back = MAPPER.readValue(json, ScheduleSpec.class);
        assertEquals(s.spec().getClass(), back.getClass());
        assertEquals(json, MAPPER.writeValueAsString(back), "second serialisation differs");
        NoiseSchedule rebuilt = back.build();
        assertEquals(s.getClass(), rebuilt.getClass());
        for (double u : PROBE_T) {
            double t = u * s.tMax();
            assertEquals(s.lambda(t), rebuilt.lambda(t), 0.0, json + " at t=" + t);
            assertEquals(s.alpha(t), rebuilt.alpha(t), 0.0);
            assertEquals(s.modelInputTime(t), rebuilt.modelInputTime(t), 0.0);
            assertEquals(s.warpUniformTime(u), rebuilt.warpUniformTime(u), 0.0);
        }
        if (s instanceof VpDiscreteSchedule d) {
            VpDiscreteSchedule r = (VpDiscreteSchedule) rebuilt;
            assertEquals(d.gridSize(), r.gridSize());
            assertArrayEquals(d.logAlphaGrid(), r.logAlphaGrid(), 0.0);
        }
    }

    @Test
    void handWrittenJsonBuilds() throws JsonProcessingException {
        NoiseSchedule sd = MAPPER.readValue(
                "{\"type\":\"vp_discrete\",\"preset\":\"scaled_linear\",\"numTrainTimesteps\":1000}",
                ScheduleSpec.class).build();
        assertInstanceOf(VpDiscreteSchedule.class, sd);
        assertEquals(VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000).lambda(0.5), sd.lambda(0.5), 0.0);
        ScheduleSpec.VpDiscrete spec = (ScheduleSpec.VpDiscrete) sd.spec();
        assertEquals(-5.1, spec.clippedLambda());
        assertTrue(spec.isPreset());

        NoiseSchedule lin = MAPPER.readValue("{\"type\":\"vp_linear\",\"beta0\":0.1,\"beta1\":20.0}",
                ScheduleSpec.class).build();
        assertEquals(VpLinearSchedule.standard().lambda(0.3), lin.lambda(0.3), 0.0);
        assertInstanceOf(VpCosineSchedule.class, MAPPER.readValue("{\"type\":\"vp_cosine\"}", ScheduleSpec.class).build());
        assertEquals(80.0, MAPPER.readValue("{\"type\":\"edm\",\"sigmaMin\":0.002,\"sigmaMax\":80}",
                ScheduleSpec.class).build().tMax());
        RectifiedFlowSchedule rf = (RectifiedFlowSchedule) MAPPER.readValue(
                "{\"type\":\"rectified_flow\",\"shift\":3.0}", ScheduleSpec.class).build();
        assertEquals(3.0, rf.shift());
    }

    /** The message must name the offending JSON field (compared ignoring case and underscores). */
    private static void assertNamesField(String field, Throwable e) {
        String norm = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).replace("_", "");
        assertTrue(norm.contains(field.toLowerCase(Locale.ROOT).replace("_", "")),
                "message should name '" + field + "': " + e.getMessage());
    }

    private static IllegalArgumentException buildFails(String json) throws JsonProcessingException {
        ScheduleSpec spec = MAPPER.readValue(json, ScheduleSpec.class);
        return assertThrows(IllegalArgumentException.class, spec::build, json);
    }

    @Test
    void twoSourcesOfTheDiscreteScheduleAreRejected() throws JsonProcessingException {
        IllegalArgumentException e = buildFails(
                "{\"type\":\"vp_discrete\",\"preset\":\"linear\",\"betas\":[0.1,0.2,0.3]}");
        assertNamesField("preset", e);
        assertNamesField("betas", e);
        e = buildFails("{\"type\":\"vp_discrete\",\"betas\":[0.1,0.2,0.3],\"alphasCumprod\":[0.9,0.72,0.5]}");
        assertNamesField("alphasCumprod", e);
        e = buildFails("{\"type\":\"vp_discrete\"}");
        assertNamesField("preset", e);
    }

    @Test
    void betaOutOfRangeIsRejected() throws JsonProcessingException {
        assertNamesField("betaEnd", buildFails(
                "{\"type\":\"vp_discrete\",\"preset\":\"linear\",\"betaStart\":0.0001,\"betaEnd\":1.5}"));
        assertNamesField("betaStart", buildFails(
                "{\"type\":\"vp_discrete\",\"preset\":\"scaled_linear\",\"betaStart\":-0.1,\"betaEnd\":0.012}"));
        assertNamesField("betaStart", buildFails(
                "{\"type\":\"vp_discrete\",\"preset\":\"linear\",\"betaStart\":0.02,\"betaEnd\":0.001}"));
        assertNamesField("betas", buildFails("{\"type\":\"vp_discrete\",\"betas\":[0.1,1.2,0.3]}"));
        assertNamesField("betas", buildFails("{\"type\":\"vp_discrete\",\"betas\":[0.1,0.0,0.3]}"));
    }

    @Test
    void nonDecreasingAlphasCumprodIsRejected() throws JsonProcessingException {
        IllegalArgumentException e = buildFails("{\"type\":\"vp_discrete\",\"alphasCumprod\":[0.99,0.9,0.9,0.5]}");
        assertNamesField("alphasCumprod", e);
        assertTrue(e.getMessage().contains("index 2"), e.getMessage());
        assertNamesField("alphasCumprod", buildFails("{\"type\":\"vp_discrete\",\"alphasCumprod\":[0.5,0.9]}"));
        assertNamesField("alphasCumprod", buildFails("{\"type\":\"vp_discrete\",\"alphasCumprod\":[1.0,0.9]}"));
    }

    @Test
    void otherInvalidParametersNameTheirField() throws JsonProcessingException {
        assertNamesField("beta0", buildFails("{\"type\":\"vp_linear\",\"beta0\":0.0,\"beta1\":20.0}"));
        assertNamesField("sigmaMin", buildFails("{\"type\":\"edm\",\"sigmaMin\":-1,\"sigmaMax\":80}"));
        assertNamesField("shift", buildFails("{\"type\":\"rectified_flow\",\"shift\":-2}"));
    }

    /**
     * A preset name or step count that is wrong should also say which field is wrong (a user editing a spec file sees
     * only this message).
     */
    @Test
    void unknownPresetNamesTheField() throws JsonProcessingException {
        assertNamesField("preset", buildFails("{\"type\":\"vp_discrete\",\"preset\":\"cosine\"}"));
    }

    @Test
    void tooFewTrainTimestepsNamesTheField() throws JsonProcessingException {
        assertNamesField("numTrainTimesteps", buildFails(
                "{\"type\":\"vp_discrete\",\"preset\":\"linear\",\"numTrainTimesteps\":1}"));
    }

    @Test
    void unknownTypeAndUnknownFieldAreJsonErrors() {
        Exception e = assertThrows(JsonProcessingException.class,
                () -> MAPPER.readValue("{\"type\":\"vp_quadratic\"}", ScheduleSpec.class));
        assertTrue(e.getMessage().contains("vp_quadratic"), e.getMessage());
        e = assertThrows(JsonProcessingException.class,
                () -> MAPPER.readValue("{\"type\":\"vp_linear\",\"beta0\":0.1,\"beta1\":20,\"beta2\":3}",
                        ScheduleSpec.class));
        assertTrue(e.getMessage().contains("beta2"), e.getMessage());
    }

    /** A length of 4e8 used to allocate gigabytes before failing; now it is refused before any allocation. */
    @Test
    void overlongDiscreteSchedulesAreRefusedBeforeAllocating() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MAPPER.readValue(
                "{\"type\": \"vp_discrete\", \"preset\": \"linear\", \"numTrainTimesteps\": 400000000}",
                ScheduleSpec.class).build());
        assertEquals("schedule.numTrainTimesteps: at most 1000000 timesteps, got 400000000", e.getMessage());
        ScheduleSpec.VpDiscrete betas = new ScheduleSpec.VpDiscrete(null, null, null, null,
                new double[ScheduleSpec.VpDiscrete.MAX_LENGTH + 1], null, null);
        assertEquals("betas", betas.lengthField());
        assertTrue(assertThrows(IllegalArgumentException.class, betas::build).getMessage()
                .startsWith("schedule.betas: at most 1000000"));
        assertEquals(1000, new ScheduleSpec.VpDiscrete("linear", null, null, null, null, null, null).length());
    }
}
