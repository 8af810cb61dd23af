package io.solvertune.exports;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigDocument;
import io.solvertune.tuning.publish.ConfigValues;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipOutputStream;

/**
 * Export formats of a published config, each a pure function of the config's typed document ({@link ConfigDocument})
 * and its model's spec (both immutable), so an export's bytes never change and carry their own sha256 ETag; the
 * service serves them and the CLI writes them without the service. Whether a format reproduces the
 * config, and with which consumer call, is decided by {@link ExportRules} (framework-free); a format that would run
 * another solver than the validated one is refused with {@link NotApplicable} (409) naming the reason and the
 * formats that work, and every export states the consumer call that reproduces it.
 */
public final class ConfigExports {

    /** An export: bytes, media type and file name. */
    public record Export(byte[] body, String mediaType, String fileName) {
    }

    /** The format does not reproduce this config (409): the reason and the formats that do. */
    public static final class NotApplicable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final List<String> alternatives;

        public NotApplicable(String message) {
            this(message, List.of());
        }

        public NotApplicable(String message, List<String> alternatives) {
            super(message);
            this.alternatives = List.copyOf(alternatives);
        }

        /** The formats that reproduce the config. */
        public List<String> alternatives() {
            return alternatives;
        }
    }

    /** One row of a config's export listing. */
    public record Listed(String format, boolean supported, String mediaType, String href, String consumer,
                         String entryPoint, String code, List<String> notes, Double modelTimeMaxDeviation,
                         String reason, List<String> alternatives) {
    }

    /** Every format of a config with its verdict. */
    public record Listing(long configId, List<Listed> formats) {
    }

    private ConfigExports() {
    }

    // ---- the decision ----------------------------------------------------------------------------------------------

    /** What the export rules need to know about a config (its document) and its model (the stored spec). */
    public static ExportSubject subject(ConfigDocument document, JsonNode modelSpec) {
        return subject(document, ResolvedModel.specOf(modelSpec));
    }

    /** What the export rules need to know about a config and its model. */
    public static ExportSubject subject(ConfigDocument document, ModelSpec spec) {
        ConfigValues values = document.values();
        NoiseSchedule schedule = spec.schedule().build();
        boolean network = spec.model() instanceof DenoiserSpec.TorchScript;
        PredictionType prediction = PredictionType.parse(document.model().predictionType());
        double guidance = document.guidance();
        if (values instanceof ConfigValues.Baseline b) {
            Candidate c = b.candidate();
            SamplerConfig run = new SamplerConfig(c.solver(), c.spacing(), b.steps(), c.tStart(), c.tEnd(),
                    c.lowerOrderFinal(), c.denoiseToZero());
            return ExportSubject.baseline(run, b.times(), schedule, prediction, network, guidance);
        }
        if (values instanceof ConfigValues.Coefficients c) {
            return ExportSubject.coefficients(c.set(), c.cpr() != null, schedule, prediction, network, guidance);
        }
        ConfigValues.DpmSolverV3 v = (ConfigValues.DpmSolverV3) values;
        return ExportSubject.dpmSolverV3(v.spec(), v.spacing(), v.steps(), v.lowerOrderFinal(), v.denoiseToZero(),
                v.times(), schedule, prediction, network, guidance);
    }

    /** Every format's verdict for a config. */
    public static Listing listing(long configId, ConfigDocument document, JsonNode modelSpec) {
        List<Listed> rows = ExportRules.all(subject(document, modelSpec)).stream().map(e -> {
            String href = "/api/v1/configs/" + configId + "/export/" + e.format().id();
            if (!e.isSupported()) {
                return new Listed(e.format().id(), false, e.format().mediaType(), href, null, null, null, null, null,
                        e.reason(), e.alternatives().stream().map(ExportFormat::id).toList());
            }
            ConsumerCall c = e.call();
            return new Listed(e.format().id(), true, e.format().mediaType(), href, c.consumer(), c.entryPoint(),
                    c.code(), c.notes(), c.modelTime() == null ? null : c.modelTime().maxDeviation(), null, null);
        }).toList();
        return new Listing(configId, rows);
    }

    /**
     * Exports a config, or throws {@link NotApplicable} when the format would not reproduce it.
     *
     * @param document      the config's document (as served, read back)
     * @param modelSpec     the model's stored spec ({@code models.spec})
     * @param documentBytes the served bytes (the json export, and the ETag other exports quote)
     */
    public static Export export(ExportFormat format, ConfigDocument document, JsonNode modelSpec,
                                byte[] documentBytes) {
        return export(format, document, ResolvedModel.specOf(modelSpec), documentBytes);
    }

    /** {@link #export(ExportFormat, ConfigDocument, JsonNode, byte[])} with the model's spec. */
    public static Export export(ExportFormat format, ConfigDocument document, ModelSpec modelSpec,
                                byte[] documentBytes) {
        Served doc = new Served(document, CanonicalJson.sha256(documentBytes)); // the ETag every export quotes
        String base = "config-" + document.id() + "-v" + document.version();
        if (format == ExportFormat.JSON) {
            return new Export(documentBytes, format.mediaType(), base + ".json");
        }
        ExportSubject subject = subject(document, modelSpec);
        ExportSupport support = ExportRules.decide(format, subject);
        if (!support.isSupported()) {
            throw new NotApplicable(support.message(), support.alternatives().stream().map(ExportFormat::id).toList());
        }
        ConsumerCall call = support.call();
        return switch (format) {
            case JSON -> throw new IllegalStateException("handled above");
            case K_DIFFUSION -> json(kDiffusion(doc, subject, call), format, base + "-k-diffusion");
            case COMFYUI -> json(comfyUi(doc, subject, call), format, base + "-comfyui");
            case DIFFUSERS -> new Export(diffusers(doc, subject, call), format.mediaType(),
                    base + "-diffusers.zip");
            case DPMSOLVER_V3 -> new Export(dpmSolverV3(doc, subject, call), format.mediaType(),
                    base + "-dpmsolver-v3.zip");
            case DC_RATIOS -> json(doubles(doublesOf(call.arguments().get("ratios"))), format, base + "-dc-ratios");
            case DC_CPR -> throw new IllegalStateException("dc-cpr is never supported");
        };
    }

    // ---- sigma conventions -----------------------------------------------------------------------------------------

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

    /** A document with the sha256 of its served bytes. */
    record Served(ConfigDocument document, String sha256) {
    }

    private static ObjectNode header(Served served, String format) {
        ConfigDocument d = served.document();
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format", format);
        o.put("configId", d.id());
        o.put("configSha256", served.sha256());
        o.put("model", d.model().name());
        o.put("method", d.method());
        o.put("solver", d.solver());
        o.set("solverOptions", d.solverOptions());
        o.put("nfe", d.nfe());
        o.put("guidance", d.guidance());
        return o;
    }

    private static JsonNode callJson(ConsumerCall call) {
        return Json.MAPPER.valueToTree(call);
    }

    // ---- k-diffusion and ComfyUI -----------------------------------------------------------------------------------

    static ObjectNode kDiffusion(Served document, ExportSubject s, ConsumerCall call) {
        ObjectNode o = header(document, "k-diffusion");
        o.put("sigmaSpace", sigmaSpace(s.schedule()));
        List<?> calls = (List<?>) call.arguments().get("calls");
        o.put("usage", call.code());
        o.put("initialState", "x = x_T * " + call.initialScale() + " (x_T: the initial state of our sampler)");
        o.put("finalState", "x_end = x * " + call.finalScale());
        double[] times = s.times();
        double[] sig = new double[times.length + (s.run().denoiseToZero() ? 1 : 0)];
        for (int i = 0; i < times.length; i++) {
            sig[i] = sigmaOf(s.schedule(), times[i]);
        }
        o.put("steps", sig.length - 1);
        o.set("sigmas", doubles(sig));
        o.put("sigmasConvention", "the config's grid as noise levels, ending at its end level (then 0 only for "
                + "denoise_to_zero); the calls below split it where a sampler needs it (" + calls.size()
                + (calls.size() == 1 ? " call)" : " calls)"));
        o.set("call", callJson(call));
        return o;
    }

    static ObjectNode comfyUi(Served document, ExportSubject s, ConsumerCall call) {
        ObjectNode o = header(document, "comfyui");
        o.put("sigmaSpace", sigmaSpace(s.schedule()));
        List<?> stages = (List<?>) call.arguments().get("stages");
        Map<?, ?> first = (Map<?, ?>) stages.get(0);
        o.put("node", "ManualSigmas");
        o.put("manualSigmas", (String) first.get("manualSigmas"));
        o.set("sigmas", doubles((double[]) first.get("sigmas")));
        o.put("graph", call.entryPoint());
        o.set("prompt", Json.MAPPER.valueToTree(call.arguments().get("prompt")));
        o.set("call", callJson(call));
        return o;
    }

    // ---- diffusers -------------------------------------------------------------------------------------------------

    static byte[] diffusers(Served document, ExportSubject s, ConsumerCall call) {
        Map<String, Object> args = call.arguments();
        ObjectNode scheduler = Json.MAPPER.valueToTree(args.get("schedulerConfig"));
        scheduler.put("_solvertune_config_id", document.document().id());
        ObjectNode schedule = header(document, "diffusers-schedule");
        schedule.put("scheduler", (String) args.get("scheduler"));
        schedule.put("mode", (String) args.get("mode"));
        schedule.set("times", doubles(s.times()));
        schedule.put("timesConvention", "the config's grid in continuous time (DPM-Solver convention for discrete "
                + "VP models: t_n = (n + 1) / N'); the network's timestep is t * N' - 1");
        switch ((String) args.get("mode")) {
            case "sigmas" -> schedule.set("sigmas", doubles((double[]) args.get("sigmas")));
            case "timesteps" -> {
                ArrayNode a = schedule.putArray("timesteps");
                for (long t : (long[]) args.get("timesteps")) {
                    a.add(t);
                }
            }
            default -> {
                schedule.put("numInferenceSteps", ((Number) args.get("numInferenceSteps")).intValue());
                schedule.set("sigmas", doubles((double[]) args.get("sigmas")));
                schedule.set("timesteps", doubles((double[]) args.get("timesteps")));
            }
        }
        schedule.put("sigmaSpace", sigmaSpace(s.schedule()));
        schedule.put("usage", call.code());

        ObjectNode guider = JsonNodeFactory.instance.objectNode();
        guider.put("_class_name", "ClassifierFreeGuidance");
        guider.put("guidance_scale", document.document().guidance());
        guider.put("guidance_rescale", 0.0);
        guider.put("use_original_formulation", false);
        guider.put("start", 0.0);
        guider.put("stop", 1.0);

        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("scheduler/scheduler_config.json", pretty(scheduler));
        files.put("schedule.json", pretty(schedule));
        files.put("call.json", pretty(callJson(call)));
        files.put("guider_config.json", pretty(guider));
        return zip(files);
    }

    // ---- DPM-Solver-v3 ---------------------------------------------------------------------------------------------

    static byte[] dpmSolverV3(Served document, ExportSubject s, ConsumerCall call) {
        ConfigValues.DpmSolverV3 v = (ConfigValues.DpmSolverV3) document.document().values();
        EmpiricalModelStatistics ems = v.ems();
        long[] shape = (long[]) call.arguments().get("statisticsShape");
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("l.npz", npz(Map.of("l", new NpyArray(shape, NpyArray.NpyDtype.FLOAT64, ems.l(), null))));
        Map<String, NpyArray> sb = new LinkedHashMap<>();
        sb.put("s", new NpyArray(shape, NpyArray.NpyDtype.FLOAT64, ems.s(), null));
        sb.put("b", new NpyArray(shape, NpyArray.NpyDtype.FLOAT64, ems.b(), null));
        files.put("sb.npz", npz(sb));
        files.put("ems.json", ems.metadata("float64").toJson().getBytes(StandardCharsets.UTF_8));
        ObjectNode c = (ObjectNode) callJson(call);
        c.set("config", header(document, "dpmsolver-v3"));
        files.put("call.json", pretty(c));
        return zip(files);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static Export json(JsonNode node, ExportFormat f, String base) {
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

    /** An uncompressed {@code .npz} (numpy's {@code np.savez} layout) with fixed entry times. */
    private static byte[] npz(Map<String, NpyArray> arrays) {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            try {
                Npy.write(buf, e.getValue());
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
            entries.put(e.getKey() + ".npy", buf.toByteArray());
        }
        return zip(entries);
    }

    private static double[] doublesOf(Object o) {
        return (double[]) o;
    }

    private static ArrayNode doubles(double[] a) {
        ArrayNode n = JsonNodeFactory.instance.arrayNode(a.length);
        for (double d : a) {
            n.add(d);
        }
        return n;
    }
}
