package io.solvertune.exports;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.unipc.UniPc;
import static io.solvertune.exports.ExportRules.COMFYUI;
import static io.solvertune.exports.ExportRules.K_DIFFUSION;

import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * k-diffusion and ComfyUI: sampler functions on explicit sigma lists. Both run in VE variables
 * ({@code x~ = x / alpha}, {@code sigma~ = sigma / alpha = exp(-lambda)}); a flow model keeps its own state with
 * {@code sigma = t}, where only the Euler step coincides with ours (an Euler step in t on a flow is exactly DDIM).
 *
 * <p>Read from {@code k_diffusion/sampling.py} at {@value ExportRules#K_DIFFUSION} and ComfyUI's copy
 * ({@code comfy/k_diffusion/sampling.py}, identical for these samplers on non-flow models):
 * <ul>
 *   <li>{@code sample_euler} (s_churn 0): Euler in sigma = DDIM = first-order DPM-Solver;</li>
 *   <li>{@code sample_heun}: EDM Heun, Euler only when the next sigma is 0;</li>
 *   <li>{@code sample_dpmpp_2m}: DPM-Solver++(2M) midpoint, first order at the first step and when the next sigma
 *       is 0; no lower-order final step, so a lowered last step is run as a separate {@code sample_euler} call on
 *       the last two sigmas (one model call, exactly our first-order last step);</li>
 *   <li>{@code sample_dpmpp_2m_sde(eta=0, solver_type='heun')}: the taylor 2M update; {@code sample_dpmpp_3m_sde
 *       (eta=0)}: 3M whose second (warm-up) step uses the phi_2 (taylor) update;</li>
 *   <li>{@code sample_dpmpp_2s_ancestral(eta=0)}: DPM-Solver++(2S) with its inner point at r = 1/2 in log sigma
 *       (= half log-SNR); {@code sample_dpm_2}: DPM-Solver-2 (noise prediction) at the geometric-mean sigma;</li>
 *   <li>{@code sample_dpm_fast(sigma_min, sigma_max, n, eta=0)}: DPM-Solver-fast: noise prediction, {@code
 *       floor(n/3) + 1} steps uniform in log sigma, orders {@code [3]*..+[2, 1]} or {@code [3]*..+[n % 3]},
 *       r = 1/3, 2/3 (order 3) and 1/2 (order 2) — our singlestep noise-prediction order 3 on a logSNR grid.</li>
 * </ul>
 * ComfyUI ({@code comfy/samplers.py} KSAMPLER): the initial noise is scaled by {@code sqrt(1 + sigma_0^2)} when the
 * first sigma is the model's {@code sigma_max} (ours: the VP noise in VE units), by {@code sigma_0} otherwise;
 * ManualSigmas parses {@code [-+]?(?:\d*\.*\d+)} into a float32 tensor; a discrete model's network receives the
 * integer timestep whose log sigma is nearest ({@code ModelSamplingDiscrete.timestep}).
 */
final class SigmaListRules {
    private SigmaListRules() {
    }

    /** One sampler function call on a sigma list ({@code dpm_fast}: only the list's ends and length count). */
    record Stage(String sampler, double[] sigmas, Map<String, Object> kwargs) {
    }

    /** The stages, or a refusal. */
    record Stages(List<Stage> stages, List<String> notes, String refusal) {
    }

    static Stages stages(ExportSubject s, ExportRules.Stock st, String consumer) {
        SamplerConfig run = st.run();
        EvaluationPlan plan = st.plan();
        NoiseSchedule ns = s.schedule();
        boolean flow = ns instanceof RectifiedFlowSchedule;
        double[] grid = plan.grid();
        double[] sig = ExportRules.sigmas(ns, grid);
        int n = plan.steps();
        int[] orders = plan.orders();
        SolverSpec spec = run.solver();
        List<Stage> out = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (ExportRules.firstOrder(run, plan)) {
            out.add(new Stage("sample_euler", sig, Map.of()));
            notes.add("an Euler step in sigma is exactly a DDIM / first-order DPM-Solver step");
        } else if (flow) {
            return refuse(consumer + " runs a flow model in sigma = t, where only the Euler step coincides with "
                    + spec.label() + " (the higher-order updates use log sigma, not the flow's half log-SNR).");
        } else if (spec instanceof EdmHeun) {
            out.add(new Stage("sample_heun", sig, Map.of()));
        } else if (spec instanceof DpmSolver d && d.method() == DpmSolver.Method.MULTISTEP) {
            if (d.prediction() != PredictionType.DATA) {
                return refuse(consumer + " has no deterministic multistep noise-prediction DPM-Solver (its multistep "
                        + "samplers are DPM-Solver++, data prediction).");
            }
            if (d.order() == 2) {
                String fn = d.solverType() == DpmSolver.SolverType.TAYLOR ? "sample_dpmpp_2m_sde" : "sample_dpmpp_2m";
                Map<String, Object> kw = fn.equals("sample_dpmpp_2m") ? Map.of()
                        : orderedMap("eta", 0.0, "solver_type", "heun");
                boolean lowered = orders[n - 1] == 1;
                int upTo = lowered ? n - 1 : n;
                if (!isMultistepPlan(Arrays.copyOf(orders, upTo), 2)) {
                    return refuse("this config's order plan " + Arrays.toString(orders) + " is not the "
                            + "first-order-then-second-order plan of " + fn + ".");
                }
                out.add(new Stage(fn, ExportRules.slice(sig, 0, upTo + 1), kw));
                if (lowered) {
                    out.add(new Stage("sample_euler", ExportRules.slice(sig, n - 1, n + 1), Map.of()));
                    notes.add("the config lowers its last step to first order (official lower_order_final below 10 "
                            + "steps), which " + fn + " never does: the last step is a separate sample_euler call on "
                            + "the last two sigmas (one model call, the same first-order update)");
                }
            } else {
                if (d.solverType() != DpmSolver.SolverType.TAYLOR) {
                    return refuse(consumer + "'s sample_dpmpp_3m_sde takes its second (warm-up) step with the phi_2 "
                            + "(taylor) update; this config's solver_type dpmsolver uses the midpoint one.");
                }
                if (!isMultistepPlan(orders, 3)) {
                    return refuse(consumer + "'s sample_dpmpp_3m_sde has no lower-order final steps; this config "
                            + "runs orders " + Arrays.toString(orders) + ".");
                }
                out.add(new Stage("sample_dpmpp_3m_sde", sig, orderedMap("eta", 0.0)));
            }
        } else if (spec instanceof DpmSolver d) {
            Stages single = singlestep(s, plan, d, sig, consumer);
            if (single.refusal() != null) {
                return single;
            }
            out.addAll(single.stages());
            notes.addAll(single.notes());
        } else {
            return refuse(consumer + " has no " + spec.label() + " sampler"
                    + (spec instanceof UniPc ? " with this grid and order plan (its UniPC samplers fix "
                    + "order 3 and convert sigmas to times their own way)" : "") + ".");
        }
        if (run.denoiseToZero()) {
            Stage last = out.get(out.size() - 1);
            if (last.sampler().equals("sample_dpm_fast")) {
                return refuse("sample_dpm_fast cannot end with the extra denoising call of denoise_to_zero.");
            }
            out.set(out.size() - 1, new Stage(last.sampler(), ExportRules.concat(last.sigmas(), 0.0),
                    last.kwargs()));
            notes.add("the list ends with sigma 0: the step to 0 returns the denoised prediction at the last noise "
                    + "level, exactly the config's denoise_to_zero call");
        }
        return new Stages(out, notes, null);
    }

    private static Stages singlestep(ExportSubject s, EvaluationPlan plan, DpmSolver d, double[] sig,
                                     String consumer) {
        int[] orders = plan.orders();
        int n = plan.steps();
        double[][] r = plan.innerRatios();
        boolean midpoint = d.solverType() == DpmSolver.SolverType.DPMSOLVER;
        boolean hasThird = Arrays.stream(orders).anyMatch(o -> o == 3);
        if (!midpoint) {
            return refuse(consumer + "'s singlestep samplers use the midpoint (dpmsolver) update; this config uses "
                    + "taylor.");
        }
        if (hasThird) {
            if (d.prediction() != PredictionType.NOISE) {
                return refuse(consumer + " has no third-order singlestep DPM-Solver++ (data prediction).");
            }
            if (!(s.run().spacing() instanceof TimestepSpacing.LogSnr)) {
                return refuse("sample_dpm_fast builds its own grid, uniform in log sigma; this config's "
                        + s.run().spacing().id() + " grid is not.");
            }
            int nfe = plan.nfe();
            int m = nfe / 3 + 1;
            int[] fast = new int[m];
            Arrays.fill(fast, 3);
            if (nfe % 3 == 0) {
                fast[m - 2] = 2;
                fast[m - 1] = 1;
            } else {
                fast[m - 1] = nfe % 3;
            }
            if (!Arrays.equals(fast, orders)) {
                return refuse("sample_dpm_fast's order plan " + Arrays.toString(fast) + " differs from this config's "
                        + Arrays.toString(orders) + ".");
            }
            for (int i = 0; i < n; i++) {
                double want1 = orders[i] == 3 ? 1.0 / 3 : 0.5;
                if (orders[i] >= 2 && Math.abs(r[i][0] - want1) > 1e-9
                        || orders[i] == 3 && Math.abs(r[i][1] - 2.0 / 3) > 1e-9) {
                    return refuse("sample_dpm_fast puts its inner points at r = 1/3, 2/3 (order 3) and 1/2 (order "
                            + "2) in log sigma; this config's step " + (i + 1) + " has r1 = " + r[i][0] + ".");
                }
            }
            double l0 = Math.log(sig[0]);
            double l1 = Math.log(sig[n]);
            for (int i = 0; i <= n; i++) {
                double u = l0 + (l1 - l0) * i / n;
                if (Math.abs(u - Math.log(sig[i])) > 1e-9 * Math.max(1.0, Math.abs(u))) {
                    return refuse("sample_dpm_fast's steps are uniform in log sigma; this config's outer grid is "
                            + "not (step " + i + ").");
                }
            }
            double[] full = TimestepSpacing.named("logSNR", 7.0).times(s.schedule(), s.tStart(), s.tEnd(), nfe);
            return new Stages(List.of(new Stage("sample_dpm_fast", ExportRules.sigmas(s.schedule(), full),
                    orderedMap("sigma_min", sig[n], "sigma_max", sig[0], "n", nfe, "eta", 0.0))),
                    List.of("sample_dpm_fast(sigma_min, sigma_max, n) rebuilds this config's "
                            + n + " outer steps (uniform in log sigma) and order plan " + Arrays.toString(orders)
                            + " from the two end sigmas and the NFE; it wraps them with torch.tensor, so run with "
                            + "torch.set_default_dtype(torch.float64) to keep double precision"), null);
        }
        for (int i = 0; i < n; i++) {
            if (orders[i] == 1 && i != n - 1) {
                return refuse("this config has a first-order step inside its singlestep plan "
                        + Arrays.toString(orders) + ", which " + consumer + " cannot interleave.");
            }
            if (orders[i] == 2 && Math.abs(r[i][0] - 0.5) > 1e-9) {
                return refuse(consumer + "'s " + (d.prediction() == PredictionType.DATA ? "sample_dpmpp_2s_ancestral"
                        : "sample_dpm_2") + " puts the inner point at r = 1/2 in log sigma (the geometric mean); "
                        + "this config's " + s.run().spacing().id() + " spacing puts it at r1 = "
                        + DiffusersRule.fmt(r[i][0]) + " (step " + (i + 1) + ").");
            }
        }
        boolean lowered = orders[n - 1] == 1;
        int upTo = lowered ? n - 1 : n;
        String fn = d.prediction() == PredictionType.DATA ? "sample_dpmpp_2s_ancestral" : "sample_dpm_2";
        List<Stage> out = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (upTo > 0) {
            out.add(new Stage(fn, ExportRules.slice(sig, 0, upTo + 1), fn.equals("sample_dpm_2") ? Map.of()
                    : orderedMap("eta", 0.0)));
            notes.add(fn + " evaluates its inner point at the geometric mean of the two sigmas, r = 1/2 in half "
                    + "log-SNR, which is where this config's logSNR inner spacing puts it");
        }
        if (lowered) {
            out.add(new Stage("sample_euler", ExportRules.slice(sig, n - 1, n + 1), Map.of()));
            notes.add("the plan's final first-order interval (odd NFE) is a separate sample_euler call on the last "
                    + "two sigmas");
        }
        return new Stages(out, notes, null);
    }

    /** Whether {@code orders} is {@code [1, 2, ..., order, order, ...]} (warm-up, then the full order). */
    private static boolean isMultistepPlan(int[] orders, int order) {
        for (int i = 0; i < orders.length; i++) {
            if (orders[i] != Math.min(i + 1, order)) {
                return false;
            }
        }
        return true;
    }

    private static Stages refuse(String why) {
        return new Stages(null, null, why);
    }

    static Map<String, Object> orderedMap(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    /**
     * Where the consumer's state starts and ends relative to ours: VE consumers start from {@code x_T / alpha(t0)}
     * and end in {@code x / alpha(tEnd)}; a flow stays in its own state, except that ComfyUI's flow sampling
     * ({@code CONST.inverse_noise_scaling}) divides the final latent by {@code 1 - sigma_end}.
     */
    private static double[] scales(ExportSubject s, boolean denoise, boolean comfy) {
        NoiseSchedule ns = s.schedule();
        double t0 = s.tStart();
        if (ns instanceof RectifiedFlowSchedule) {
            return new double[] {1.0, comfy && !denoise ? ns.alpha(s.tEnd()) : 1.0};
        }
        return new double[] {1.0 / ns.alpha(t0), denoise ? 1.0 : ns.alpha(s.tEnd())};
    }

    /** The times the network receives, ours and the consumer's, at every model call. */
    private static ConsumerCall.ModelTime time(ExportSubject s, EvaluationPlan plan, List<Stage> stages,
                                               boolean comfy) {
        NoiseSchedule ns = s.schedule();
        double[] evals = plan.evaluations();
        double[] ours = ExportRules.modelTimes(ns, evals);
        if (!(ns instanceof VpDiscreteSchedule vp)) {
            return new ConsumerCall.ModelTime(comfy ? "ComfyUI's model_sampling.timestep(sigma) of the loaded model "
                    + "(continuous: EDM 0.25 log sigma, flow sigma or 1000 sigma)" : "the denoiser receives sigma; "
                    + "wrap the network so it receives t(sigma), the schedule's continuous time", ours, ours, 0.0);
        }
        double[] theirs = new double[evals.length];
        for (int i = 0; i < evals.length; i++) {
            theirs[i] = comfy ? nearestLogSigma(vp, evals[i]) : ours[i];
        }
        double dev = ExportRules.maxDeviation(ours, theirs);
        if (comfy) {
            return new ConsumerCall.ModelTime("ComfyUI's ModelSamplingDiscrete.timestep(sigma): the integer "
                    + "timestep whose log sigma is nearest (ours: N' t - 1, fractional between integers)", ours, theirs,
                    dev);
        }
        double interp = 0;
        for (double e : evals) {
            interp = Math.max(interp, Math.abs(ExportRules.logSigmaIndex(vp, e) - ns.modelInputTime(e)));
        }
        return new ConsumerCall.ModelTime("the denoiser receives sigma; the wrapper in the code maps it back to "
                + "the timestep our sampler used, N' t(sigma) - 1 with log alpha linear in t between the training "
                + "timesteps (k_diffusion.external.CompVisDenoiser's sigma_to_t interpolates log sigma instead: up "
                + "to " + DiffusersRule.fmt(interp) + " timesteps off on this grid)", ours, theirs, dev);
    }

    /** {@code ModelSamplingDiscrete.timestep}: argmin over integer timesteps of |log sigma - log sigma_k|. */
    static double nearestLogSigma(VpDiscreteSchedule vp, double t) {
        double x = ExportRules.logSigmaIndex(vp, t);
        int lo = (int) Math.floor(x);
        int hi = Math.min(lo + 1, vp.gridSize() - 1);
        double ls = -vp.lambda(t);
        double dLo = Math.abs(ls + vp.lambda((lo + 1.0) / vp.gridSize()));
        double dHi = Math.abs(ls + vp.lambda((hi + 1.0) / vp.gridSize()));
        return dHi < dLo ? hi : lo;
    }

    // ---- k-diffusion ------------------------------------------------------------------------------------------------

    static ExportSupport kDiffusion(ExportSubject s) {
        ExportRules.Stock st = ExportRules.stock(s, "k-diffusion");
        if (st.refused()) {
            return ExportSupport.refused(ExportFormat.K_DIFFUSION, st.refusal());
        }
        NoiseSchedule ns = s.schedule();
        if (!(ns instanceof VpSchedule || ns instanceof EdmSchedule || ns instanceof RectifiedFlowSchedule)) {
            return ExportSupport.refused(ExportFormat.K_DIFFUSION, "no sigma space for a "
                    + ExportRules.schedName(ns) + " schedule.");
        }
        Stages stg = stages(s, st, "k-diffusion");
        if (stg.refusal() != null) {
            return ExportSupport.refused(ExportFormat.K_DIFFUSION, stg.refusal());
        }
        boolean flow = ns instanceof RectifiedFlowSchedule;
        double[] sc = scales(s, st.run().denoiseToZero(), false);
        List<Map<String, Object>> calls = new ArrayList<>();
        List<String> code = new ArrayList<>();
        code.add("import torch");
        code.add("from k_diffusion import sampling");
        code.add("torch.set_default_dtype(torch.float64)  # the lists are float64; so is the reproduction");
        if (ns instanceof VpDiscreteSchedule vp) {
            code.add("import numpy as np");
            code.add("# the network's timestep at sigma, as our sampler passed it (log alpha linear in t between the "
                    + vp.gridSize() + " kept training timesteps)");
            code.add("log_alpha = 0.5 * np.log(alphas_cumprod[:" + vp.gridSize() + "])  # the model's training "
                    + "alphas_cumprod");
            code.add("t_grid = np.arange(1, " + (vp.gridSize() + 1) + ") / " + vp.gridSize());
            code.add("def timestep(sigma):");
            code.add("    t = np.interp(-0.5 * np.log1p(sigma ** 2), log_alpha[::-1], t_grid[::-1])");
            code.add("    return t * " + vp.gridSize() + " - 1");
            code.add("def denoiser(x, sigma):  # k-diffusion's model(x, sigma) -> x0 on the VE state x = x_vp / alpha");
            code.add("    alpha = (1 + sigma ** 2) ** -0.5");
            code.add("    return data_prediction(x * alpha, timestep(sigma))  # your network's x0 prediction (with "
                    + "guidance " + Py.num(s.guidance()) + ")");
        } else if (flow) {
            code.add("def denoiser(x, sigma):  # the flow state itself, sigma = t");
            code.add("    return data_prediction(x, sigma)  # your network's x0 prediction at flow time sigma");
        } else {
            code.add("def denoiser(x, sigma):  # k-diffusion's model(x, sigma) -> x0 on the VE state x = x_vp / alpha");
            code.add("    return data_prediction(x * alpha_of(sigma), time_of(sigma))  # the schedule's alpha and "
                    + "time at this sigma");
        }
        code.add("x = x_T * " + Py.num(sc[0]) + (flow ? "  # the initial flow state" : "  # x_T / alpha(t_start): "
                + "our initial state in VE units"));
        for (Stage st2 : stg.stages()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("sampler", st2.sampler());
            if (st2.sampler().equals("sample_dpm_fast")) {
                c.putAll(st2.kwargs());
                code.add("x = sampling.sample_dpm_fast(denoiser, x, " + Py.kwargs(st2.kwargs()) + ")");
            } else {
                c.put("sigmas", st2.sigmas());
                c.put("kwargs", st2.kwargs());
                code.add("x = sampling." + st2.sampler() + "(denoiser, x, torch.tensor(" + Py.list(st2.sigmas())
                        + ")" + (st2.kwargs().isEmpty() ? "" : ", " + Py.kwargs(st2.kwargs())) + ")");
            }
            calls.add(c);
        }
        code.add("x_end = x * " + Py.num(sc[1]) + "  # the config's final state"
                + (sc[1] == 1.0 ? "" : " (VE -> VP: times alpha at the end time)"));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("sigmaSpace", flow ? "flow: sigma = t (x_t = (1 - t) x0 + t eps)"
                : "ve: sigma = sigma_t / alpha_t = exp(-lambda_t), state x / alpha_t");
        args.put("calls", calls);
        List<String> notes = new ArrayList<>(st.notes());
        notes.addAll(stg.notes());
        notes.add("the sigma lists end at the config's end noise level, not at 0" + (st.run().denoiseToZero()
                ? " (then 0 for denoise_to_zero)" : ": a trailing 0 would add a model call and change the end state"));
        return ExportSupport.supported(ExportFormat.K_DIFFUSION, new ConsumerCall("k-diffusion",
                String.join(" + ", stg.stages().stream().map(Stage::sampler).toList()), args, String.join("\n", code),
                sc[0], sc[1], time(s, st.plan(), stg.stages(), false), notes,
                List.of(K_DIFFUSION + ":k_diffusion/sampling.py", K_DIFFUSION + ":k_diffusion/external.py")));
    }

    // ---- ComfyUI ----------------------------------------------------------------------------------------------------

    /** ComfyUI's sampler node for a k-diffusion function (deterministic settings). */
    static Map<String, Object> comfySampler(Stage st) {
        return switch (st.sampler()) {
            case "sample_euler" -> orderedMap("class_type", "KSamplerSelect", "inputs",
                    orderedMap("sampler_name", "euler"));
            case "sample_heun" -> orderedMap("class_type", "KSamplerSelect", "inputs",
                    orderedMap("sampler_name", "heun"));
            case "sample_dpmpp_2m" -> orderedMap("class_type", "KSamplerSelect", "inputs",
                    orderedMap("sampler_name", "dpmpp_2m"));
            case "sample_dpm_2" -> orderedMap("class_type", "KSamplerSelect", "inputs",
                    orderedMap("sampler_name", "dpm_2"));
            case "sample_dpm_fast" -> orderedMap("class_type", "KSamplerSelect", "inputs",
                    orderedMap("sampler_name", "dpm_fast"));
            case "sample_dpmpp_2s_ancestral" -> orderedMap("class_type", "SamplerDPMPP_2S_Ancestral", "inputs",
                    orderedMap("eta", 0.0, "s_noise", 1.0));
            case "sample_dpmpp_2m_sde" -> orderedMap("class_type", "SamplerDPMPP_2M_SDE", "inputs",
                    orderedMap("solver_type", "heun", "eta", 0.0, "s_noise", 1.0, "noise_device", "cpu"));
            case "sample_dpmpp_3m_sde" -> orderedMap("class_type", "SamplerDPMPP_3M_SDE", "inputs",
                    orderedMap("eta", 0.0, "s_noise", 1.0, "noise_device", "cpu"));
            default -> throw new IllegalArgumentException("no ComfyUI node for " + st.sampler());
        };
    }

    private static String comfyLabel(Stage st) {
        Map<String, Object> n = comfySampler(st);
        Object name = ((Map<?, ?>) n.get("inputs")).get("sampler_name");
        return name != null ? "KSamplerSelect " + name : n.get("class_type") + " eta=0";
    }

    /** The ManualSigmas string of a list: plain decimals only (the node's regex reads an exponent as a number). */
    static String manualSigmas(double[] sigmas) {
        List<String> parts = new ArrayList<>();
        for (double v : sigmas) {
            parts.add(Py.plain(v));
        }
        return String.join(", ", parts);
    }

    static ExportSupport comfyUi(ExportSubject s) {
        ExportRules.Stock st = ExportRules.stock(s, "ComfyUI");
        if (st.refused()) {
            return ExportSupport.refused(ExportFormat.COMFYUI, st.refusal());
        }
        NoiseSchedule ns = s.schedule();
        boolean flow = ns instanceof RectifiedFlowSchedule;
        if (ns instanceof VpDiscreteSchedule vp) {
            if (vp.trainSteps() != 1000 || vp.gridSize() != 1000) {
                return ExportSupport.refused(ExportFormat.COMFYUI, "ComfyUI's discrete models have 1000 timesteps "
                        + "(ModelSamplingDiscrete); this schedule keeps " + vp.gridSize() + " of " + vp.trainSteps()
                        + ".");
            }
        } else if (!(ns instanceof EdmSchedule) && !flow) {
            return ExportSupport.refused(ExportFormat.COMFYUI, "ComfyUI has no model sampling for a "
                    + ExportRules.schedName(ns) + " schedule (discrete VP with 1000 timesteps, EDM and flows only).");
        }
        if (s.tStart() != ns.defaultTStart()) {
            return ExportSupport.refused(ExportFormat.COMFYUI, "ComfyUI scales the initial noise by sqrt(1 + sigma^2) "
                    + "only when the first sigma is the model's sigma_max (by sigma otherwise); this config starts at "
                    + "t = " + s.tStart() + ", below the schedule's start.");
        }
        if (s.network() && !(ns instanceof VpDiscreteSchedule)) {
            return ExportSupport.refused(ExportFormat.COMFYUI, "the time a network receives in ComfyUI depends on "
                    + "the loaded model's sampling type, which cannot be matched to this network's time input here.");
        }
        Stages stg = stages(s, st, "ComfyUI");
        if (stg.refusal() != null) {
            return ExportSupport.refused(ExportFormat.COMFYUI, stg.refusal());
        }
        ConsumerCall.ModelTime mt = time(s, st.plan(), stg.stages(), true);
        if (mt.maxDeviation() > ExportRules.TIME_TOLERANCE) {
            return ExportSupport.refused(ExportFormat.COMFYUI, "ComfyUI passes a discrete model the integer timestep "
                    + "nearest to each sigma (ModelSamplingDiscrete.timestep); this grid evaluates the model between "
                    + "integer timesteps (up to " + DiffusersRule.fmt(mt.maxDeviation()) + " timesteps away), so the "
                    + "model would not be evaluated where the config was validated.");
        }
        double[] sc = scales(s, st.run().denoiseToZero(), true);
        Map<String, Object> graph = new LinkedHashMap<>();
        List<Map<String, Object>> stages = new ArrayList<>();
        int node = 1;
        for (int i = 0; i < stg.stages().size(); i++) {
            Stage stage = stg.stages().get(i);
            String manual = manualSigmas(stage.sigmas());
            Map<String, Object> sampler = comfySampler(stage);
            int sigmasId = node++;
            int samplerId = node++;
            int customId = node++;
            graph.put(Integer.toString(sigmasId), orderedMap("class_type", "ManualSigmas", "inputs",
                    orderedMap("sigmas", manual)));
            graph.put(Integer.toString(samplerId), sampler);
            Map<String, Object> inputs = orderedMap("model", "<your model>", "add_noise", i == 0, "noise_seed", 0,
                    "cfg", s.guidance(), "positive", "<positive>", "negative", "<negative>",
                    "sampler", List.of(Integer.toString(samplerId), 0), "sigmas", List.of(Integer.toString(sigmasId), 0),
                    "latent_image", i == 0 ? "<your EmptyLatentImage>" : List.of(Integer.toString(customId - 3), 0));
            graph.put(Integer.toString(customId), orderedMap("class_type", "SamplerCustom", "inputs", inputs));
            Map<String, Object> desc = new LinkedHashMap<>();
            desc.put("sampler", stage.sampler());
            desc.put("node", sampler);
            desc.put("manualSigmas", manual);
            desc.put("sigmas", stage.sigmas());
            desc.put("addNoise", i == 0);
            stages.add(desc);
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("sigmaSpace", flow ? "flow: sigma = t" : "ve: sigma = exp(-lambda_t) (model_sampling sigmas)");
        args.put("stages", stages);
        args.put("prompt", graph);
        String code;
        try {
            code = new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsString(graph);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        List<String> notes = new ArrayList<>(st.notes());
        notes.addAll(stg.notes());
        if (stg.stages().size() > 1) {
            notes.add("two SamplerCustom nodes in a chain: the second takes the first's output latent with "
                    + "add_noise off (SplitSigmas at step " + (st.plan().steps() - 1) + " gives the same two lists)");
        }
        notes.add("ManualSigmas strings use plain decimals (its regex [-+]?(?:\\d*\\.*\\d+) reads 9.99E-4 as two "
                + "numbers); ComfyUI stores sigmas as float32 (relative differences ~1e-7)");
        notes.add("SamplerCustom's output latent is " + (flow ? "the flow state divided by 1 - sigma_end "
                + "(CONST.inverse_noise_scaling)" : "k-diffusion's VE state") + ": the config's final state is output * "
                + Py.num(sc[1]));
        notes.add("for a bit-exact run from our x_T instead of ComfyUI's own noise: add_noise off and a latent "
                + "holding x_T * " + Py.num(sc[0]) + " (in the model's latent space)");
        notes.add("the model's sampling must be the config's schedule (sigma_max = " + Py.num(ExportRules.sigma(ns,
                s.tStart())) + ")");
        return ExportSupport.supported(ExportFormat.COMFYUI, new ConsumerCall("ComfyUI",
                "SamplerCustom(" + String.join(" -> ", stg.stages().stream().map(SigmaListRules::comfyLabel).toList())
                        + ") with ManualSigmas", args, code, sc[0], sc[1], mt, notes,
                List.of(COMFYUI)));
    }
}
