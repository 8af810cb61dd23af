package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The CLI's plans of the pipeline's stages, and that the parameter fields they add stay out of a job's stages (whose
 * JSON is the basis of their checkpoint keys); the method ids.
 */
class CommandPlansTest {

    private static Set<String> fields(JsonNode n) {
        Set<String> out = new HashSet<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void aJobsStageParametersAreUnchanged() throws Exception {
        JsonNode spec = TuningJobSpecTest.json("{'model': 'gmm-sd-d32', 'methods': ['dpmsolver-v3', 'dc'],"
                + " 'nfe': [5], 'guidance': [7.5], 'seeds': {'train': 64, 'heldOut': 32, 'shardSize': 32}}");
        for (PlannedStage s : new TuningJobPlanner().plan(spec)) {
            JsonNode p = s.params();
            switch (s.stageKind()) {
                case TEACHER -> assertEquals(Set.of("guidance", "split", "firstSeed", "count", "shardSize", "steps",
                        "recordEvery", "tolerance", "checkSeeds"), fields(p), s.name());
                case TEACHER_MERGE -> assertFalse(p.get("teacher").has("solve"), s.name());
                case BASELINE -> assertEquals(Set.of("guidance", "train", "heldOut", "selectFrom", "selectTo", "nfe",
                        "spacings", "batch"), fields(p), s.name());
                case FIT -> {
                    assertEquals(Set.of("eval", "method", "fitRows", "baseline"), fields(p), s.name());
                    assertEquals("dc", p.get("method").asText());
                    assertFalse(p.get("eval").has("known"));
                }
                case FIT_EMS -> assertFalse(p.has("options"), s.name());
                default -> { }
            }
        }
    }

    @Test
    void fitPlansOneBaselinePerNfeAndOneFitPerMethodAndNfe() {
        Map<Integer, CommandPlans.KnownBaseline> known = Map.of(6, new CommandPlans.KnownBaseline(6,
                BaselineSweep.untunedCandidates().get(0), 0.25, 40));
        CommandPlans.Fit f = new CommandPlans.Fit(3, null, 0, 16, 16, 48, List.of(5, 6),
                List.of(MethodId.DODE, MethodId.DC), TunedMethods.GainTest.PAIRED_MEAN, new MethodCatalog.DcOptions(0.2,
                2.5), 32, known);
        List<PlannedStage> plan = CommandPlans.fit(f);
        List<String> names = new ArrayList<>();
        plan.forEach(s -> names.add(s.name()));
        assertEquals(List.of("baseline-nfe5", "baseline-nfe6", "fit-dode-nfe5", "fit-dode-nfe6", "fit-dc-nfe5",
                "fit-dc-nfe6"), names);
        assertEquals(List.of(CommandPlans.TRAIN, CommandPlans.HELD_OUT), plan.get(0).dependsOn());
        assertFalse(plan.get(0).params().has("known"));
        assertEquals(0.25, plan.get(1).params().get("known").get(0).get("heldOutMse").asDouble());
        assertEquals(List.of(CommandPlans.TRAIN, CommandPlans.HELD_OUT, "baseline-nfe6"), plan.get(3).dependsOn());
        // defaults are left out (fit rows from 0, the paired-mean gain test); DC bounds only where they apply
        JsonNode dode = plan.get(3).params();
        assertEquals(Set.of("eval", "method", "fitRows", "baseline"), fields(dode));
        assertEquals(List.of(6), Json.MAPPER.convertValue(dode.get("eval").get("nfe"), List.class));
        assertFalse(dode.get("eval").has("known"));
        JsonNode dc = plan.get(5).params();
        assertEquals(2.5, dc.get("dcBounds").get("upper").asDouble());
        StageParams.Fit read = StageParams.read(dc, StageParams.Fit.class);
        assertEquals(MethodId.DC, read.method());
        assertNull(read.fitFrom());

        CommandPlans.Fit shifted = new CommandPlans.Fit(3, 1, 8, 16, 32, 48, List.of(5), List.of(MethodId.DC),
                TunedMethods.GainTest.PAIRED_MEAN_OR_TYPICAL_SEED, MethodCatalog.DcOptions.DEFAULT, 32, null);
        StageParams.Fit p = StageParams.read(CommandPlans.fit(shifted).get(1).params(), StageParams.Fit.class);
        assertEquals(8, p.fitFrom());
        assertEquals(TunedMethods.GainTest.PAIRED_MEAN_OR_TYPICAL_SEED, p.gainTest());
        assertNull(p.dcBounds());
        assertEquals(1, p.eval().classLabel());
    }

    @Test
    void teacherPlanChecksItsSettingsAndKeepsThePipelinesSolveOut() {
        List<PlannedStage> pipeline = CommandPlans.teacher("train", 3, null, 0, 48, 24, 200, 4, 1e-4, 16, null,
                Dtype.FLOAT64, null, null, null, null, false);
        assertEquals(1, pipeline.size());
        assertEquals(StageKind.TEACHER, pipeline.get(0).stageKind());
        assertFalse(pipeline.get(0).params().has("solve"));
        JsonNode ddim = CommandPlans.teacher("train", 3, null, 0, 48, 24, 200, 4, 1e-4, 16, null, Dtype.FLOAT64,
                new Ddim(), new TimestepSpacing.TimeUniform(), 1.0, 0.01, true).get(0).params();
        StageParams.Teacher t = StageParams.read(ddim, StageParams.Teacher.class);
        assertEquals(Json.canonical(new Ddim()), Json.canonical(t.settings(Dtype.FLOAT64).solver()));
        assertTrue(t.settings(Dtype.FLOAT64).recordModelOutput());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CommandPlans.teacher("t", 3,
                null, 0, 4, 4, 0, 1, 1e-4, 0, null, Dtype.FLOAT64, null, null, null, null, false));
        assertTrue(e.getMessage().startsWith("teacher.steps: must be >= 1"), e.getMessage());
    }

