package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.CoefficientSet;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.job.ResolvedModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipOutputStream;

/**
 * Export formats of a published config, each a pure function of the config's document and its model's spec (both
 * immutable), so an export's bytes never change and carry their own sha256 ETag.
 */
public final class ConfigExports {

    /** The export formats. */
    public enum Format {
        /** The native document. */
        JSON("json", "application/json", "json"),
        /** A zip: scheduler/scheduler_config.json, schedule.json, guider_config.json, coefficients.json. */
        DIFFUSERS("diffusers", "application/zip", "zip"),
        /** JSON: the sigma list (trailing 0) with its sigma space. */
        K_DIFFUSION("k-diffusion", "application/json", "json"),
        /** JSON: a ManualSigmas string and the sigma list. */
        COMFYUI("comfyui", "application/json", "json"),
        /** A zip in the official DPM-Solver-v3 layout: l.npz, sb.npz (+ ems.json). */
        DPMSOLVER_V3("dpmsolver-v3", "application/zip", "zip"),
        /** The JSON list of per-step ratios DC-Solver's official sampler loads ({@code dc_ratios/*.json}). */
        DC_RATIOS("dc-ratios", "application/json", "json"),
        /** DC-Solver cascade-polynomial coefficients as the official {@code .npy} (36 float64 values). */
        DC_CPR("dc-cpr", "application/octet-stream", "npy");

        private final String id;
        private final String mediaType;
        private final String extension;

        Format(String id, String mediaType, String extension) {
            this.id = id;
            this.mediaType = mediaType;
            this.extension = extension;
        }

        public String id() {
            return id;
        }

        public String mediaType() {
            return mediaType;
        }

        public String extension() {
            return extension;
        }

        /** The known format ids. */
        public static List<String> ids() {
            return Arrays.stream(values()).map(Format::id).toList();
        }

        /** The format called {@code id}, or null. */
        public static Format of(String id) {
            for (Format f : values()) {
                if (f.id.equalsIgnoreCase(id == null ? "" : id.strip())) {
                    return f;
                }
            }
            return null;
        }
    }

    /** An export: bytes, media type and file name. */
    public record Export(byte[] body, String mediaType, String fileName) {
    }

