package io.solvertune.tuning.publish;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.coeff.EmsMetadata;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CascadePolynomialRegression;
import io.solvertune.tuning.fit.CoefficientSet;
import java.util.Arrays;
import java.util.Set;

/**
 * The {@code values} of a published config: everything a client needs to run it, as a tagged JSON object.
 *
 * <ul>
 *   <li>{@code {"type": "coefficients", "coefficientSet": <CoefficientSet>, "cpr"?: [36 numbers]}} — a tuned
 *       coefficient method (IIA, BIIA, D-ODE, DC-Solver); {@code cpr}: DC-Solver cascade-polynomial coefficients in
 *       the official (4, 3, 3) order, when fitted;</li>
 *   <li>{@code {"type": "baseline", "candidate": <Candidate>, "steps": n, "times": [...]}} — an untuned solver with
 *       its settings ({@link Candidate}: {@link SolverSpec} JSON, spacing, lower-order-final, denoise-to-zero, time
 *       range) and the explicit {@code steps + 1} times it runs on;</li>
 *   <li>{@code {"type": "dpmsolver-v3", "order", "pPseudo", "useCorrector", "cPseudo", "half", "degenerated",
 *       "explicitIndexes"?, "spacing", "steps", "lowerOrderFinal", "denoiseToZero", "times",
 *       "ems": {"metadata": <EmsMetadata>, "l": [...], "s": [...], "b": [...]}}} — DPM-Solver-v3 with its empirical
 *       model statistics inline ({@code [K + 1, ...sampleShape]} flattened in C order).</li>
 * </ul>
 *
 * {@code times} are the exact continuous times of the schedule ({@code steps + 1}, decreasing). A producer builds
 * values with the {@code of...} factories; {@link #parse} validates what comes in (a bare {@link CoefficientSet} JSON
 * is accepted as {@code coefficients}).
 */
public sealed interface ConfigValues {

    String COEFFICIENTS = "coefficients";
    String BASELINE = "baseline";
    String DPMSOLVER_V3 = "dpmsolver-v3";

    /** The tag. */
    String type();

    /** The {@code steps + 1} sampling times (continuous schedule time, decreasing). */
    double[] times();

    /** Model evaluations of one run. */
    int nfe();

    /** The untuned solver this config runs on or modifies (null for DPM-Solver-v3, which has no stock base). */
    SolverSpec baseSolver();

    /** Canonical JSON form. */
    JsonNode toJson();

    /**
     * The run these values stand for: the same solver, exact grid, lower-order-final rule and final denoising step
     * the validation ran — what {@code sample --config}, the dashboard's sample grids and the Python client's
     * {@code Config.plan} run.
     */
    default io.solvertune.numerics.solver.SamplerConfig samplerConfig() {
        double[] t = times();
        double tStart = t[0];
        double tEnd = t[t.length - 1];
        if (this instanceof Baseline b) {
            return new io.solvertune.numerics.solver.SamplerConfig(b.candidate().solver(), b.candidate().spacing(),
                    b.steps(), tStart, tEnd, b.candidate().lowerOrderFinal(), b.candidate().denoiseToZero());
        }
        if (this instanceof Coefficients c) {
            return new io.solvertune.numerics.solver.SamplerConfig(io.solvertune.tuning.fit.MethodCatalog.spec(c.set()),
                    c.set().spacing(), c.set().steps(), tStart, tEnd, true, false);
        }
        DpmSolverV3 d = (DpmSolverV3) this;
        return new io.solvertune.numerics.solver.SamplerConfig(d.spec(), d.spacing(), d.steps(), tStart, tEnd,
                d.lowerOrderFinal(), d.denoiseToZero());
    }

    // ---- the three kinds -------------------------------------------------------------------------------------------

    /** A fitted coefficient set (and, for DC-Solver, optionally its cascade polynomial regression). */
    record Coefficients(CoefficientSet set, CascadePolynomialRegression cpr) implements ConfigValues {
        public Coefficients {
            if (set == null) {
                throw new IllegalArgumentException("values.coefficientSet: required");
            }
            if (cpr != null && set.method() != CoefficientSet.Method.DC) {
                throw new IllegalArgumentException("values.cpr: only DC-Solver sets carry CPR coefficients, this is "
                        + set.method());
            }
        }

