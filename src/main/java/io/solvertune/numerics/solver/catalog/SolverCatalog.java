package io.solvertune.numerics.solver.catalog;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.model.PredictionType;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Every baseline solver by name, with its options: what the CLI and {@code GET /api/v1/solvers} list, and the one
 * parser from (name, options) to a validated {@link SolverSpec}. Errors name the offending field.
 */
public final class SolverCatalog {

    /** One option of a solver. */
    public record Parameter(String name, String type, List<String> allowed, String defaultValue, String description) {
    }

    /** One solver. */
    public record Descriptor(String name, String description, String reference, String prediction,
                             List<Parameter> parameters) {
        Parameter parameter(String option) {
            for (Parameter p : parameters) {
                if (p.name().equals(option)) {
                    return p;
                }
            }
            return null;
        }
    }

    private static final Parameter METHOD = new Parameter("method", "enum", List.of("multistep", "singlestep"),
            "multistep", "multistep (one NFE per step) or singlestep (DPM-Solver-fast order plan)");
    private static final Parameter ORDER_3 = new Parameter("order", "int", List.of("1", "2", "3"), "2", "solver order");
    private static final Parameter SOLVER_TYPE = new Parameter("solver_type", "enum", List.of("dpmsolver", "taylor"),
            "dpmsolver", "high-order update flavour of the official code");
    private static final Parameter UNIPC_PRED = new Parameter("prediction", "enum", List.of("data", "noise"), "data",
            "integrate the data prediction (UniPC-bh with x0) or the noise prediction");
    private static final Parameter VARIANT = new Parameter("variant", "enum", List.of("bh1", "bh2"), "bh1",
            "B(h) = h (bh1) or e^h - 1 (bh2); bh2 is the usual choice for guided sampling");

    /** Options every solver takes (the sampling loop's, not the solver's). */
    public static final List<Parameter> SAMPLING_PARAMETERS = List.of(
            new Parameter("steps", "int", List.of(), "10",
                    "number of steps as the official code counts them (NFE for DPM-Solver/UniPC/DDIM/Euler; Heun spends 2 per step)"),
            new Parameter("spacing", "enum", List.of("time_uniform", "logSNR", "time_quadratic", "karras", "time_power", "explicit"),
                    "time_uniform", "placement of the time grid"),
            new Parameter("rho", "double", List.of(), "7.0", "exponent of the karras (noise level) and time_power (time axis) spacings"),
            new Parameter("timesteps", "double[]", List.of(), "", "explicit decreasing time list (spacing=explicit)"),
            new Parameter("t_start", "double", List.of(), "schedule default", "start time (noise)"),
            new Parameter("t_end", "double", List.of(), "schedule default", "end time"),
            new Parameter("lower_order_final", "bool", List.of("true", "false"), "true",
                    "lower the order of the last steps (DPM-Solver multistep: only when steps < 10, as upstream)"),
            new Parameter("denoise_to_zero", "bool", List.of("true", "false"), "false",
                    "finish with x0(x, t_end) (one extra NFE)"));

    private static final Map<String, Descriptor> SOLVERS = new LinkedHashMap<>();

    static {
        add(new Descriptor("ddim", "Deterministic DDIM (eta = 0); equals DPM-Solver(++)-1", "Song et al. 2021, arXiv 2010.02502",
                "data", List.of()));
        add(new Descriptor("dpmsolver", "DPM-Solver (noise prediction), singlestep or multistep, orders 1-3",
                "Lu et al. 2022, arXiv 2206.00927; LuChengTHU/dpm-solver", "noise", List.of(METHOD, ORDER_3, SOLVER_TYPE)));
        add(new Descriptor("dpmsolver++", "DPM-Solver++ (data prediction): 2S/3S singlestep, 2M/3M multistep",
                "Lu et al. 2022, arXiv 2211.01095; LuChengTHU/dpm-solver", "data", List.of(METHOD, ORDER_3, SOLVER_TYPE)));
        add(new Descriptor("unipc", "UniPC multistep predictor-corrector (UniP + UniC), orders 1-3",
                "Zhao et al. 2023, arXiv 2302.04867; wl-zhao/UniPC", "data or noise", List.of(UNIPC_PRED, VARIANT, ORDER_3)));
        add(new Descriptor("euler", "Euler in EDM form (x/alpha against sigma/alpha), 1 NFE per step",
                "Karras et al. 2022, arXiv 2206.00364", "data", List.of()));
        add(new Descriptor("heun", "Heun in EDM form (EDM Algorithm 1, no churn), 2 NFE per step",
                "Karras et al. 2022, arXiv 2206.00364", "data", List.of()));
    }

