package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.MethodCatalog;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A tuning job as submitted (JSON, examples under {@code tuning-jobs/}). Parsing is strict: an unknown field, a wrong
 * type or an out-of-range value is an {@link IllegalArgumentException} whose message starts with the field path
 * ({@code "seeds.heldOut: must be >= 2"}).
 *
 * <pre>{@code
 * {"model": "gmm-sd-d32",                       // registry id (number) or name/preset (string)
 *  "methods": ["dpmsolver-v3", "dc", "iia-ddim"],
 *  "nfe": [5, 6, 8, 10], "guidance": [1, 7.5],
 *  "spacings": ["time_uniform", "logSNR", "time_quadratic", "karras"],   // optional: grids tried (default all)
 *  "classLabel": 3,                              // optional: one class; default per-seed classes (seed mod classes)
 *  "teacher": {"steps": 500, "recordEvery": 5, "tolerance": 1e-4, "checkSeeds": 16, "dtype": "float64"},
 *  "seeds": {"train": 512, "heldOut": 1024, "trainBase": 0, "heldOutBase": 1000000, "shardSize": 64,
 *            "fitRows": 256, "coefficientFitRows": 128},
 *  "ems": {"source": "teacher", "samples": 1024, "lMethod": "auto"},
 *  "batch": 64}
 * }</pre>
 *
 * <p>Protocol (that of {@code tuning-jobs/benchmarks/*.sh}): training teacher rows {@code [0, fitRows)} are what the
 * fits see (coefficient methods the first {@code coefficientFitRows} of them, DPM-Solver-v3 statistics all of them);
 * rows {@code [fitRows, train)} choose the variant of every method and the best untuned baseline per NFE; every choice
 * is then scored on the held-out seeds, which are disjoint from the training seeds. A verdict is only worth
 * publishing with enough held-out seeds: the issue asks for at least {@value #PUBLISHABLE_HELD_OUT} (the default);
 * smaller counts are accepted for tests and quick looks.
 *
 * @param model      the registry model: {@code "name"} or id (the engine resolves it into a {@link ResolvedModel})
 * @param methods    {@code dpmsolver-v3} and/or the {@link MethodCatalog} names
 * @param nfe        model evaluations per sample, each in 1..50
 * @param guidance   classifier-free guidance scales (> 0)
 * @param spacings   timestep spacings tried by the baselines and the methods
 * @param classLabel one class for every row, or {@code null}: per-seed classes on a conditional model
 * @param batch      rows per sampling batch
 */
public record TuningJobSpec(JsonNode model, List<String> methods, List<Integer> nfe, List<Double> guidance,
                            List<String> spacings, Integer classLabel, Teacher teacher, Seeds seeds, Ems ems,
                            int batch) {

    /** Held-out seeds a publishable verdict needs (issue 5). */
    public static final int PUBLISHABLE_HELD_OUT = 1000;
    /** The DPM-Solver-v3 method name. */
    public static final String DPM_SOLVER_V3 = "dpmsolver-v3";
    /** Spacings tried when the spec names none. */
    public static final List<String> ALL_SPACINGS = List.of("time_uniform", "logSNR", "time_quadratic", "karras");

    /**
     * Teacher settings: DPM-Solver++ 3M on a logSNR grid (as the benchmark scripts).
     *
     * @param steps       solver steps (default 500)
     * @param recordEvery the training teacher records every k-th grid point (default 5: K = 100 recorded intervals,
     *                    also the DPM-Solver-v3 statistics grid); the held-out teacher records only the end points
     * @param tolerance   half-step check tolerance, relative RMS of the final states (default 1e-4)
     * @param checkSeeds  seeds of the half-step check (default 16, on the first training and held-out shard)
     * @param dtype       float64 | float32, or null: the model's
     */
    public record Teacher(int steps, int recordEvery, double tolerance, int checkSeeds, String dtype) {
    }

    /**
     * Seed counts and ranges.
     *
     * @param train              training seeds {@code trainBase, trainBase + 1, ...} (default 512)
     * @param heldOut            held-out seeds {@code heldOutBase, ...} (default 1024)
     * @param trainBase          first training seed (default 0)
     * @param heldOutBase        first held-out seed (default 1000000); the ranges must not overlap
     * @param shardSize          seeds per teacher stage (default 64)
     * @param fitRows            training rows the fits may use (default half of {@code train})
     * @param coefficientFitRows rows of those the coefficient methods fit on (default min(128, fitRows))
     */
    public record Seeds(int train, int heldOut, long trainBase, long heldOutBase, int shardSize, int fitRows,
                        int coefficientFitRows) {
    }

    /**
     * DPM-Solver-v3 statistics.
     *
     * @param source  teacher (the guided teacher's own states on the fit rows; default) | data (noised data samples,
     *                the paper)
     * @param samples data samples for source data (default 1024)
     * @param lMethod auto (exact for analytic mixtures, finite differences for TorchScript, else vjp) | exact | vjp | fd
     */
    public record Ems(String source, int samples, String lMethod) {
    }

    public TuningJobSpec {
        methods = List.copyOf(methods);
        nfe = List.copyOf(nfe);
        guidance = List.copyOf(guidance);
        spacings = List.copyOf(spacings);
    }

    /** The coefficient methods of the spec (every method but DPM-Solver-v3), in spec order. */
    public List<String> coefficientMethods() {
        return methods.stream().filter(m -> !m.equals(DPM_SOLVER_V3)).toList();
    }

    /** Whether DPM-Solver-v3 is requested. */
    public boolean wantsDpmSolverV3() {
        return methods.contains(DPM_SOLVER_V3);
    }

    public int[] nfeArray() {
        return nfe.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The spacings as objects (Karras with rho 7, as the baselines). */
    public List<TimestepSpacing> spacingObjects() {
        return spacings.stream().map(s -> TimestepSpacing.named(s, 7.0)).toList();
    }

    /** Whether the held-out seed count supports publishable verdicts. */
    public boolean publishableHeldOut() {
        return seeds.heldOut() >= PUBLISHABLE_HELD_OUT;
    }

    /** Parses and checks a spec. */
    public static TuningJobSpec parse(JsonNode spec) {
        Obj root = Obj.of(spec, "");
        root.only("model", "methods", "nfe", "guidance", "spacings", "classLabel", "teacher", "seeds", "ems", "batch");
        JsonNode model = root.required("model");
        if (!(model.isTextual() && !model.asText().isBlank()) && !(model.isIntegralNumber() && model.asLong() > 0)) {
            throw new IllegalArgumentException("model: expected a model name (string) or id (positive integer)");
        }
        List<String> methods = root.stringList("methods", true);
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("methods: at least one method is required");
        }
        Set<String> known = new LinkedHashSet<>();
        known.add(DPM_SOLVER_V3);
        known.addAll(MethodCatalog.names());
        for (int i = 0; i < methods.size(); i++) {
            String m = methods.get(i);
            if (m.equals("consistency-solver")) {
                throw new IllegalArgumentException("methods[" + i + "]: consistency-solver is not yet supported");
            }
            if (!known.contains(m)) {
                throw new IllegalArgumentException("methods[" + i + "]: unknown method '" + m + "' (known: "
                        + String.join(", ", known) + ")");
            }
        }
        unique(methods, "methods");
        List<Integer> nfe = new ArrayList<>();
        JsonNode nfes = root.array("nfe", true);
        for (int i = 0; i < nfes.size(); i++) {
            JsonNode n = nfes.get(i);
            if (!n.isIntegralNumber() || n.asInt() < 1 || n.asInt() > 50) {
                throw new IllegalArgumentException("nfe[" + i + "]: expected an integer in 1..50, got " + n);
            }
            nfe.add(n.asInt());
        }
        if (nfe.isEmpty()) {
            throw new IllegalArgumentException("nfe: at least one NFE is required");
        }
        unique(nfe, "nfe");
        List<Double> guidance = new ArrayList<>();
        JsonNode gs = root.array("guidance", true);
        for (int i = 0; i < gs.size(); i++) {
            JsonNode g = gs.get(i);
            if (!g.isNumber() || !(g.asDouble() > 0) || !Double.isFinite(g.asDouble())) {
                throw new IllegalArgumentException("guidance[" + i + "]: expected a number > 0, got " + g);
            }
            guidance.add(g.asDouble());
        }
        if (guidance.isEmpty()) {
            throw new IllegalArgumentException("guidance: at least one guidance scale is required");
        }
        unique(guidance, "guidance");
        List<String> spacings = root.has("spacings") ? root.stringList("spacings", true) : ALL_SPACINGS;
        for (int i = 0; i < spacings.size(); i++) {
            if (!ALL_SPACINGS.contains(spacings.get(i))) {
                throw new IllegalArgumentException("spacings[" + i + "]: unknown spacing '" + spacings.get(i)
                        + "' (known: " + String.join(", ", ALL_SPACINGS) + ")");
            }
        }
        if (spacings.isEmpty()) {
            throw new IllegalArgumentException("spacings: at least one spacing is required");
        }
        unique(spacings, "spacings");
        Integer classLabel = root.has("classLabel") ? root.integer("classLabel", 0, Integer.MAX_VALUE, 0) : null;

        Obj t = root.object("teacher");
        t.only("steps", "recordEvery", "tolerance", "checkSeeds", "dtype");
        int steps = t.integer("steps", 2, 100_000, 500);
        int recordEvery = t.integer("recordEvery", 1, steps, Math.min(5, steps));
        double tol = t.number("tolerance", 1e-4);
        if (!(tol > 0)) {
            throw new IllegalArgumentException("teacher.tolerance: must be > 0, got " + tol);
        }
        int checkSeeds = t.integer("checkSeeds", 0, 100_000, 16);
        String dtype = t.string("dtype", null);
        if (dtype != null && !dtype.equals("float32") && !dtype.equals("float64")) {
            throw new IllegalArgumentException("teacher.dtype: expected float32 or float64, got '" + dtype + "'");
        }
        Teacher teacher = new Teacher(steps, recordEvery, tol, checkSeeds, dtype);

        Obj s = root.object("seeds");
        s.only("train", "heldOut", "trainBase", "heldOutBase", "shardSize", "fitRows", "coefficientFitRows");
        int train = s.integer("train", 4, 10_000_000, 512);
        int heldOut = s.integer("heldOut", 2, 10_000_000, 1024);
        long trainBase = s.longValue("trainBase", 0);
        long heldOutBase = s.longValue("heldOutBase", 1_000_000);
        int shardSize = s.integer("shardSize", 1, 1_000_000, 64);
        int fitRows = s.integer("fitRows", 2, train - 2, train / 2);
        int coeffRows = s.integer("coefficientFitRows", 1, fitRows, Math.min(128, fitRows));
        if (trainBase < heldOutBase + heldOut && heldOutBase < trainBase + train) {
            throw new IllegalArgumentException("seeds.heldOutBase: held-out seeds " + heldOutBase + ".."
                    + (heldOutBase + heldOut - 1) + " overlap the training seeds " + trainBase + ".."
                    + (trainBase + train - 1));
        }
        Seeds seeds = new Seeds(train, heldOut, trainBase, heldOutBase, shardSize, fitRows, coeffRows);

        Obj e = root.object("ems");
        e.only("source", "samples", "lMethod");
        String source = e.string("source", "teacher");
        if (!source.equals("teacher") && !source.equals("data")) {
            throw new IllegalArgumentException("ems.source: expected teacher or data, got '" + source + "'");
        }
        int samples = e.integer("samples", 2, 10_000_000, 1024);
        String lMethod = e.string("lMethod", "auto").toLowerCase(Locale.ROOT);
        if (!List.of("auto", "exact", "vjp", "fd").contains(lMethod)) {
            throw new IllegalArgumentException("ems.lMethod: expected auto, exact, vjp or fd, got '" + lMethod + "'");
        }
        if (methods.contains(DPM_SOLVER_V3) && steps / recordEvery < 2) {
            throw new IllegalArgumentException("teacher.recordEvery: dpmsolver-v3 needs at least 2 recorded intervals"
                    + " (steps / recordEvery), got " + steps / recordEvery);
        }
        if (methods.contains(DPM_SOLVER_V3) && source.equals("teacher") && steps % recordEvery != 0) {
            throw new IllegalArgumentException("teacher.recordEvery: must divide teacher.steps (" + steps
                    + ") so that the training teacher records the DPM-Solver-v3 logSNR grid");
        }
        Ems ems = new Ems(source, samples, lMethod);
        int batch = root.integer("batch", 1, 1_000_000, 64);
        return new TuningJobSpec(model, methods, nfe, guidance, spacings, classLabel, teacher, seeds, ems, batch);
    }

    private static <T> void unique(List<T> values, String field) {
        Set<T> seen = new LinkedHashSet<>();
        for (int i = 0; i < values.size(); i++) {
            if (!seen.add(values.get(i))) {
                throw new IllegalArgumentException(field + "[" + i + "]: " + values.get(i) + " appears twice");
            }
        }
    }

    /** A JSON object with its field path, for strict typed reads. */
    private record Obj(JsonNode node, String path) {
        static Obj of(JsonNode node, String path) {
            if (node == null || node.isNull() || node.isMissingNode()) {
                return new Obj(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), path);
            }
            if (!node.isObject()) {
                throw new IllegalArgumentException((path.isEmpty() ? "spec" : path) + ": expected a JSON object");
            }
            return new Obj(node, path);
        }

        String field(String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        void only(String... names) {
            Set<String> allowed = Set.of(names);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!allowed.contains(f)) {
                    throw new IllegalArgumentException(field(f) + ": unknown field (known: " + String.join(", ", names)
                            + ")");
                }
            }
        }

        boolean has(String name) {
            return node.has(name) && !node.get(name).isNull();
        }

        JsonNode required(String name) {
            if (!has(name)) {
                throw new IllegalArgumentException(field(name) + ": required");
            }
            return node.get(name);
        }

        Obj object(String name) {
            return Obj.of(node.get(name), field(name));
        }

        JsonNode array(String name, boolean required) {
            JsonNode a = required ? required(name) : node.get(name);
            if (a != null && !a.isArray()) {
                throw new IllegalArgumentException(field(name) + ": expected a JSON array");
            }
            return a;
        }

        List<String> stringList(String name, boolean required) {
            JsonNode a = array(name, required);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < a.size(); i++) {
                if (!a.get(i).isTextual()) {
                    throw new IllegalArgumentException(field(name) + "[" + i + "]: expected a string, got " + a.get(i));
                }
                out.add(a.get(i).asText());
            }
            return out;
        }

        int integer(String name, int min, int max, int dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new IllegalArgumentException(field(name) + ": expected an integer, got " + v);
            }
            int i = v.asInt();
            if (i < min || i > max) {
                throw new IllegalArgumentException(field(name) + ": must be in " + min + ".." + max + ", got " + i);
            }
            return i;
        }

        long longValue(String name, long dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new IllegalArgumentException(field(name) + ": expected a non-negative integer, got " + v);
            }
            return v.asLong();
        }

        double number(String name, double dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isNumber()) {
                throw new IllegalArgumentException(field(name) + ": expected a number, got " + v);
            }
            return v.asDouble();
        }

        String string(String name, String dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isTextual()) {
                throw new IllegalArgumentException(field(name) + ": expected a string, got " + v);
            }
            return v.asText();
        }
    }
}
