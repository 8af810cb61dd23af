package io.solvertune.exports;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which consumer reproduces a config, and how: for every export format either the exact consumer call that runs the
 * config's validated solver on its grid (same model calls at the same noise levels, same orders, same final time)
 * or the reason there is none, with the formats that do reproduce it. Both the export endpoint and the listing of
 * a config's formats use this one function; it has no framework dependencies.
 *
 * <p>The rule: an export is offered only if the consumer's own algorithm, as its source reads at the commit named
 * in the call, performs the same arithmetic as our sampler given the stated arguments. Where the consumer computes
 * in float32 or rounds an input, the call says so. Coefficient methods (DC, IIA, BIIA, D-ODE) and DPM-Solver-v3 run
 * in no stock consumer: their stock exports are refused (a set whose coefficients are all neutral samples exactly
 * as its base solver and is exported as that base).
 */
public final class ExportRules {

    /** Upstream snapshots the calls were checked against. */
    static final String DIFFUSERS = "huggingface/diffusers@58eb52c";
    static final String K_DIFFUSION = "crowsonkb/k-diffusion@4601bf0";
    static final String COMFYUI = "comfyanonymous/ComfyUI (comfy/k_diffusion/sampling.py, comfy/samplers.py, "
            + "comfy/model_sampling.py, comfy_extras/nodes_custom_sampler.py as indexed in 2025-2026)";
    static final String DPM_SOLVER_V3 = "thu-ml/DPM-Solver-v3@ba16871";
    static final String DC_SOLVER = "wl-zhao/DC-Solver@f82d060";

    /** A network's time input may differ from ours by at most this many timestep units (0.1% of one step). */
    static final double TIME_TOLERANCE = 1e-3;

    private ExportRules() {
    }

    /** Every format's verdict for {@code s}, refusals carrying the formats that work. */
    public static List<ExportSupport> all(ExportSubject s) {
        List<ExportSupport> raw = new ArrayList<>();
        for (ExportFormat f : ExportFormat.values()) {
            raw.add(raw(f, s));
        }
        List<ExportFormat> working = raw.stream().filter(ExportSupport::isSupported).map(ExportSupport::format)
                .toList();
        List<ExportSupport> out = new ArrayList<>();
        for (ExportSupport e : raw) {
            out.add(e.isSupported() ? e : e.withAlternatives(working));
        }
        return out;
    }

    /** The verdict of one format (refusals carry the formats that work). */
    public static ExportSupport decide(ExportFormat f, ExportSubject s) {
        return all(s).get(f.ordinal());
    }

    static ExportSupport raw(ExportFormat f, ExportSubject s) {
        try {
            return switch (f) {
                case JSON -> ExportSupport.supported(f, json(s));
                case DIFFUSERS -> DiffusersRule.support(s);
                case K_DIFFUSION -> SigmaListRules.kDiffusion(s);
                case COMFYUI -> SigmaListRules.comfyUi(s);
                case DPMSOLVER_V3 -> OfficialRules.dpmSolverV3(s);
                case DC_RATIOS -> OfficialRules.dcRatios(s);
                case DC_CPR -> OfficialRules.dcCpr(s);
            };
        } catch (IllegalArgumentException e) {
            return ExportSupport.refused(f, "cannot state an exact call for this config: " + e.getMessage() + ".");
        }
    }

    private static ConsumerCall json(ExportSubject s) {
        return new ConsumerCall("solvertune", "the native config document (values: solver, options and the exact "
                + "grid times)", java.util.Map.of(), "GET /api/v1/configs/{id}  # runs in solvertune's own samplers "
                + "(java -jar quarkus-run.jar evaluate --set / sample)", 1.0, 1.0, null,
                List.of("the document is the config itself: every solver, coefficient and grid time, in double "
                        + "precision"), List.of());
    }

    // ---- the run a stock consumer has to reproduce -------------------------------------------------------------------

    /** The run and plan of a stock export, or the refusal. */
    record Stock(SamplerConfig run, EvaluationPlan plan, List<String> notes, String refusal) {
        boolean refused() {
            return refusal != null;
        }
    }