        @Override
        public String type() {
            return COEFFICIENTS;
        }

        @Override
        public double[] times() {
            return set.times();
        }

        @Override
        public int nfe() {
            return set.nfe();
        }

        @Override
        public SolverSpec baseSolver() {
            return set.base();
        }

        @Override
        public JsonNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("type", COEFFICIENTS);
            o.set("coefficientSet", Json.MAPPER.valueToTree(set));
            if (cpr != null) {
                o.set("cpr", doubles(cpr.coefficients()));
            }
            return CanonicalJson.sorted(o);
        }
    }

    /** An untuned solver on an explicit grid. */
    record Baseline(Candidate candidate, int steps, double[] times) implements ConfigValues {
        public Baseline {
            if (candidate == null) {
                throw new IllegalArgumentException("values.candidate: required");
            }
            if (candidate.solver() instanceof io.solvertune.numerics.solver.v3.DpmSolverV3) {
                throw new IllegalArgumentException("values.candidate.solver: DPM-Solver-v3 configs use type "
                        + DPMSOLVER_V3);
            }
            if (steps < 1) {
                throw new IllegalArgumentException("values.steps: must be >= 1, got " + steps);
            }
            // singlestep DPM-Solver counts steps in model calls (DPM-Solver's convention) and groups them into
            // fewer intervals of order <= 3 ("fast" plan): its grid has between steps/3 + 1 and steps + 1 times
            int intervals = candidate.solver() instanceof DpmSolver d
                    && d.method() == DpmSolver.Method.SINGLESTEP && times != null ? times.length - 1 : steps;
            if (intervals < (steps + 2) / 3 || intervals > steps) {
                throw new IllegalArgumentException("values.times: a singlestep grid for " + steps + " steps has "
                        + (steps + 2) / 3 + " to " + steps + " intervals, got " + intervals);
            }
            times = checkTimes(times, intervals, "values.times");
        }

        @Override
        public String type() {
            return BASELINE;
        }

        @Override
        public double[] times() {
            return times.clone();
        }

        @Override
        public int nfe() {
            return steps * candidate.nfePerStep() + (candidate.denoiseToZero() ? 1 : 0);
        }

        @Override
        public SolverSpec baseSolver() {
            return candidate.solver();
        }

        @Override
        public JsonNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("type", BASELINE);
            o.set("candidate", Json.MAPPER.valueToTree(candidate));
            o.put("steps", steps);
            o.set("times", doubles(times));
            return CanonicalJson.sorted(o);
        }
    }

    /** DPM-Solver-v3 with its statistics. */
    record DpmSolverV3(io.solvertune.numerics.solver.v3.DpmSolverV3 spec, TimestepSpacing spacing, int steps, boolean lowerOrderFinal,
                       boolean denoiseToZero, double[] times) implements ConfigValues {
        public DpmSolverV3 {
            if (spec == null) {
                throw new IllegalArgumentException("values: DPM-Solver-v3 settings are required");
            }
            if (spacing == null) {
                throw new IllegalArgumentException("values.spacing: required");
            }
            if (steps < 1) {
                throw new IllegalArgumentException("values.steps: must be >= 1, got " + steps);
            }
            times = checkTimes(times, steps, "values.times");
        }

        @Override
        public String type() {
            return DPMSOLVER_V3;
        }

        @Override
        public double[] times() {
            return times.clone();
        }

        @Override
        public int nfe() {
            return steps + (denoiseToZero ? 1 : 0);
        }

        @Override
        public SolverSpec baseSolver() {
            return null;
        }

        /** The statistics. */
        public EmpiricalModelStatistics ems() {
            return spec.ems();
        }

        @Override
        public JsonNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("type", DPMSOLVER_V3);
            o.put("order", spec.order());
            o.put("pPseudo", spec.pPseudo());
            o.put("useCorrector", spec.useCorrector());
            o.put("cPseudo", spec.cPseudo());
            o.put("half", spec.half());
            o.put("degenerated", spec.degenerated());
            if (spec.positions() == io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.INTERPOLATED) {
                // off-grid (learned) times with interpolated statistics; snapped configs keep their old form
                o.put("positions", "interpolated");
            }
            if (spec.explicitIndexes() != null) {
                ArrayNode idx = o.putArray("explicitIndexes");
                Arrays.stream(spec.explicitIndexes()).forEach(idx::add);
            }
            o.set("spacing", Json.MAPPER.valueToTree(spacing));
            o.put("steps", steps);
            o.put("lowerOrderFinal", lowerOrderFinal);
            o.put("denoiseToZero", denoiseToZero);
            o.set("times", doubles(times));
            EmpiricalModelStatistics ems = spec.ems();
            ObjectNode e = o.putObject("ems");
            e.set("metadata", Json.MAPPER.valueToTree(ems.metadata()));
            e.set("l", doubles(ems.l()));
            e.set("s", doubles(ems.s()));
            e.set("b", doubles(ems.b()));
            return CanonicalJson.sorted(o);
        }
    }

    // ---- factories -------------------------------------------------------------------------------------------------

    /** A fitted coefficient set. */
    static ConfigValues of(CoefficientSet set) {
        return new Coefficients(set, null);
    }

    /** A DC-Solver set with its cascade polynomial regression. */
    static ConfigValues of(CoefficientSet set, CascadePolynomialRegression cpr) {
        return new Coefficients(set, cpr);
    }

    /** An untuned baseline on its exact grid. */
    static ConfigValues ofBaseline(Candidate candidate, int steps, double[] times) {
        return new Baseline(candidate, steps, times);
    }

    /** DPM-Solver-v3 with the statistics in {@code spec}. */
    public static ConfigValues ofDpmSolverV3(io.solvertune.numerics.solver.v3.DpmSolverV3 spec, TimestepSpacing spacing, int steps,
                                      boolean lowerOrderFinal, boolean denoiseToZero, double[] times) {
        return new DpmSolverV3(spec, spacing, steps, lowerOrderFinal, denoiseToZero, times);
    }

    // ---- parsing ---------------------------------------------------------------------------------------------------

    /** Validates and decodes {@code values}; errors are {@code "values.field: message"}. */
    static ConfigValues parse(JsonNode v) {
        if (v == null || !v.isObject()) {
            throw new IllegalArgumentException("values: expected a JSON object");
        }
        if (!v.has("type") && v.has("formatVersion") && v.has("columns")) {
            return new Coefficients(read(v, CoefficientSet.class, "values"), null);
        }
        String type = v.path("type").asText("");
        switch (type) {
            case COEFFICIENTS -> {
                only(v, Set.of("type", "coefficientSet", "cpr"));
                CoefficientSet set = read(v.get("coefficientSet"), CoefficientSet.class, "values.coefficientSet");
                CascadePolynomialRegression cpr = v.hasNonNull("cpr")
                        ? new CascadePolynomialRegression(doublesOf(v.get("cpr"), "values.cpr")) : null;
                return new Coefficients(set, cpr);
            }
            case BASELINE -> {
                only(v, Set.of("type", "candidate", "steps", "times"));
                Candidate c = read(v.get("candidate"), Candidate.class, "values.candidate");
                return new Baseline(c, intOf(v, "steps"), doublesOf(v.get("times"), "values.times"));
            }
            case DPMSOLVER_V3 -> {
                only(v, Set.of("type", "order", "pPseudo", "useCorrector", "cPseudo", "half", "degenerated",
                        "explicitIndexes", "spacing", "steps", "lowerOrderFinal", "denoiseToZero", "times", "ems", "positions"));
                JsonNode e = v.get("ems");
                if (e == null || !e.isObject()) {
                    throw new IllegalArgumentException("values.ems: required ({metadata, l, s, b})");
                }
                EmsMetadata m = read(e.get("metadata"), EmsMetadata.class, "values.ems.metadata");
                EmpiricalModelStatistics ems = new EmpiricalModelStatistics(new EmsGrid(m.gridSteps(), m.tStart(),
                        m.tEnd()), m.sampleShape(), doublesOf(e.get("l"), "values.ems.l"),
                        doublesOf(e.get("s"), "values.ems.s"), doublesOf(e.get("b"), "values.ems.b"), m.schedule(),
                        m.description());
                int[] idx = null;
                if (v.hasNonNull("explicitIndexes")) {
                    double[] d = doublesOf(v.get("explicitIndexes"), "values.explicitIndexes");
                    idx = Arrays.stream(d).mapToInt(x -> (int) x).toArray();
                }
                io.solvertune.numerics.solver.v3.DpmSolverV3 spec = new io.solvertune.numerics.solver.v3.DpmSolverV3(ems, intOf(v, "order"),
                        v.path("pPseudo").asBoolean(false), v.path("useCorrector").asBoolean(true),
                        v.path("cPseudo").asBoolean(false), v.path("half").asBoolean(false),
                        v.path("degenerated").asBoolean(false), idx, positions(v));
                return new DpmSolverV3(spec, read(v.get("spacing"), TimestepSpacing.class, "values.spacing"),
                        intOf(v, "steps"), v.path("lowerOrderFinal").asBoolean(true),
                        v.path("denoiseToZero").asBoolean(false), doublesOf(v.get("times"), "values.times"));
            }
            default -> throw new IllegalArgumentException("values.type: expected " + COEFFICIENTS + ", " + BASELINE
                    + " or " + DPMSOLVER_V3 + ", got '" + type + "'");
        }
    }

    /** {@code values.positions}: absent or "snapped" (the official sampler), or "interpolated". */
    private static io.solvertune.numerics.solver.v3.DpmSolverV3.Positions positions(JsonNode v) {
        JsonNode p = v.get("positions");
        if (p == null || p.isNull()) {
            return io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.SNAPPED;
        }
        return switch (p.isTextual() ? p.asText() : "") {
            case "snapped" -> io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.SNAPPED;
            case "interpolated" -> io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.INTERPOLATED;
            default -> throw new IllegalArgumentException("values.positions: expected \"snapped\" or "
                    + "\"interpolated\", got " + p);
        };
    }

    private static void only(JsonNode v, Set<String> known) {
        v.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) {
                throw new IllegalArgumentException("values." + f + ": unknown field (known: "
                        + known.stream().sorted().toList() + ")");
            }
        });
    }

    private static <T> T read(JsonNode n, Class<T> type, String field) {
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException(field + ": required");
        }
        try {
            return Json.MAPPER.treeToValue(n, type);
        } catch (JsonProcessingException e) {
            Throwable c = e.getCause();
            String msg = c instanceof IllegalArgumentException ? c.getMessage() : e.getOriginalMessage();
            throw new IllegalArgumentException(field + ": " + msg, e);
        }
    }

    private static int intOf(JsonNode v, String field) {
        JsonNode n = v.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("values." + field + ": expected an integer");
        }
        return n.intValue();
    }

    private static double[] doublesOf(JsonNode n, String field) {
        if (n == null || !n.isArray()) {
            throw new IllegalArgumentException(field + ": expected an array of numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = n.get(i);
            if (!e.isNumber() || !Double.isFinite(e.doubleValue())) {
                throw new IllegalArgumentException(field + "[" + i + "]: expected a finite number");
            }
            out[i] = e.doubleValue();
        }
        return out;
    }

    private static double[] checkTimes(double[] times, int steps, String field) {
        if (times == null || times.length != steps + 1) {
            throw new IllegalArgumentException(field + ": expected steps + 1 = " + (steps + 1) + " times, got "
                    + (times == null ? "none" : times.length));
        }
        for (int i = 0; i < times.length; i++) {
            if (!Double.isFinite(times[i]) || !(times[i] > 0) || i > 0 && !(times[i] < times[i - 1])) {
                throw new IllegalArgumentException(field + "[" + i + "]: times must be positive, finite and "
                        + "strictly decreasing");
            }
        }
        return times.clone();
    }

    private static ArrayNode doubles(double[] a) {
        ArrayNode n = JsonNodeFactory.instance.arrayNode(a.length);
        for (double d : a) {
            n.add(d);
        }
        return n;
    }
}
