package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.iia.Iia;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.MethodId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The coefficient methods ({@link MethodId.Kind#COEFFICIENTS}), each with its fitter (default settings) and the
 * variants (base solver x spacing) tried per NFE by {@link TunedMethods}.
 */
public final class MethodCatalog {
    private static final Map<MethodId, TunedMethods.Method> METHODS = new EnumMap<>(MethodId.class);

    /** Grids every method is fitted on; Karras rho = 7 because the best untuned baselines use it (BENCHMARKS.md). */
    static final List<TimestepSpacing> SPACINGS = List.of(new TimestepSpacing.TimeUniform(), new TimestepSpacing.LogSnr(),
            new TimestepSpacing.Karras(7.0));

    /** DC-Solver on UniPC bh1/bh2 order 3 (the official setting) and DPM-Solver++ 2M (our extension). */
    private static final List<SolverSpec> DC_BASES = List.of(unipc(UniPc.Variant.BH1, 3),
            unipc(UniPc.Variant.BH2, 3), DpmSolver.plusPlusMultistep(2));

    /** The method of an IIA form (job specs, the CLI, published configs). */
    static MethodId methodName(Iia.Form form) {
        return switch (form) {
            case IIA_DDIM -> MethodId.IIA_DDIM;
            case IIA_DPMSOLVER_2M -> MethodId.IIA_DPMSOLVER_2M;
            case IIA_EDM -> MethodId.IIA_EDM;
            case BIIA_EDM -> MethodId.BIIA_EDM;
        };
    }

    /** The method of an IIA form fitted against the teacher. */
    static MethodId teacherMethodName(Iia.Form form) {
        return switch (form) {
            case IIA_DDIM -> MethodId.IIA_DDIM_TEACHER;
            case IIA_DPMSOLVER_2M -> MethodId.IIA_DPMSOLVER_2M_TEACHER;
            case IIA_EDM -> MethodId.IIA_EDM_TEACHER;
            case BIIA_EDM -> MethodId.BIIA_EDM_TEACHER;
        };
    }

    static {
        for (Iia.Form form : Iia.Form.values()) {
            String name = methodName(form).id();
            add(new TunedMethods.Method(name,
                    (ctx, base, spacing, nfe) -> IiaFitter.fit(ctx, form, spacing, nfe,
                            IiaFitter.Settings.defaults().withSamples(ctx.rows())),
                    IiaFitter::spec, variants(List.of(form.base()))));
        }
        // ours: the same forms fitted against the teacher at the coarse times (as dode-teacher), not the fine local flow
        for (Iia.Form form : Iia.Form.values()) {
            String name = teacherMethodName(form).id();
            add(new TunedMethods.Method(name,
                    (ctx, base, spacing, nfe) -> IiaFitter.fitToTeacher(ctx, form, spacing, nfe,
                            IiaFitter.Settings.defaults().withSamples(ctx.rows()), GridTeacher.DEFAULT_STEPS),
                    IiaFitter::spec, variants(List.of(form.base()))));
        }
        add(dcMethod(MethodId.DC, DcFitter.Objective.NEXT_STEP, DcOptions.DEFAULT));
        add(dcMethod(MethodId.DC_FINAL, DcFitter.Objective.FINAL, DcOptions.DEFAULT));
        List<SolverSpec> dodeBases = List.of(new Ddim(), DpmSolver.plusPlusMultistep(2),
                DpmSolver.plusPlusMultistep(3), unipc(UniPc.Variant.BH1, 3), unipc(UniPc.Variant.BH2, 3));
        // official D-ODE: targets from the base solver with 10x the steps
        add(new TunedMethods.Method(MethodId.DODE.id(), (ctx, base, spacing, nfe) -> DodeFitter.fit(ctx, base, spacing, nfe,
                DodeFitter.Settings.of(ctx.rows())), DodeFitter::spec, variants(dodeBases)));
        // ours: targets from a high-accuracy teacher at exactly the coarse times
        add(new TunedMethods.Method(MethodId.DODE_TEACHER.id(), (ctx, base, spacing, nfe) -> DodeFitter.fit(ctx, base, spacing, nfe,
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

    private static TunedMethods.Method dcMethod(MethodId id, DcFitter.Objective objective, DcOptions o) {
        return new TunedMethods.Method(id.id(), (ctx, base, spacing, nfe) -> DcFitter.fit(ctx, base, spacing, nfe,
                DcFitter.Settings.defaults().withSamples(ctx.rows()).withObjective(objective)
                        .withBounds(o.lower(), o.upper())), DcFitter::spec, variants(DC_BASES));
    }

    private static void add(TunedMethods.Method m) {
        MethodId id = MethodId.parse(m.name());
        if (id.kind() != MethodId.Kind.COEFFICIENTS) {
            throw new IllegalStateException(id + " is no coefficient method");
        }
        METHODS.put(id, m);
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

    /** The coefficient method {@code id}. */
    public static TunedMethods.Method method(MethodId id) {
        TunedMethods.Method m = METHODS.get(id);
        if (m == null) {
            throw new IllegalArgumentException("--method: " + id + " is no coefficient method (known: "
                    + String.join(", ", names()) + ")");
        }
        return m;
    }

    /** The method called {@code name}. */
    public static TunedMethods.Method method(String name) {
        MethodId id = MethodId.of(name);
        if (id == null || !METHODS.containsKey(id)) {
            throw new IllegalArgumentException("--method: unknown method '" + name + "' (known: "
                    + String.join(", ", names()) + ")");
        }
        return METHODS.get(id);
    }

    /** The method called {@code name}, the DC-Solver methods with {@code dc}'s options. */
    public static TunedMethods.Method method(String name, DcOptions dc) {
        method(name);
        return method(MethodId.of(name), dc);
    }

    /** The coefficient method {@code id}, the DC-Solver methods with {@code dc}'s options. */
    public static TunedMethods.Method method(MethodId id, DcOptions dc) {
        TunedMethods.Method m = method(id);
        if (dc == null || dc.equals(DcOptions.DEFAULT)) {
            return m;
        }
        return switch (id) {
            case DC -> dcMethod(id, DcFitter.Objective.NEXT_STEP, dc);
            case DC_FINAL -> dcMethod(id, DcFitter.Objective.FINAL, dc);
            default -> m;
        };
    }

    /** Methods whose fitter runs on any base solver it supports (it refuses the others); the rest fix their base. */
    private static final java.util.Set<MethodId> ANY_BASE = java.util.EnumSet.of(MethodId.DC, MethodId.DC_FINAL,
            MethodId.DODE, MethodId.DODE_TEACHER);

    /**
     * Whether method {@code id} can be fitted on {@code base}: one of its own bases, or, for DC-Solver and D-ODE
     * (which take any base they support), any solver (the fit then refuses one it cannot run on).
     */
    public static boolean runsOn(MethodId id, SolverSpec base) {
        return ANY_BASE.contains(id) || method(id).variants().stream().anyMatch(v -> v.base().equals(base));
    }

    /** Every coefficient method. */
    public static List<MethodId> ids() {
        return List.copyOf(METHODS.keySet());
    }

    /** Every coefficient method's id. */
    public static List<String> names() {
        return MethodId.ids(ids());
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