    @Test
    void conditioningTheStagesCanExpress() {
        assertNull(CommandPlans.classLabel(Guidance.perSeed(3), 2));
        assertEquals(1, CommandPlans.classLabel(new Guidance(1, 3), 2));
        assertNull(CommandPlans.classLabel(new Guidance(null, 1), 0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CommandPlans.classLabel(new Guidance(null, 3), 2))
                .getMessage().contains("--per-seed-class"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CommandPlans.classLabel(Guidance.perSeed(3), 0))
                .getMessage().contains("no classes"));
    }

    @Test
    void methodIdsAreTheWireForm() throws Exception {
        Set<String> ids = new HashSet<>();
        for (MethodId m : MethodId.values()) {
            assertTrue(ids.add(m.id()), "duplicate id " + m.id());
            assertEquals(m, MethodId.parse(m.id()));
            assertEquals("\"" + m.id() + "\"", Json.MAPPER.writeValueAsString(m));
            assertEquals(m, Json.MAPPER.readValue("\"" + m.id() + "\"", MethodId.class));
        }
        // every coefficient method has a fitter, and the catalog has nothing else
        assertEquals(MethodId.ofKind(MethodId.Kind.COEFFICIENTS), MethodCatalog.ids());
        assertEquals(List.of("iia-ddim", "iia-dpmsolver++2m", "iia-edm", "biia-edm", "iia-ddim-teacher",
                "iia-dpmsolver++2m-teacher", "iia-edm-teacher", "biia-edm-teacher", "dc", "dc-final", "dode",
                "dode-teacher"), MethodCatalog.names());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MethodId.parse("magic")).getMessage()
                .startsWith("unknown method 'magic' (known: dpmsolver-v3, iia-ddim,"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MethodCatalog.method(MethodId.DPMSOLVER_V3))
                .getMessage().contains("no coefficient method"));
    }
}
