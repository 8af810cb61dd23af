package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.iia.Iia;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The coefficient methods by name, each with its fitter (default settings) and the variants (base solver x
 * spacing) tried per NFE by {@link TunedMethods}.
 */
public final class MethodCatalog {
    private static final Map<String, TunedMethods.Method> METHODS = new LinkedHashMap<>();

    /** Grids every method is fitted on; Karras rho = 7 because the best untuned baselines use it (BENCHMARKS.md). */
    static final List<TimestepSpacing> SPACINGS = List.of(new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr(),
            new TimestepSpacing.Karras(7.0));

    /** DC-Solver on UniPC bh1/bh2 order 3 (the official setting) and DPM-Solver++ 2M (our extension). */
    private static final List<SolverSpec> DC_BASES = List.of(unipc(UniPc.Variant.BH1, 3),
            unipc(UniPc.Variant.BH2, 3), DpmSolver.plusPlusMultistep(2));

    /** The method name of an IIA form (job specs, the CLI, published configs). */
    static String methodName(Iia.Form form) {
        return switch (form) {
            case IIA_DDIM -> "iia-ddim";
            case IIA_DPMSOLVER_2M -> "iia-dpmsolver++2m";
            case IIA_EDM -> "iia-edm";
            case BIIA_EDM -> "biia-edm";
        };
    }

    static {
        for (Iia.Form form : Iia.Form.values()) {
            String name = methodName(form);
            add(new TunedMethods.Method(name,
                    (ctx, base, spacing, nfe) -> IiaFitter.fit(ctx, form, spacing, nfe,
                            IiaFitter.Settings.defaults().withSamples(ctx.rows())),
                    IiaFitter::spec, variants(List.of(form.base()))));
        }
        // ours: the same forms fitted against the teacher at the coarse times (as dode-teacher), not the fine local flow
        for (Iia.Form form : Iia.Form.values()) {
            String name = methodName(form) + "-teacher";
            add(new TunedMethods.Method(name,
                    (ctx, base, spacing, nfe) -> IiaFitter.fitToTeacher(ctx, form, spacing, nfe,
                            IiaFitter.Settings.defaults().withSamples(ctx.rows()), GridTeacher.DEFAULT_STEPS),
                    IiaFitter::spec, variants(List.of(form.base()))));
        }
        add(dcMethod("dc", DcFitter.Objective.NEXT_STEP, DcOptions.DEFAULT));
        add(dcMethod("dc-final", DcFitter.Objective.FINAL, DcOptions.DEFAULT));
        List<SolverSpec> dodeBases = List.of(new Ddim(), DpmSolver.plusPlusMultistep(2),
                DpmSolver.plusPlusMultistep(3), unipc(UniPc.Variant.BH1, 3), unipc(UniPc.Variant.BH2, 3));
        // official D-ODE: targets from the base solver with 10x the steps
        add(new TunedMethods.Method("dode", (ctx, base, spacing, nfe) -> DodeFitter.fit(ctx, base, spacing, nfe,
                DodeFitter.Settings.of(ctx.rows())), DodeFitter::spec, variants(dodeBases)));
        // ours: targets from a high-accuracy teacher at exactly the coarse times
        add(new TunedMethods.Method("dode-teacher", (ctx, base, spacing, nfe) -> DodeFitter.fit(ctx, base, spacing, nfe,
                DodeFitter.Settings.of(ctx.rows()).withTarget(DodeFitter.Target.TEACHER)), DodeFitter::spec,
                variants(dodeBases)));
    }

    /**
     * Options of the DC-Solver methods ({@code dc}, {@code dc-final}) that a run may change.
     *
     * @param lower lower bound of every compensation ratio (< 1)
     * @param upper upper bound of every compensation ratio (> 1)
     */
    public record DcOptions(double lower, double upper) {
        /** The fitter's defaults: [0.5, 1.5], the range of the official tanh parametrisation. */
        public static final DcOptions DEFAULT = new DcOptions(DcFitter.Settings.defaults().lower(),
                DcFitter.Settings.defaults().upper());

        public DcOptions {
            if (!(lower < 1.0) || !(upper > 1.0) || !Double.isFinite(lower) || !Double.isFinite(upper)) {
                throw new IllegalArgumentException("--dc-bounds: must satisfy lower < 1 < upper (finite), got "
                        + lower + ":" + upper);
            }
        }
    }

    /** The runnable solver of a fitted set, whatever method fitted it (e.g. a downloaded set). */
    public static SolverSpec spec(CoefficientSet set) {
        return switch (set.method()) {
            case IIA, BIIA -> IiaFitter.spec(set);
            case DODE -> DodeFitter.spec(set);
            case DC -> DcFitter.spec(set);
            case CONSISTENCY -> io.solvertune.numerics.solver.consistency.Consistency.fromTable(set.base(),
                    set.columns().size() + 1, set.values(), set.times());
            case TIMESTEPS -> set.base();
        };
    }

    private static TunedMethods.Method dcMethod(String name, DcFitter.Objective objective, DcOptions o) {
        return new TunedMethods.Method(name, (ctx, base, spacing, nfe) -> DcFitter.fit(ctx, base, spacing, nfe,
                DcFitter.Settings.defaults().withSamples(ctx.rows()).withObjective(objective)
                        .withBounds(o.lower(), o.upper())), DcFitter::spec, variants(DC_BASES));
    }

    private static void add(TunedMethods.Method m) {
        METHODS.put(m.name(), m);
    }

    static List<TunedMethods.Variant> variants(List<SolverSpec> bases) {
        List<TunedMethods.Variant> out = new ArrayList<>();
        for (SolverSpec b : bases) {
            for (TimestepSpacing s : SPACINGS) {
                out.add(new TunedMethods.Variant(b, s));
            }
        }
        return out;
    }

    private MethodCatalog() {
    }

    /** The method called {@code name}. */
    public static TunedMethods.Method method(String name) {
        TunedMethods.Method m = METHODS.get(name);
        if (m == null) {
            throw new IllegalArgumentException("--method: unknown method '" + name + "' (known: "
                    + String.join(", ", METHODS.keySet()) + ")");
        }
        return m;
    }

    /** The method called {@code name}, the DC-Solver methods with {@code dc}'s options. */
    public static TunedMethods.Method method(String name, DcOptions dc) {
        TunedMethods.Method m = method(name);
        if (dc == null || dc.equals(DcOptions.DEFAULT)) {
            return m;
        }
        return switch (name) {
            case "dc" -> dcMethod(name, DcFitter.Objective.NEXT_STEP, dc);
            case "dc-final" -> dcMethod(name, DcFitter.Objective.FINAL, dc);
            default -> m;
        };
    }

    /** Methods whose fitter runs on any base solver it supports (it refuses the others); the rest fix their base. */
    private static final java.util.Set<String> ANY_BASE = java.util.Set.of("dc", "dc-final", "dode", "dode-teacher");

    /**
     * Whether method {@code name} can be fitted on {@code base}: one of its own bases, or, for DC-Solver and D-ODE
     * (which take any base they support), any solver (the fit then refuses one it cannot run on).
     */
    public static boolean runsOn(String name, SolverSpec base) {
        return ANY_BASE.contains(name) || method(name).variants().stream().anyMatch(v -> v.base().equals(base));
    }

    /** Every method name. */
    public static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }

    /** Method names for picocli's completion candidates. */
    public static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return names().iterator();
        }
    }

    static SolverSpec unipc(UniPc.Variant v, int order) {
        return new UniPc(PredictionType.DATA, v, order);
    }
}