    /** The stock run of {@code s} for a consumer called {@code consumer}, with its plan checked against the grid. */
    static Stock stock(ExportSubject s, String consumer) {
        SamplerConfig run = s.stockRun();
        if (run == null) {
            if (s.kind() == ExportSubject.Kind.DPMSOLVER_V3) {
                return refusal("DPM-Solver-v3 needs its statistics (l, s, b) at every step; " + consumer
                        + " has no DPM-Solver-v3 and would run a different solver on this grid (the official code "
                        + "reads the dpmsolver-v3 export).");
            }
            SolverSpec base = s.set().base();
            return refusal(s.set().method().name().toLowerCase(Locale.ROOT) + " coefficients change every step of "
                    + base.label() + "; " + consumer + " has no such solver and would run plain " + base.label()
                    + " on this grid, not the validated solver (solvertune's own samplers read the json export).");
        }
        EvaluationPlan plan;
        try {
            plan = s.plan(run);
        } catch (IllegalArgumentException e) {
            return refusal("the solver's grid cannot be rebuilt (" + e.getMessage() + ").");
        }
        double[] g = plan.grid();
        double[] t = s.times();
        if (g.length != t.length) {
            return refusal("the stored grid has " + (t.length - 1) + " steps but the solver builds " + (g.length - 1)
                    + ".");
        }
        for (int i = 0; i < g.length; i++) {
            if (Math.abs(g[i] - t[i]) > 1e-12 * Math.max(1.0, Math.abs(t[i]))) {
                return refusal("the stored grid differs from the grid the solver builds at step " + i + " ("
                        + t[i] + " vs " + g[i] + ").");
            }
        }
        List<String> notes = new ArrayList<>();
        if (s.kind() == ExportSubject.Kind.COEFFICIENTS) {
            notes.add("every " + s.set().method().name().toLowerCase(Locale.ROOT) + " coefficient of this set is "
                    + "neutral, so it samples exactly as its base solver " + run.solver().label());
        }
        return new Stock(run, plan, notes, null);
    }

    private static Stock refusal(String why) {
        return new Stock(null, null, List.of(), why);
    }

    // ---- shared numerics -------------------------------------------------------------------------------------------

    /** Whether the run's solver is first order at every step (DDIM, Euler, first-order DPM-Solver). */
    static boolean firstOrder(SamplerConfig run, EvaluationPlan plan) {
        SolverSpec spec = run.solver();
        if (spec instanceof Ddim || spec instanceof EdmEuler) {
            return true;
        }
        if (spec instanceof DpmSolver) {
            for (int o : plan.orders()) {
                if (o != 1) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The VE noise level {@code sigma/alpha = exp(-lambda)} of time {@code t} (k-diffusion, ComfyUI and diffusers'
     * VP sigma), or the flow's {@code t} itself.
     */
    static double sigma(NoiseSchedule s, double t) {
        if (s instanceof RectifiedFlowSchedule) {
            return t;
        }
        return Math.exp(-s.lambda(t));
    }

    static double[] sigmas(NoiseSchedule s, double[] times) {
        double[] out = new double[times.length];
        for (int i = 0; i < times.length; i++) {
            out[i] = sigma(s, times[i]);
        }
        return out;
    }

    static double[] modelTimes(NoiseSchedule s, double[] times) {
        double[] out = new double[times.length];
        for (int i = 0; i < times.length; i++) {
            out[i] = s.modelInputTime(times[i]);
        }
        return out;
    }

    /** Whether every value is an integer (to 1e-9). */
    static boolean integral(double[] a) {
        for (double v : a) {
            if (Math.abs(v - Math.rint(v)) > 1e-9) {
                return false;
            }
        }
        return true;
    }

    static long[] rounded(double[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Math.round(a[i]);
        }
        return out;
    }

    /**
     * The fractional timestep index a discrete consumer derives from a noise level by interpolating linearly in log
     * sigma between the integer timesteps (diffusers' {@code _sigma_to_t}, k-diffusion's
     * {@code DiscreteSchedule.sigma_to_t}); ours is {@code N' t - 1}, with log alpha linear in t between them.
     */
    static double logSigmaIndex(VpDiscreteSchedule vp, double t) {
        int n = vp.gridSize();
        double logSigma = -vp.lambda(t);
        // log sigma increases with the index; find k with logSigma(k) <= logSigma <= logSigma(k + 1)
        int lo = 0;
        int hi = n - 1;
        double lLo = -vp.lambda(1.0 / n);
        double lHi = -vp.lambda(1.0);
        if (logSigma <= lLo) {
            return 0.0;
        }
        if (logSigma >= lHi) {
            return n - 1.0;
        }
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            double lm = -vp.lambda((mid + 1.0) / n);
            if (lm <= logSigma) {
                lo = mid;
                lLo = lm;
            } else {
                hi = mid;
                lHi = lm;
            }
        }
        return lo + (logSigma - lLo) / (lHi - lLo);
    }

    static double maxDeviation(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static double[] concat(double[] a, double... b) {
        double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static double[] slice(double[] a, int from, int to) {
        return java.util.Arrays.copyOfRange(a, from, to);
    }

    /** {@code sqrt(alpha^2 + sigma^2)} at {@code t}: the scale of our x_T (1 for VP models). */
    static double noiseScale(NoiseSchedule s, double t) {
        double a = s.alpha(t);
        double g = s.sigma(t);
        double scale = Math.sqrt(a * a + g * g);
        return Math.abs(scale - 1.0) < 1e-12 ? 1.0 : scale;
    }

    static String schedName(NoiseSchedule s) {
        return s.spec().getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }
}