    private static void add(Descriptor d) {
        SOLVERS.put(d.name(), d);
    }

    private SolverCatalog() {
    }

    /** All solvers, in a stable order. */
    public static List<Descriptor> all() {
        return List.copyOf(SOLVERS.values());
    }

    /** The solver names. */
    public static Set<String> names() {
        return new LinkedHashSet<>(SOLVERS.keySet());
    }

    /** The descriptor of {@code name}, or an error naming the known solvers. */
    public static Descriptor describe(String name) {
        Descriptor d = name == null ? null : SOLVERS.get(name.toLowerCase(Locale.ROOT));
        if (d == null) {
            throw new IllegalArgumentException("solver: unknown solver '" + name + "' (known: "
                    + String.join(", ", SOLVERS.keySet()) + ")");
        }
        return d;
    }

    /**
     * Builds a solver from its name and options (option names as in {@link Descriptor#parameters()}; missing
     * options take their defaults).
     */
    public static SolverSpec parse(String name, Map<String, String> options) {
        Descriptor d = describe(name);
        for (String key : options.keySet()) {
            if (d.parameter(key) == null) {
                List<String> known = d.parameters().stream().map(Parameter::name).toList();
                throw new IllegalArgumentException("solver " + d.name() + ": unknown option '" + key + "'"
                        + (known.isEmpty() ? " (it takes no options)" : " (known: " + String.join(", ", known) + ")"));
            }
        }
        return switch (d.name()) {
            case "ddim" -> new Ddim();
            case "euler" -> new EdmEuler();
            case "heun" -> new EdmHeun();
            case "dpmsolver", "dpmsolver++" -> new DpmSolver(
                    d.name().equals("dpmsolver++") ? PredictionType.DATA : PredictionType.NOISE,
                    DpmSolver.Method.valueOf(value(d, options, METHOD).toUpperCase(Locale.ROOT)),
                    Integer.parseInt(value(d, options, ORDER_3)),
                    DpmSolver.SolverType.valueOf(value(d, options, SOLVER_TYPE).toUpperCase(Locale.ROOT)));
            case "unipc" -> new UniPc(
                    PredictionType.parse(value(d, options, UNIPC_PRED)),
                    UniPc.Variant.valueOf(value(d, options, VARIANT).toUpperCase(Locale.ROOT)),
                    Integer.parseInt(value(d, options, ORDER_3)));
            default -> throw new AssertionError(d.name());
        };
    }

    /** The catalog name of a spec and its options (inverse of {@link #parse}). */
    public static Map<String, String> options(SolverSpec spec) {
        Map<String, String> o = new LinkedHashMap<>();
        if (spec instanceof DpmSolver s) {
            o.put("method", s.method().name().toLowerCase(Locale.ROOT));
            o.put("order", Integer.toString(s.order()));
            o.put("solver_type", s.solverType().name().toLowerCase(Locale.ROOT));
        } else if (spec instanceof UniPc s) {
            o.put("prediction", s.prediction() == PredictionType.DATA ? "data" : "noise");
            o.put("variant", s.variant().name().toLowerCase(Locale.ROOT));
            o.put("order", Integer.toString(s.order()));
        }
        return o;
    }

    /** The catalog name of a spec. */
    public static String nameOf(SolverSpec spec) {
        if (spec instanceof Ddim) {
            return "ddim";
        } else if (spec instanceof DpmSolver s) {
            return s.prediction() == PredictionType.DATA ? "dpmsolver++" : "dpmsolver";
        } else if (spec instanceof UniPc) {
            return "unipc";
        } else if (spec instanceof EdmEuler) {
            return "euler";
        } else if (spec instanceof EdmHeun) {
            return "heun";
        }
        throw new IllegalArgumentException("no catalog entry for " + spec);
    }

    private static String value(Descriptor d, Map<String, String> options, Parameter p) {
        String v = options.getOrDefault(p.name(), p.defaultValue()).trim().toLowerCase(Locale.ROOT);
        if (!p.allowed().isEmpty() && !p.allowed().contains(v)) {
            throw new IllegalArgumentException("solver " + d.name() + ": option '" + p.name() + "' must be one of "
                    + String.join(", ", p.allowed()) + ", got '" + options.get(p.name()) + "'");
        }
        return v;
    }
}
