package io.solvertune.service.configs;

import io.solvertune.tuning.publish.ConfigDocument;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.exports.ConfigExports;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.exports.ExportFormat;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;

/**
 * The bytes of each export format (plain JUnit on {@link ConfigExports}): what a consumer loads, and the stated
 * call that comes with it. Which formats reproduce which configs is tested against consumer emulations in
 * {@code io.solvertune.exports}.
 */
class ConfigExportsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SD_SPEC = "{\"schedule\": {\"type\": \"vp_discrete\", \"preset\": \"scaled_linear\", "
            + "\"numTrainTimesteps\": 1000}, \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.5, 0.5], "
            + "\"means\": [[-1, 0, 1, 2], [1, 0, -1, -2]], \"stds\": [0.3, 0.4]}, \"dtype\": \"float64\"}";
    static final String FLOW_SPEC = "{\"schedule\": {\"type\": \"rectified_flow\", \"shift\": 3.0}, \"model\": "
            + "{\"type\": \"gaussian_mixture\", \"weights\": [1.0], \"means\": [[0, 0]], \"stds\": [1.0]}}";
    static final VpDiscreteSchedule SD = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);

    static ObjectNode document(ConfigValues v, double guidance) {
        ObjectNode d = JSON.createObjectNode().put("id", 11).put("version", 2).put("guidance", guidance)
                .put("nfe", v.nfe()).put("method", "m").put("solver", "s");
        d.putObject("model").put("name", "gmm").put("predictionType", "noise");
        d.set("values", v.toJson());
        return d;
    }

    static ConfigExports.Export export(ExportFormat f, ConfigValues v, String spec) throws IOException {
        ObjectNode doc = document(v, 1.0);
        return ConfigExports.export(f, ConfigDocument.parse(doc), JSON.readTree(spec), CanonicalJson.write(doc)
                .getBytes(StandardCharsets.UTF_8));
    }

    static ConfigValues baseline(SolverSpec s, TimestepSpacing sp, int steps, NoiseSchedule ns) {
        SamplerConfig cfg = new SamplerConfig(s, sp, steps, null, null, true, false);
        return ConfigValues.ofBaseline(Candidate.of(s, sp), steps, EvaluationPlan.of(cfg, ns).grid());
    }

    static Map<String, byte[]> unzip(byte[] zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }

    static EmpiricalModelStatistics ems(int k, int d) {
        Random r = new Random(7);
        double[] l = new double[(k + 1) * d];
        double[] s = new double[l.length];
        double[] b = new double[l.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = 1 + 0.1 * r.nextGaussian();
            s[i] = 0.01 * r.nextGaussian();
            b[i] = 0.01 * r.nextGaussian();
        }
        return new EmpiricalModelStatistics(new EmsGrid(k, SD.defaultTStart(), SD.defaultTEnd()), new long[] {d}, l, s,
                b, SD.spec(), "test statistics");
    }

    /** numpy broadcasting of two shapes, or null where numpy raises. */
    static long[] broadcast(long[] a, long[] b) {
        int n = Math.max(a.length, b.length);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long x = i < n - a.length ? 1 : a[i - (n - a.length)];
            long y = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (x != y && x != 1 && y != 1) {
                return null;
            }
            out[i] = Math.max(x, y);
        }
        return out;
    }

    /**
     * DPM-Solver-v3 on a learned grid (interpolated statistics): the values carry the positions and the exact times
     * and round-trip to the same run; the json export keeps them; the official export refuses (its sampler snaps
     * every time to the statistics grid), as do the stock consumers (no DPM-Solver-v3).
     */
    @Test
    void dpmSolverV3OnALearnedGridRoundTripsAndTheOfficialExportRefuses() throws IOException {
        EmpiricalModelStatistics ems = ems(12, 4);
        DpmSolverV3 spec = new DpmSolverV3(ems, 2, false, true, true, false, false, null,
                DpmSolverV3.Positions.INTERPOLATED);
        double[] snapped = EvaluationPlan.of(new SamplerConfig(spec.withPositions(DpmSolverV3.Positions.SNAPPED),
                new TimestepSpacing.TimeUniform(), 5, ems.tStart(), ems.tEnd(), true, false), SD).grid();
        double[] learned = snapped.clone();
        learned[2] = 0.5 * (snapped[1] + snapped[2]);   // off the statistics grid
        TimestepSpacing sp = new TimestepSpacing.Explicit(learned);
        ConfigValues v = ConfigValues.ofDpmSolverV3(spec, sp, 5, true, false, learned);
        JsonNode json = v.toJson();
        assertEquals("interpolated", json.get("positions").asText());
        assertFalse(ConfigValues.ofDpmSolverV3(spec.withPositions(DpmSolverV3.Positions.SNAPPED),
                new TimestepSpacing.TimeUniform(), 5, true, false, snapped).toJson().has("positions"),
                "snapped values keep their old form");
        ConfigValues back = ConfigValues.parse(json);
        assertEquals(v.samplerConfig(), back.samplerConfig());
        assertArrayEquals(learned, EvaluationPlan.of(back.samplerConfig(), SD).grid(), 0.0, "the learned times");
        ObjectNode bad = json.deepCopy();
        bad.put("positions", "nearest");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> ConfigValues.parse(bad));
        assertTrue(ex.getMessage().startsWith("values.positions:"), ex.getMessage());

        JsonNode exported = JSON.readTree(export(ExportFormat.JSON, v, SD_SPEC).body());
        assertEquals("interpolated", exported.path("values").path("positions").asText(), exported.toString());
        ConfigExports.NotApplicable e = assertThrows(ConfigExports.NotApplicable.class,
                () -> export(ExportFormat.DPMSOLVER_V3, v, SD_SPEC));
        assertTrue(e.getMessage().contains("interpolated statistics") && e.getMessage().contains("snaps"),
                e.getMessage());
        for (ExportFormat f : List.of(ExportFormat.DIFFUSERS, ExportFormat.K_DIFFUSION, ExportFormat.COMFYUI)) {
            assertThrows(ConfigExports.NotApplicable.class, () -> export(f, v, SD_SPEC), f.id());
        }
    }

    /**
     * The official constructor broadcasts its lambda grid {@code ts[:, None, None, None]} ([K+1, 1, 1, 1]) against
     * the statistics (weighted_cumsumexp_trapezoid) and multiplies {@code l[index]} with samples; for those to be
     * elementwise the statistics must come out of the broadcast unchanged and {@code l[index]} must broadcast to
     * the samples' shape. The export writes [K+1, D, 1, 1] for a vector model and states samples [B, D, 1, 1].
     */
    @Test
    void dpmSolverV3StatisticsAreFourDimensionalAndTheCallStatesEveryArgument() throws IOException {
        EmpiricalModelStatistics ems = ems(12, 4);
        DpmSolverV3 spec = new DpmSolverV3(ems, 3, false, true, true, false, false, null);
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        SamplerConfig cfg = new SamplerConfig(spec, sp, 5, ems.tStart(), ems.tEnd(), false, false);
        double[] grid = EvaluationPlan.of(cfg, SD).grid();
        ConfigValues v = ConfigValues.ofDpmSolverV3(spec, sp, 5, false, false, grid);
        Map<String, byte[]> files = unzip(export(ExportFormat.DPMSOLVER_V3, v, SD_SPEC).body());
        assertEquals(List.of("l.npz", "sb.npz", "ems.json", "call.json"), List.copyOf(files.keySet()));
        NpyArray l = Npy.readNpz(write(files, "l.npz")).get("l");
        Map<String, NpyArray> sb = Npy.readNpz(write(files, "sb.npz"));
        long[] shape = {13, 4, 1, 1};
        for (NpyArray a : List.of(l, sb.get("s"), sb.get("b"))) {
            assertArrayEquals(shape, a.shape());
        }
        assertArrayEquals(ems.l(), l.asDoubles());
        assertArrayEquals(ems.s(), sb.get("s").asDoubles());
        assertArrayEquals(ems.b(), sb.get("b").asDoubles());
        assertArrayEquals(shape, broadcast(new long[] {13, 1, 1, 1}, l.shape()), "ts[:, None, None, None] * l");
        assertArrayEquals(new long[] {32, 4, 1, 1}, broadcast(new long[] {4, 1, 1}, new long[] {32, 4, 1, 1}),
                "l[i] * x with x of shape [B, D, 1, 1]");
        // the layout before: [K+1, D] statistics broadcast to [K+1, 1, K+1, D] — not elementwise (the official
        // constructor then fails; measured at dev time: AssertionError in DPM_Solver_v3.sample)
        assertFalse(Arrays.equals(new long[] {13, 4}, broadcast(new long[] {13, 1, 1, 1}, new long[] {13, 4})));

        JsonNode call = JSON.readTree(files.get("call.json"));
        JsonNode ctor = call.path("arguments").path("constructor");
        assertEquals(5, ctor.get("steps").asInt());
        assertEquals("time_uniform", ctor.get("skip_type").asText());
        assertEquals(ems.tStart(), ctor.get("t_start").asDouble());
        assertEquals(ems.tEnd(), ctor.get("t_end").asDouble());
        assertFalse(ctor.get("degenerated").asBoolean());
        JsonNode sample = call.path("arguments").path("sample");
        assertEquals(3, sample.get("order").asInt());
        assertTrue(sample.get("use_corrector").asBoolean());
        assertTrue(sample.get("c_pseudo").asBoolean());
        assertFalse(sample.get("p_pseudo").asBoolean());
        assertFalse(sample.get("lower_order_final").asBoolean());
        assertFalse(sample.get("half").asBoolean());
        // the stated skip type snaps to exactly the grid indexes our sampler ran
        double[] lambdas = ems.grid().lambdas(SD);
        JsonNode idx = call.path("arguments").path("indexes");
        for (int i = 0; i < grid.length; i++) {
            assertEquals(EmsGrid.snapIndex(lambdas, SD.lambda(grid[i])), idx.get(i).asInt());
        }
        assertTrue(call.get("code").asText().contains("x_T.reshape(-1, 4, 1, 1)"), call.get("code").asText());
    }

    private static java.nio.file.Path write(Map<String, byte[]> files, String name) throws IOException {
        java.nio.file.Path p = java.nio.file.Files.createTempFile("export", name);
        java.nio.file.Files.write(p, files.get(name));
        p.toFile().deleteOnExit();
        return p;
    }

    @Test
    void sigmaListExportsEndAtTheConfigsEndLevelAndStateTheCall() throws IOException {
        ConfigValues v = baseline(DpmSolver.plusPlusMultistep(2), new TimestepSpacing.LogSnr(), 6, SD);
        double[] times = v.times();
        JsonNode k = JSON.readTree(export(ExportFormat.K_DIFFUSION, v, SD_SPEC).body());
        JsonNode sig = k.get("sigmas");
        assertEquals(times.length, sig.size(), "no trailing 0: the run ends at the config's end time");
        assertEquals(Math.exp(-SD.lambda(times[times.length - 1])), sig.get(times.length - 1).asDouble(), 1e-15);
        assertTrue(k.get("usage").asText().contains("sampling.sample_dpmpp_2m("), k.get("usage").asText());
        assertTrue(k.get("usage").asText().contains("sampling.sample_euler("), "the lowered last step");
        assertEquals("sample_dpmpp_2m + sample_euler", k.path("call").get("entryPoint").asText());
        // ComfyUI: the same config evaluates the model between integer timesteps -> refused with the reason
        ConfigExports.NotApplicable e = assertThrows(ConfigExports.NotApplicable.class,
                () -> export(ExportFormat.COMFYUI, v, SD_SPEC));
        assertTrue(e.getMessage().contains("nearest"), e.getMessage());
        assertTrue(e.alternatives().containsAll(List.of("json", "diffusers", "k-diffusion")), e.alternatives()
                .toString());
    }

    @Test
    void comfyUiExportHoldsThePlainDecimalManualSigmasAndTheGraph() throws IOException {
        // an integer-timestep grid (999, 799, ..., 0), which ComfyUI evaluates exactly
        double[] t = new double[6];
        for (int i = 0; i < 6; i++) {
            t[i] = (999 - 200 * i + 1.0) / 1000;
        }
        t[5] = 1e-3;
        TimestepSpacing sp = new TimestepSpacing.Explicit(t);
        ConfigValues v = baseline(new Ddim(), sp, 5, SD);
        JsonNode c = JSON.readTree(export(ExportFormat.COMFYUI, v, SD_SPEC).body());
        String manual = c.get("manualSigmas").asText();
        assertFalse(manual.contains("E"), manual);
        assertEquals(6, manual.split(",").length);
        JsonNode prompt = c.get("prompt");
        assertEquals("ManualSigmas", prompt.get("1").get("class_type").asText());
        assertEquals("euler", prompt.get("2").path("inputs").get("sampler_name").asText());
        assertEquals("SamplerCustom", prompt.get("3").get("class_type").asText());
        assertTrue(prompt.get("3").path("inputs").get("add_noise").asBoolean());
    }

    @Test
    void diffusersZipHoldsTheSchedulerTheScheduleAndTheCall() throws IOException {
        SolverSpec s = new DpmSolver(PredictionType.DATA, DpmSolver.Method.SINGLESTEP, 2,
                DpmSolver.SolverType.DPMSOLVER);
        ConfigValues v = baseline(s, new TimestepSpacing.TimeUniform(), 6, SD);
        Map<String, byte[]> files = unzip(export(ExportFormat.DIFFUSERS, v, SD_SPEC).body());
        assertEquals(List.of("scheduler/scheduler_config.json", "schedule.json", "call.json", "guider_config.json"),
                List.copyOf(files.keySet()));
        JsonNode sc = JSON.readTree(files.get("scheduler/scheduler_config.json"));
        assertEquals("DPMSolverSinglestepScheduler", sc.get("_class_name").asText());
        assertFalse(sc.get("lower_order_final").asBoolean());
        assertEquals("sigma_min", sc.get("final_sigmas_type").asText());
        assertEquals("scaled_linear", sc.get("beta_schedule").asText());
        assertFalse(sc.has("steps_offset"), "not a DPMSolverSinglestepScheduler argument");
        JsonNode sched = JSON.readTree(files.get("schedule.json"));
        assertEquals("assign", sched.get("mode").asText());
        assertEquals(6, sched.get("timesteps").size(), "3 outer and 3 inner points");
        assertEquals(7, sched.get("sigmas").size());
        assertTrue(sched.get("usage").asText().contains("scheduler.sigmas = torch.tensor("));
    }

    @Test
    void coefficientConfigsAnswerNotApplicableNamingTheFormatsThatWork() throws IOException {
        double[] times = new TimestepSpacing.LogSnr().times(SD, SD.defaultTStart(), SD.defaultTEnd(), 6);
        double[][] values = new double[6][];
        for (int i = 0; i < 6; i++) {
            values[i] = new double[] {i < 2 ? 1.0 : 1.1};
        }
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC,
                new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3), new TimestepSpacing.LogSnr(), 6,
                6, times, List.of("ratio"), values, null, null, null);
        ConfigValues v = ConfigValues.of(set);
        ConfigExports.NotApplicable e = assertThrows(ConfigExports.NotApplicable.class,
                () -> export(ExportFormat.DIFFUSERS, v, SD_SPEC));
        assertTrue(e.getMessage().startsWith("format diffusers: dc coefficients change every step"), e.getMessage());
        assertEquals(List.of("json", "dc-ratios"), e.alternatives());
        JsonNode ratios = JSON.readTree(export(ExportFormat.DC_RATIOS, v, SD_SPEC).body());
        assertTrue(ratios.isArray(), "the list DCSolver.sample takes");
        for (int i = 0; i < 6; i++) {
            assertEquals(values[i][0], ratios.get(i).asDouble());
        }
        assertThrows(ConfigExports.NotApplicable.class, () -> export(ExportFormat.DC_CPR, v, SD_SPEC));
    }

    @Test
    void flowsExportToDiffusersAsTheFirstOrderDpmSolverOnTheExactFlowSigmas() throws IOException {
        RectifiedFlowSchedule flow = new RectifiedFlowSchedule(3.0);
        SolverSpec euler = new EdmEuler();
        SamplerConfig cfg = new SamplerConfig(euler, new TimestepSpacing.TimeUniform(), 8, 0.999, null, true, false);
        double[] grid = EvaluationPlan.of(cfg, flow).grid();
        ConfigValues v = ConfigValues.ofBaseline(new Candidate(null, euler, new TimestepSpacing.TimeUniform(), true,
                false, 0.999, null), 8, grid);
        Map<String, byte[]> files = unzip(export(ExportFormat.DIFFUSERS, v, FLOW_SPEC).body());
        JsonNode sc = JSON.readTree(files.get("scheduler/scheduler_config.json"));
        assertEquals("DPMSolverMultistepScheduler", sc.get("_class_name").asText());
        assertEquals(1, sc.get("solver_order").asInt());
        assertTrue(sc.get("use_flow_sigmas").asBoolean());
        JsonNode sched = JSON.readTree(files.get("schedule.json"));
        for (int i = 0; i < grid.length; i++) {
            assertEquals(grid[i], sched.get("sigmas").get(i).asDouble(), 0.0, "flow sigma = t, ending at tEnd");
        }
        for (int i = 0; i < grid.length - 1; i++) {
            assertEquals(1000 * grid[i], sched.get("timesteps").get(i).asDouble(), 1e-12);
        }
    }
}