    /** The format does not apply to this config (409). */
    public static final class NotApplicable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NotApplicable(String message) {
            super(message);
        }
    }

    private ConfigExports() {
    }

    /**
     * Exports a config.
     *
     * @param document  the config's canonical document (as served)
     * @param modelSpec the model's stored spec ({@code models.spec})
     */
    public static Export export(Format format, JsonNode parsedDocument, JsonNode modelSpec, byte[] documentBytes) {
        ObjectNode document = parsedDocument.deepCopy();
        document.put("_sha256", CanonicalJson.sha256(documentBytes)); // the config's ETag, quoted by every header
        long id = document.path("id").asLong();
        ConfigValues values = ConfigValues.parse(document.get("values"));
        String base = "config-" + id + "-v" + document.path("version").asInt();
        return switch (format) {
            case JSON -> new Export(documentBytes, format.mediaType(), base + ".json");
            case K_DIFFUSION -> json(kDiffusion(document, values, schedule(modelSpec)), format, base + "-k-diffusion");
            case COMFYUI -> json(comfyUi(document, values, schedule(modelSpec)), format, base + "-comfyui");
            case DIFFUSERS -> new Export(diffusers(document, values, modelSpec), format.mediaType(),
                    base + "-diffusers.zip");
            case DPMSOLVER_V3 -> new Export(dpmSolverV3(values), format.mediaType(), base + "-dpmsolver-v3.zip");
            case DC_RATIOS -> json(dcRatios(values), format, base + "-dc-ratios");
            case DC_CPR -> new Export(dcCpr(values), format.mediaType(), base + "-cpr.npy");
        };
    }

    // ---- sigma conventions -------------------------------------------------------------------------------------------

    /** The model's noise schedule. */
    static NoiseSchedule schedule(JsonNode modelSpec) {
        return ResolvedModel.specOf(modelSpec).schedule().build();
    }

    /** Which sigma a list holds, in words (every sigma export states it). */
    static String sigmaSpace(NoiseSchedule s) {
        if (s instanceof RectifiedFlowSchedule f) {
            return "flow: sigma = t in [0, 1] (x_t = (1 - t) x0 + t eps), shift " + f.shift() + " already applied";
        }
        if (s instanceof EdmSchedule) {
            return "edm: sigma = t (x_t = x0 + sigma eps)";
        }
        return "vp: sigma = sqrt((1 - alphas_cumprod) / alphas_cumprod) = sigma_t / alpha_t = exp(-lambda_t) "
                + "(k-diffusion / ComfyUI / diffusers Euler convention for VP models)";
    }

    /** The sigma of continuous time {@code t}. */
    public static double sigmaOf(NoiseSchedule s, double t) {
        if (s instanceof RectifiedFlowSchedule) {
            return t;
        }
        return Math.exp(-s.lambda(t));
    }

    /** The continuous time of {@code sigma > 0} (inverse of {@link #sigmaOf}). */
    public static double timeOf(NoiseSchedule s, double sigma) {
        if (s instanceof RectifiedFlowSchedule) {
            return sigma;
        }
        return s.inverseLambda(-Math.log(sigma));
    }

    private static double[] sigmasWithZero(NoiseSchedule s, double[] times) {
        double[] out = new double[times.length + 1];
        for (int i = 0; i < times.length; i++) {
            out[i] = sigmaOf(s, times[i]);
        }
        return out; // last entry stays 0
    }

    private static final String TERMINAL = "the config's steps + 1 noise levels followed by a terminal 0 (N + 1 "
            + "entries for N = steps + 1 sampler steps): the step to 0 returns the denoised prediction, which costs "
            + "k-diffusion / ComfyUI samplers one extra model call unless the config already ends with "
            + "denoise-to-zero";

    private static ObjectNode header(JsonNode document, String format) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format", format);
        o.put("configId", document.path("id").asLong());
        o.put("configSha256", document.path("_sha256").asText());
        o.put("model", document.path("model").path("name").asText());
        o.put("method", document.path("method").asText());
        o.put("solver", document.path("solver").asText());
        o.set("solverOptions", document.path("solverOptions"));
        o.put("nfe", document.path("nfe").asInt());
        o.put("guidance", document.path("guidance").asDouble());
        return o;
    }

    static ObjectNode kDiffusion(JsonNode document, ConfigValues values, NoiseSchedule s) {
        ObjectNode o = header(document, "k-diffusion");
        double[] sigmas = sigmasWithZero(s, values.times());
        o.put("sigmaSpace", sigmaSpace(s));
        o.put("steps", sigmas.length - 1);
        o.put("terminal", TERMINAL);
        o.set("sigmas", doubles(sigmas));
        o.put("usage", "sigmas = torch.tensor(export['sigmas'], dtype=torch.float64); "
                + "k_diffusion.sampling.sample_<solver>(model, x * sigmas[0], sigmas)");
        return o;
    }

    static ObjectNode comfyUi(JsonNode document, ConfigValues values, NoiseSchedule s) {
        ObjectNode o = header(document, "comfyui");
        double[] sigmas = sigmasWithZero(s, values.times());
        o.put("sigmaSpace", sigmaSpace(s));
        o.put("terminal", TERMINAL);
        o.put("node", "ManualSigmas");
        o.put("manualSigmas", Arrays.stream(sigmas).mapToObj(Double::toString).collect(Collectors.joining(", ")));
        o.set("sigmas", doubles(sigmas));
        return o;
    }

    // ---- diffusers ---------------------------------------------------------------------------------------------------

    static byte[] diffusers(JsonNode document, ConfigValues values, JsonNode modelSpec) {
        NoiseSchedule s = schedule(modelSpec);
        String prediction = diffusersPrediction(document.path("model").path("predictionType").asText());
        if (s instanceof RectifiedFlowSchedule flow) {
            return diffusersFlow(document, values, flow, prediction);
        }
        if (!(s instanceof VpDiscreteSchedule vp)) {
            throw new NotApplicable("format diffusers: needs a discrete VP schedule (betas) or a rectified-flow "
                    + "schedule; this model's schedule is " + s.spec().getClass().getSimpleName().toLowerCase(Locale.ROOT)
                    + " (diffusers' EDM schedulers precondition the raw network with sigma_data, which a registered "
                    + "denoiser does not have: use k-diffusion or comfyui)");
        }
        ObjectNode scheduler = schedulerConfig(values, vp, prediction);
        scheduler.put("_solvertune_config_id", document.path("id").asLong());

        double[] times = values.times();
        int steps = times.length - 1;
        ObjectNode schedule = header(document, "diffusers-schedule");
        schedule.put("steps", steps);
        schedule.set("times", doubles(times));
        schedule.put("timesConvention", "continuous DPM-Solver time t in (0, 1]; the network's timestep is "
                + "t * N' - 1 with N' = " + vp.gridSize() + " kept training steps");
        double[] ts = new double[steps + 1];
        long[] rounded = new long[steps];
        boolean exact = true;
        for (int i = 0; i <= steps; i++) {
            ts[i] = vp.modelInputTime(times[i]);
            if (i < steps) {
                rounded[i] = Math.round(ts[i]);
                exact &= Math.abs(rounded[i] - ts[i]) < 1e-9;
            }
        }
        schedule.set("timesteps", doubles(ts));
        ArrayNode ints = schedule.putArray("timestepsInt");
        Arrays.stream(rounded).forEach(ints::add);
        schedule.put("timestepsIntExact", exact);
        schedule.put("timestepsConvention", "timesteps: the steps + 1 network timesteps (float, exact; the last is "
                + "the end point). timestepsInt: the first steps entries rounded, for pipe(timesteps=...) with "
                + "final_sigmas_type='sigma_min'" + (exact ? "" : "; rounding moves them off the fitted grid, so "
                + "coefficients fitted on these times hold only approximately"));
        schedule.set("sigmas", doubles(Arrays.stream(times).map(t -> sigmaOf(vp, t)).toArray()));
        schedule.put("sigmaSpace", sigmaSpace(vp));
        schedule.put("sigmasConvention", "steps + 1 entries ending at the config's end noise level (no terminal "
                + "0); EulerDiscreteScheduler(sigmas=...) expects steps + 1 entries including its terminal: pass "
                + "sigmas[:-1] + [0.0] to end at zero, or these to reproduce the grid");
        schedule.put("shiftApplied", false);

        return diffusersZip(document, values, scheduler, schedule);
    }

    private static byte[] diffusersZip(JsonNode document, ConfigValues values, ObjectNode scheduler,
                                       ObjectNode schedule) {
        ObjectNode guider = JsonNodeFactory.instance.objectNode();
        guider.put("_class_name", "ClassifierFreeGuidance");
        guider.put("guidance_scale", document.path("guidance").asDouble());
        guider.put("guidance_rescale", 0.0);
        guider.put("use_original_formulation", false);
        guider.put("start", 0.0);
        guider.put("stop", 1.0);

        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("scheduler/scheduler_config.json", pretty(scheduler));
        files.put("schedule.json", pretty(schedule));
        files.put("guider_config.json", pretty(guider));
        JsonNode coefficients = coefficients(document, values);
        if (coefficients != null) {
            files.put("coefficients.json", pretty(coefficients));
        }
        return zip(files);
    }

    /**
     * diffusers for a rectified-flow model (SD3 / Flux convention: {@code x_t = (1 - sigma) x0 + sigma eps}, the
     * network receives {@code 1000 sigma}). Euler / DDIM bases of a velocity model map to
     * {@code FlowMatchEulerDiscreteScheduler} (a DDIM step on a flow is exactly an Euler step); every other supported
     * base, and Euler / DDIM of a model predicting noise or data, to {@code DPMSolverMultistepScheduler} or
     * {@code UniPCMultistepScheduler} with {@code use_flow_sigmas} (order 1 DPM-Solver++ for Euler / DDIM). The exact
     * grid is in schedule.json with the shift already applied, so the scheduler is configured with
     * {@code shift = 1} where it takes custom sigmas.
     */
    static byte[] diffusersFlow(JsonNode document, ConfigValues values, RectifiedFlowSchedule flow,
                                String prediction) {
        SolverSpec base = values.baseSolver();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        boolean firstOrder = base instanceof SolverSpec.Ddim || base instanceof SolverSpec.EdmEuler;
        boolean flowMatchEuler = firstOrder && "flow_prediction".equals(prediction);
        boolean lowerOrderFinal = !(values instanceof ConfigValues.Baseline b) || b.candidate().lowerOrderFinal();
        if (flowMatchEuler) {
            o.put("_class_name", "FlowMatchEulerDiscreteScheduler");
            o.put("num_train_timesteps", 1000);
            o.put("shift", 1.0);
            o.put("use_dynamic_shifting", false);
            o.put("invert_sigmas", false);
        } else {
            if (values instanceof ConfigValues.DpmSolverV3 v) {
                lowerOrderFinal = v.lowerOrderFinal();
            }
            boolean singlestep = base instanceof SolverSpec.DpmSolver d && d.method() != SolverSpec.Method.MULTISTEP;
            if (firstOrder) {
                o.put("_class_name", "DPMSolverMultistepScheduler");
                o.put("algorithm_type", "dpmsolver++");
                o.put("solver_order", 1);
                o.put("solver_type", "midpoint");
            } else if (singlestep || !dpmSolverOrUniPc(o, values, base)) {
                throw new NotApplicable("format diffusers: no stock diffusers scheduler runs "
                        + (base == null ? "this solver" : base.label()) + " on a flow schedule (use k-diffusion "
                        + "or comfyui)");
            }
            o.put("num_train_timesteps", 1000);
            o.put("use_flow_sigmas", true);
            o.put("flow_shift", flow.shift());
            o.put("prediction_type", prediction);
            o.put("lower_order_final", lowerOrderFinal);
            o.put("final_sigmas_type", "zero");
            o.put("timestep_spacing", "linspace");
        }
        o.put("_solvertune_config_id", document.path("id").asLong());

        double[] times = values.times();
        int steps = times.length - 1;
        ObjectNode schedule = header(document, "diffusers-schedule");
        schedule.put("steps", steps);
        schedule.set("times", doubles(times));
        schedule.set("sigmas", doubles(times));
        schedule.put("sigmaSpace", sigmaSpace(flow));
        schedule.put("shiftApplied", true);
        schedule.set("timesteps", doubles(Arrays.stream(times).map(t -> 1000.0 * t).toArray()));
        schedule.put("timestepsConvention", "timesteps = 1000 sigma, what SD3 / Flux transformers receive");
        schedule.put("sigmasConvention", "steps + 1 entries ending at the config's end noise level; "
                + (flowMatchEuler ? "pass sigmas[:-1] as pipe(sigmas=...): FlowMatchEulerDiscreteScheduler appends "
                + "the terminal 0 itself (shift = 1 in scheduler_config.json, since these are already shifted)"
                : "this scheduler computes its own flow grid (flow_shift, linspace) in set_timesteps; to run this "
                + "config's grid set scheduler.sigmas = sigmas[:-1] + [0] and scheduler.timesteps = timesteps[:-1] "
                + "after set_timesteps(" + steps + ")"));
        return diffusersZip(document, values, o, schedule);
    }

    private static JsonNode coefficients(JsonNode document, ConfigValues values) {
        if (values instanceof ConfigValues.Coefficients c) {
            ObjectNode o = header(document, "coefficients");
            o.put("note", "per-step coefficients of " + c.set().method() + " on top of the stock scheduler's base "
                    + "solver; a stock diffusers scheduler ignores them (see the method's reference sampler)");
            o.set("coefficientSet", Json.MAPPER.valueToTree(c.set()));
            if (c.cpr() != null) {
                o.set("cpr", doubles(c.cpr().coefficients()));
            }
            return o;
        }
        if (values instanceof ConfigValues.DpmSolverV3 v) {
            ObjectNode o = header(document, "coefficients");
            o.put("note", "DPM-Solver-v3 is not in diffusers: the stock DPMSolverMultistepScheduler runs the same grid "
                    + "without the statistics; the statistics (l.npz, sb.npz) come with the dpmsolver-v3 export");
            o.set("emsMetadata", Json.MAPPER.valueToTree(v.ems().metadata()));
            return o;
        }
        return null;
    }

    static String diffusersPrediction(String ours) {
        PredictionType p = PredictionType.parse(ours);
        return switch (p) {
            case NOISE -> "epsilon";
            case DATA -> "sample";
            case V -> "v_prediction";
            case FLOW_VELOCITY -> "flow_prediction";
            case SCORE -> throw new NotApplicable("format diffusers: diffusers schedulers have no score prediction type");
        };
    }

    /**
     * The scheduler entries of a DPM-Solver-v3 config (the stock multistep DPM-Solver++ on its grid), a DPM-Solver(++)
     * base (multi- or singlestep) or a UniPC base; false for any other base.
     */
    private static boolean dpmSolverOrUniPc(ObjectNode o, ConfigValues values, SolverSpec base) {
        if (values instanceof ConfigValues.DpmSolverV3 v) {
            o.put("_class_name", "DPMSolverMultistepScheduler");
            o.put("algorithm_type", "dpmsolver++");
            o.put("solver_order", v.spec().order());
            o.put("solver_type", "midpoint");
        } else if (base instanceof SolverSpec.DpmSolver d) {
            o.put("_class_name", d.method() == SolverSpec.Method.MULTISTEP ? "DPMSolverMultistepScheduler"
                    : "DPMSolverSinglestepScheduler");
            o.put("algorithm_type", d.prediction() == PredictionType.DATA ? "dpmsolver++" : "dpmsolver");
            o.put("solver_order", d.order());
            o.put("solver_type", d.solverType() == SolverSpec.SolverType.TAYLOR ? "heun" : "midpoint");
        } else if (base instanceof SolverSpec.UniPc u) {
            o.put("_class_name", "UniPCMultistepScheduler");
            o.put("solver_order", u.order());
            o.put("solver_type", u.variant().name().toLowerCase(Locale.ROOT));
            o.put("predict_x0", u.prediction() == PredictionType.DATA);
        } else {
            return false;
        }
        return true;
    }

    static ObjectNode schedulerConfig(ConfigValues values, VpDiscreteSchedule vp, String prediction) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        SolverSpec base = values.baseSolver();
        boolean lowerOrderFinal = !(values instanceof ConfigValues.Baseline b) || b.candidate().lowerOrderFinal();
        if (values instanceof ConfigValues.DpmSolverV3 v) {
            lowerOrderFinal = v.lowerOrderFinal();
        }
        if (base instanceof SolverSpec.Ddim) {
            o.put("_class_name", "DDIMScheduler");
            o.put("set_alpha_to_one", false);
            o.put("clip_sample", false);
        } else if (base instanceof SolverSpec.EdmEuler) {
            o.put("_class_name", "EulerDiscreteScheduler");
            o.put("interpolation_type", "linear");
        } else if (base instanceof SolverSpec.EdmHeun) {
            o.put("_class_name", "HeunDiscreteScheduler");
        } else if (!dpmSolverOrUniPc(o, values, base)) {
            throw new NotApplicable("format diffusers: no stock diffusers scheduler runs "
                    + (base == null ? "this solver" : base.label()));
        }
        if (o.has("solver_order") && !"DDIMScheduler".equals(o.get("_class_name").asText())) {
            o.put("lower_order_final", lowerOrderFinal);
            o.put("final_sigmas_type", "sigma_min");
        }
        o.put("num_train_timesteps", vp.trainSteps());
        ScheduleSpec.VpDiscrete spec = (ScheduleSpec.VpDiscrete) vp.spec();
        if (spec.preset() != null) {
            BetaSchedule b = BetaSchedule.fromId(spec.preset());
            o.put("beta_schedule", b.id());
            o.put("beta_start", spec.betaStart() != null ? spec.betaStart() : b.defaultBetaStart());
            o.put("beta_end", spec.betaEnd() != null ? spec.betaEnd() : b.defaultBetaEnd());
            if (b == BetaSchedule.SQUAREDCOS_CAP_V2) {
                o.remove("beta_start");
                o.remove("beta_end");
            }
            o.putNull("trained_betas");
        } else {
            double[] betas = spec.betas();
            if (betas == null) {
                double[] ac = spec.alphasCumprod();
                betas = new double[ac.length];
                for (int i = 0; i < ac.length; i++) {
                    betas[i] = 1.0 - ac[i] / (i == 0 ? 1.0 : ac[i - 1]);
                }
            }
            o.put("beta_schedule", "linear");
            o.set("trained_betas", doubles(betas));
        }
        o.put("prediction_type", prediction);
        o.put("timestep_spacing", "linspace");
        o.put("steps_offset", 0);
        return o;
    }

    // ---- DPM-Solver-v3 and DC-Solver -----------------------------------------------------------------------------------

    static byte[] dpmSolverV3(ConfigValues values) {
        if (!(values instanceof ConfigValues.DpmSolverV3 v)) {
            throw new NotApplicable("format dpmsolver-v3: only DPM-Solver-v3 configs carry statistics (l.npz, sb.npz); "
                    + "this config is " + values.type());
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("solvertune-ems");
            EmsNpz.write(dir, v.ems());
            Map<String, byte[]> files = new LinkedHashMap<>();
            for (String f : List.of(EmsNpz.L_FILE, EmsNpz.SB_FILE, EmsNpz.METADATA_FILE)) {
                files.put(f, Files.readAllBytes(dir.resolve(f)));
            }
            return zip(files);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (dir != null) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // a temp directory left behind is harmless
                }
            }
        }
    }

    private static ConfigValues.Coefficients dc(ConfigValues values, String format) {
        if (values instanceof ConfigValues.Coefficients c && c.set().method() == CoefficientSet.Method.DC) {
            return c;
        }
        throw new NotApplicable("format " + format + ": only DC-Solver configs have ratios; this config is "
                + (values instanceof ConfigValues.Coefficients c ? c.set().method() : values.type()));
    }

    static ArrayNode dcRatios(ConfigValues values) {
        ConfigValues.Coefficients c = dc(values, "dc-ratios");
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (double[] row : c.set().values()) {
            a.add(row.length == 0 ? 1.0 : row[0]);
        }
        return a;
    }

    static byte[] dcCpr(ConfigValues values) {
        ConfigValues.Coefficients c = dc(values, "dc-cpr");
        if (c.cpr() == null) {
            throw new NotApplicable("format dc-cpr: this DC-Solver config was published without cascade polynomial "
                    + "regression coefficients (use dc-ratios)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npy.write(out, NpyArray.ofDoubles(c.cpr().coefficients(), 36));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    private static Export json(JsonNode node, Format f, String base) {
        return new Export(pretty(node), f.mediaType(), base + ".json");
    }

    private static byte[] pretty(JsonNode node) {
        try {
            return CanonicalJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] zip(Map<String, byte[]> files) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(buf, StandardCharsets.UTF_8)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                z.putNextEntry(Npy.entry(f.getKey()));
                z.write(f.getValue());
                z.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toByteArray();
    }

    private static ArrayNode doubles(double[] a) {
        ArrayNode n = JsonNodeFactory.instance.arrayNode(a.length);
        for (double d : a) {
            n.add(d);
        }
        return n;
    }
}
