package io.solvertune.service.configs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.Candidate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/** diffusers exports of rectified-flow configs: which stock scheduler runs which base solver. */
class ConfigExportsFlowTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final RectifiedFlowSchedule FLOW = new RectifiedFlowSchedule(3.0);

    static ObjectNode document() {
        ObjectNode d = JSON.createObjectNode().put("id", 7).put("version", 1).put("guidance", 4.5).put("nfe", 8);
        d.putObject("model").put("name", "flux-like").put("predictionType", "flow_velocity");
        return d;
    }

    static ConfigValues baseline(SolverSpec spec) {
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        return ConfigValues.ofBaseline(Candidate.of(spec, sp), 8,
                sp.times(FLOW, FLOW.defaultTStart(), FLOW.defaultTEnd(), 8));
    }

    static Map<String, JsonNode> unzip(byte[] zip) throws IOException {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                out.put(e.getName(), JSON.readTree(in.readAllBytes()));
            }
        }
        return out;
    }

    @Test
    void eulerOfAVelocityModelIsFlowMatchEulerWithTheShiftAlreadyInTheSigmas() throws IOException {
        ConfigValues v = baseline(new SolverSpec.EdmEuler());
        Map<String, JsonNode> f = unzip(ConfigExports.diffusersFlow(document(), v, FLOW, "flow_prediction"));
        JsonNode sc = f.get("scheduler/scheduler_config.json");
        assertEquals("FlowMatchEulerDiscreteScheduler", sc.get("_class_name").asText());
        assertEquals(1.0, sc.get("shift").asDouble(), "the exported sigmas are shifted already");
        assertFalse(sc.get("use_dynamic_shifting").asBoolean());
        JsonNode s = f.get("schedule.json");
        double[] t = v.times();
        assertEquals(t.length, s.get("sigmas").size());
        // time_uniform on a shifted flow: sigma_i = warp(u_i), the SD3 shift formula
        double u1 = FLOW.unwarpUniformTime(t[1]);
        assertEquals(t[1], 3.0 * u1 / (1 + 2.0 * u1), 1e-15);
        assertEquals(t[1], s.get("sigmas").get(1).asDouble(), 0.0);
        assertEquals(4.5, f.get("guider_config.json").get("guidance_scale").asDouble());
    }

    @Test
    void ddimOfANoiseModelIsFirstOrderDpmSolverWithFlowSigmas() throws IOException {
        JsonNode sc = unzip(ConfigExports.diffusersFlow(document(), baseline(new SolverSpec.Ddim()), FLOW, "epsilon"))
                .get("scheduler/scheduler_config.json");
        assertEquals("DPMSolverMultistepScheduler", sc.get("_class_name").asText());
        assertEquals(1, sc.get("solver_order").asInt());
        assertTrue(sc.get("use_flow_sigmas").asBoolean());
        assertEquals(3.0, sc.get("flow_shift").asDouble());
        assertEquals("epsilon", sc.get("prediction_type").asText());
    }

    @Test
    void uniPcKeepsItsVariantAndSinglestepIsRefusedNamingTheSolver() throws IOException {
        JsonNode sc = unzip(ConfigExports.diffusersFlow(document(), baseline(new SolverSpec.UniPc(PredictionType.DATA,
                SolverSpec.Variant.BH1, 3)), FLOW, "flow_prediction")).get("scheduler/scheduler_config.json");
        assertEquals("UniPCMultistepScheduler", sc.get("_class_name").asText());
        assertEquals("bh1", sc.get("solver_type").asText());
        assertTrue(sc.get("predict_x0").asBoolean());
        ConfigValues heun = baseline(new SolverSpec.EdmHeun());
        ConfigExports.NotApplicable e = assertThrows(ConfigExports.NotApplicable.class,
                () -> ConfigExports.diffusersFlow(document(), heun, FLOW, "flow_prediction"));
        assertTrue(e.getMessage().contains("flow schedule"), e.getMessage());
    }
}
