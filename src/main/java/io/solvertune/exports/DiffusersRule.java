package io.solvertune.exports;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.unipc.UniPc;
import static io.solvertune.exports.ExportRules.DIFFUSERS;

import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * diffusers: which stock scheduler runs the config exactly, with which constructor arguments and which schedule.
 *
 * <p>Read from {@code src/diffusers/schedulers/} at {@value ExportRules#DIFFUSERS}:
 * <ul>
 *   <li>{@code set_timesteps(timesteps=...)} casts to int64 and interpolates sigma at those integers; with
 *       {@code num_inference_steps} the scheduler builds its own grid ({@code linspace(...).round()}), which is not
 *       ours. So the integer path is used only when every model call of ours is at an integer timestep and the run
 *       ends at index 0 ({@code final_sigmas_type="sigma_min"}); otherwise the call assigns {@code scheduler.sigmas}
 *       and {@code scheduler.timesteps} after {@code set_timesteps(num_inference_steps=L)} — {@code step()} reads
 *       only {@code sigmas[step_index]}, {@code sigmas[step_index + 1]} (and the previous ones), and the loop passes
 *       {@code timesteps} to the network.</li>
 *   <li>{@code DPMSolverMultistepScheduler.step}: first order at the first step, second order at the second (or
 *       always for {@code solver_order=2}); the last step is first order if {@code euler_at_final} or
 *       {@code lower_order_final and len(timesteps) < 15} or {@code final_sigmas_type == "zero"}, the one before is
 *       second order if {@code lower_order_final and len(timesteps) < 15}. The official rule (ours) lowers only below
 *       10 steps, so the flags are chosen to reproduce our order plan exactly, or the export is refused.</li>
 *   <li>{@code DPMSolverSinglestepScheduler}: one scheduler step per model call; {@code get_order_list} gives the
 *       per-call orders ({@code [1, 2]} per second-order interval, {@code [1, 2, 3]} per third-order one);
 *       {@code lower_order_final} changes the plan and is forced on when the call count is not a multiple of the
 *       order. Its third-order update computes the inner point with its second-order update of the configured
 *       {@code solver_type}: midpoint there differs from the official DPM-Solver-3 (phi_2 form), heun matches.</li>
 *   <li>{@code UniPCMultistepScheduler}: the corrector of step k runs in call k + 1 with the model output at the
 *       predicted point, never after the last step; warm-up and {@code lower_order_final} as the official code.</li>
 *   <li>{@code EulerDiscreteScheduler(sigmas=...)}: the list is used as is (the last entry is the final noise
 *       level), timesteps come from {@code _sigma_to_t}; {@code init_noise_sigma} is {@code sqrt(max(sigmas)^2 + 1)}
 *       for {@code timestep_spacing="leading"} (the VP noise in VE units) and {@code max(sigmas)} otherwise.</li>
 *   <li>{@code HeunDiscreteScheduler} always appends sigma 0 and takes no sigmas.</li>
 * </ul>
 */
final class DiffusersRule {
    private DiffusersRule() {
    }

    static final String PATH = "src/diffusers/schedulers/";

    static ExportSupport support(ExportSubject s) {
        ExportRules.Stock st = ExportRules.stock(s, "diffusers");
        if (st.refused()) {
            return ExportSupport.refused(ExportFormat.DIFFUSERS, st.refusal());
        }
        NoiseSchedule ns = s.schedule();
        boolean flow = ns instanceof RectifiedFlowSchedule;
        if (!flow && !(ns instanceof VpDiscreteSchedule)) {
            return refused("diffusers' DDPM-style schedulers need a discrete VP schedule (betas) or a rectified flow; "
                    + "this model's schedule is " + ExportRules.schedName(ns) + " (diffusers' EDM schedulers "
                    + "precondition the raw network with sigma_data, which a registered denoiser does not have).");
        }
        String prediction = prediction(s.prediction(), flow);
        if (prediction == null) {
            return refused("diffusers has no prediction_type for a " + s.prediction().id() + " model"
                    + (flow ? " on a flow schedule" : " on a VP schedule") + ".");
        }
        SamplerConfig run = st.run();
        EvaluationPlan plan = st.plan();
        SolverSpec spec = run.solver();
        if (ExportRules.firstOrder(run, plan)) {
            ExportSupport e = flow ? null : euler(s, st, prediction);
            return e != null ? e : multistep(s, st, 1, PredictionType.DATA, DpmSolver.SolverType.DPMSOLVER,
                    prediction);
        }
        if (spec instanceof DpmSolver d) {
            return d.method() == DpmSolver.Method.MULTISTEP
                    ? multistep(s, st, d.order(), d.prediction(), d.solverType(), prediction)
                    : singlestep(s, st, d, prediction);
        }
        if (spec instanceof UniPc u) {
            return uniPc(s, st, u, prediction);
        }
        if (spec instanceof EdmHeun) {
            return refused("HeunDiscreteScheduler takes no sigmas and always appends sigma 0, so its last step is an "
                    + "Euler step to 0 instead of this config's Heun step to its end time.");
        }
        return refused("no stock diffusers scheduler runs " + spec.label() + ".");
    }

    private static ExportSupport refused(String why) {
        return ExportSupport.refused(ExportFormat.DIFFUSERS, why);
    }

    static String prediction(PredictionType p, boolean flow) {
        return switch (p) {
            case NOISE -> "epsilon";
            case DATA -> "sample";
            case V -> flow ? null : "v_prediction";
            case FLOW_VELOCITY -> flow ? "flow_prediction" : null;
            case SCORE -> null;
        };
    }

    // ---- first order on a VP schedule: EulerDiscreteScheduler(sigmas=...) ---------------------------------------------

    /**
     * EulerDiscreteScheduler with the config's sigmas (pipeline-friendly), or null when its timesteps (derived from
     * the sigmas by log-sigma interpolation) would differ from ours by more than {@link ExportRules#TIME_TOLERANCE}
     * (then the first-order DPMSolverMultistepScheduler with the exact timesteps runs the same steps).
     */
    private static ExportSupport euler(ExportSubject s, ExportRules.Stock st, String prediction) {
        VpDiscreteSchedule vp = (VpDiscreteSchedule) s.schedule();
        EvaluationPlan plan = st.plan();
        double[] grid = plan.grid();
        boolean denoise = st.run().denoiseToZero();
        double[] sig = ExportRules.sigmas(vp, grid);
        if (denoise) {
            sig = ExportRules.concat(sig, 0.0);
        }
        Map<String, Object> config = betas(vp);
        config.put("_class_name", "EulerDiscreteScheduler");
        config.put("prediction_type", prediction);
        config.put("interpolation_type", "linear");
        config.put("use_karras_sigmas", false);
        config.put("use_exponential_sigmas", false);
        config.put("use_beta_sigmas", false);
        config.put("timestep_spacing", "leading");
        config.put("timestep_type", "discrete");
        config.put("steps_offset", 0);
        config.put("final_sigmas_type", "zero");
        double[] evals = plan.evaluations();
        double[] ours = ExportRules.modelTimes(vp, evals);
        double[] theirs = new double[evals.length];
        for (int i = 0; i < evals.length; i++) {
            theirs[i] = ExportRules.logSigmaIndex(vp, evals[i]);
        }
        double dev = ExportRules.maxDeviation(ours, theirs);
        if (dev > ExportRules.TIME_TOLERANCE) {
            return null;
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("scheduler", "EulerDiscreteScheduler");
        args.put("schedulerConfig", config);
        args.put("mode", "sigmas");
        args.put("sigmas", sig);
        double a0 = vp.alpha(grid[0]);
        double aEnd = denoise ? 1.0 : vp.alpha(grid[grid.length - 1]);
        String code = String.join("\n",
                "from diffusers import EulerDiscreteScheduler",
                "scheduler = EulerDiscreteScheduler.from_pretrained(export_dir, subfolder=\"scheduler\")",
                "pipe.scheduler = scheduler",
                "# timestep_spacing='leading' makes init_noise_sigma = sqrt(sigmas[0]**2 + 1): the pipeline's initial",
                "# latents are then exactly the VP noise x_T in Euler's (VE) units",
                "sigmas = " + Py.list(sig),
                "latents = pipe(prompt, sigmas=sigmas, guidance_scale=" + Py.num(s.guidance())
                        + ", output_type=\"latent\").images",
                denoise ? "x_end = latents  # the denoised sample (the config ends with denoise_to_zero)"
                        : "x_end = latents / (1 + sigmas[-1] ** 2) ** 0.5  # Euler's VE state -> the VP state the "
                        + "config ends in");
        List<String> notes = new ArrayList<>(st.notes());
        notes.add("sigmas are the config's VP sigmas sqrt((1 - alphas_cumprod) / alphas_cumprod) at its "
                + (grid.length) + " grid times" + (denoise ? " followed by 0 (denoise_to_zero)" : ", ending at the "
                + "config's end noise level (no terminal 0)") + "; an Euler step on them is exactly a DDIM / "
                + "first-order DPM-Solver step");
        notes.add("diffusers casts sigmas to float32 and steps in float32 (relative differences ~1e-7)");
        return ExportSupport.supported(ExportFormat.DIFFUSERS, new ConsumerCall("diffusers",
                "EulerDiscreteScheduler + pipe(sigmas=...)", args, code, 1.0 / a0, aEnd,
                new ConsumerCall.ModelTime("timesteps = _sigma_to_t(sigma): linear interpolation of log sigma "
                        + "between integer timesteps (ours: N' t - 1 with log alpha linear in t); equal at integer "
                        + "timesteps", ours, theirs, dev), notes,
                List.of(DIFFUSERS + ":" + PATH + "scheduling_euler_discrete.py",
                        DIFFUSERS + ":src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion.py "
                                + "(retrieve_timesteps)")));
    }

    // ---- DPMSolverMultistepScheduler ------------------------------------------------------------------------------

    /**
     * The per-step orders of {@code DPMSolverMultistepScheduler.step} for {@code steps} scheduler steps, as its source
     * computes them.
     */
    static int[] multistepOrders(int solverOrder, int steps, boolean lowerOrderFinal, boolean eulerAtFinal,
                                 boolean zeroFinal) {
        int[] out = new int[steps];
        for (int k = 0; k < steps; k++) {
            boolean lowerFinal = k == steps - 1
                    && (eulerAtFinal || lowerOrderFinal && steps < 15 || zeroFinal);
            boolean lowerSecond = k == steps - 2 && lowerOrderFinal && steps < 15;
            if (solverOrder == 1 || k < 1 || lowerFinal) {
                out[k] = 1;
            } else if (solverOrder == 2 || k < 2 || lowerSecond) {
                out[k] = 2;
            } else {
                out[k] = 3;
            }
        }
        return out;
    }

    private static ExportSupport multistep(ExportSubject s, ExportRules.Stock st, int order, PredictionType algo,
                                           DpmSolver.SolverType type, String prediction) {
        EvaluationPlan plan = st.plan();
        boolean denoise = st.run().denoiseToZero();
        boolean flow = s.schedule() instanceof RectifiedFlowSchedule;
        if (denoise && algo == PredictionType.NOISE) {
            return refused("this config ends with denoise_to_zero; DPMSolverMultistepScheduler steps to sigma 0 only "
                    + "with algorithm_type='dpmsolver++' (the noise-prediction update is undefined there).");
        }
        int[] ours = plan.orders();
        if (denoise) {
            ours = Arrays.copyOf(ours, ours.length + 1);
            ours[ours.length - 1] = 1;
        }
        Boolean lof = null;
        boolean eaf = false;
        search:
        for (boolean e : new boolean[] {false, true}) {
            for (boolean l : new boolean[] {false, true}) {
                if (Arrays.equals(ours, multistepOrders(order, ours.length, l, e, denoise))) {
                    lof = l;
                    eaf = e;
                    break search;
                }
            }
        }
        if (lof == null) {
            return refused("DPMSolverMultistepScheduler cannot run this config's order plan " + Arrays.toString(ours)
                    + " (it lowers the final orders only for fewer than 15 steps, the official rule below 10).");
        }
        Map<String, Object> config = base(s);
        config.put("_class_name", "DPMSolverMultistepScheduler");
        config.put("timestep_spacing", "linspace");
        config.put("steps_offset", 0);
        config.put("algorithm_type", algo == PredictionType.DATA ? "dpmsolver++" : "dpmsolver");
        config.put("solver_order", order);
        config.put("solver_type", type == DpmSolver.SolverType.TAYLOR ? "heun" : "midpoint");
        config.put("prediction_type", prediction);
        config.put("lower_order_final", lof);
        config.put("euler_at_final", eaf);
        config.put("final_sigmas_type", denoise ? "zero" : "sigma_min");
        config.put("use_karras_sigmas", false);
        config.put("use_exponential_sigmas", false);
        config.put("use_beta_sigmas", false);
        config.put("use_lu_lambdas", false);
        config.put("thresholding", false);
        double[] evals = plan.evaluations();
        double last = plan.grid()[plan.steps()];
        double[] sig = ExportRules.concat(ExportRules.sigmas(s.schedule(), evals),
                denoise ? 0.0 : ExportRules.sigma(s.schedule(), last));
        return scheduled(s, st, "DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep.py", config, evals, sig,
                denoise || !flow && lastIsIndexZero(s, last), String.format(Locale.ROOT,
                        "order plan %s (DPMSolverMultistepScheduler with lower_order_final=%s, euler_at_final=%s "
                                + "reproduces it)", Arrays.toString(ours), lof, eaf), true);
    }

    private static boolean lastIsIndexZero(ExportSubject s, double last) {
        return Math.abs(s.schedule().modelInputTime(last)) < 1e-9;
    }

    // ---- DPMSolverSinglestepScheduler -----------------------------------------------------------------------------

    /** {@code DPMSolverSinglestepScheduler.get_order_list} (with its forcing of {@code lower_order_final}). */
    static int[] singlestepOrders(int steps, int order, boolean lowerOrderFinal, boolean zeroFinal) {
        boolean lof = lowerOrderFinal || steps % order != 0 || zeroFinal;
        List<Integer> o = new ArrayList<>();
        if (lof) {
            if (order == 3) {
                for (int i = 0; i < steps / 3 - (steps % 3 == 0 ? 1 : 0); i++) {
                    o.addAll(List.of(1, 2, 3));
                }
                if (steps % 3 == 0) {
                    o.addAll(List.of(1, 2, 1));
                } else if (steps % 3 == 1) {
                    o.add(1);
                } else {
                    o.addAll(List.of(1, 2));
                }
            } else if (order == 2) {
                for (int i = 0; i < steps / 2 - (steps % 2 == 0 ? 1 : 0); i++) {
                    o.addAll(List.of(1, 2));
                }
                if (steps % 2 == 0) {
                    o.addAll(List.of(1, 1));
                } else {
                    o.add(1);
                }
            } else {
                for (int i = 0; i < steps; i++) {
                    o.add(1);
                }
            }
        } else {
            for (int i = 0; i < steps / order; i++) {
                for (int j = 1; j <= order; j++) {
                    o.add(j);
                }
            }
        }
        if (zeroFinal) {
            o.set(o.size() - 1, 1);
        }
        return o.stream().mapToInt(Integer::intValue).toArray();
    }

    private static ExportSupport singlestep(ExportSubject s, ExportRules.Stock st, DpmSolver d,
                                            String prediction) {
        EvaluationPlan plan = st.plan();
        if (st.run().denoiseToZero()) {
            return refused("this config ends with denoise_to_zero; DPMSolverSinglestepScheduler's sigma-0 final step "
                    + "changes its order plan, so it cannot run this singlestep config exactly.");
        }
        int[] outer = plan.orders();
        boolean hasThird = Arrays.stream(outer).anyMatch(o -> o == 3);
        if (hasThird && d.solverType() == DpmSolver.SolverType.DPMSOLVER) {
            return refused("DPMSolverSinglestepScheduler computes the second inner point of a third-order step with "
                    + "its midpoint second-order update, while DPM-Solver-3 (this config, solver_type dpmsolver) uses "
                    + "the phi_2 form there; its solver_type='heun' matches only the taylor variant.");
        }
        List<Integer> perCall = new ArrayList<>();
        for (int o : outer) {
            for (int j = 1; j <= o; j++) {
                perCall.add(j);
            }
        }
        int[] ours = perCall.stream().mapToInt(Integer::intValue).toArray();
        Boolean lof = null;
        for (boolean l : new boolean[] {false, true}) {
            if (Arrays.equals(ours, singlestepOrders(ours.length, d.order(), l, false))) {
                lof = l;
                break;
            }
        }
        if (lof == null) {
            return refused("DPMSolverSinglestepScheduler's order plan get_order_list(" + ours.length + ") cannot "
                    + "follow this config's per-call orders " + Arrays.toString(ours) + ".");
        }
        Map<String, Object> config = base(s);
        config.put("_class_name", "DPMSolverSinglestepScheduler");
        config.put("algorithm_type", d.prediction() == PredictionType.DATA ? "dpmsolver++" : "dpmsolver");
        config.put("solver_order", d.order());
        config.put("solver_type", d.solverType() == DpmSolver.SolverType.TAYLOR ? "heun" : "midpoint");
        config.put("prediction_type", prediction);
        config.put("lower_order_final", lof);
        config.put("final_sigmas_type", "sigma_min");
        config.put("use_karras_sigmas", false);
        config.put("use_exponential_sigmas", false);
        config.put("use_beta_sigmas", false);
        config.put("thresholding", false);
        double[] evals = plan.evaluations();
        double last = plan.grid()[plan.steps()];
        double[] sig = ExportRules.concat(ExportRules.sigmas(s.schedule(), evals), ExportRules.sigma(s.schedule(),
                last));
        List<String> inner = new ArrayList<>();
        double[][] ratios = plan.innerRatios();
        for (int i = 0; i < outer.length; i++) {
            if (outer[i] >= 2) {
                inner.add("step " + (i + 1) + ": r1 = " + fmt(ratios[i][0])
                        + (outer[i] == 3 ? ", r2 = " + fmt(ratios[i][1]) : ""));
            }
        }
        return scheduled(s, st, "DPMSolverSinglestepScheduler", "scheduling_dpmsolver_singlestep.py", config, evals,
                sig, !(s.schedule() instanceof RectifiedFlowSchedule) && lastIsIndexZero(s, last),
                "outer orders " + Arrays.toString(outer) + ", one scheduler step per model call (per-call orders "
                        + Arrays.toString(ours) + "); the schedule lists every outer and inner point (inner points in "
                        + "half log-SNR: " + String.join("; ", inner) + ")", true);
    }

    // ---- UniPCMultistepScheduler ----------------------------------------------------------------------------------

    private static ExportSupport uniPc(ExportSubject s, ExportRules.Stock st, UniPc u, String prediction) {
        if (st.run().denoiseToZero()) {
            return refused("this config ends with denoise_to_zero, which UniPCMultistepScheduler has no step for.");
        }
        EvaluationPlan plan = st.plan();
        Map<String, Object> config = base(s);
        config.put("_class_name", "UniPCMultistepScheduler");
        config.put("timestep_spacing", "linspace");
        config.put("steps_offset", 0);
        config.put("solver_order", u.order());
        config.put("solver_type", u.variant().name().toLowerCase(Locale.ROOT));
        config.put("predict_x0", u.prediction() == PredictionType.DATA);
        config.put("prediction_type", prediction);
        config.put("lower_order_final", st.run().lowerOrderFinal());
        config.put("disable_corrector", List.of());
        config.put("final_sigmas_type", "sigma_min");
        config.put("use_karras_sigmas", false);
        config.put("use_exponential_sigmas", false);
        config.put("use_beta_sigmas", false);
        config.put("thresholding", false);
        double[] evals = plan.evaluations();
        double last = plan.grid()[plan.steps()];
        double[] sig = ExportRules.concat(ExportRules.sigmas(s.schedule(), evals), ExportRules.sigma(s.schedule(),
                last));
        return scheduled(s, st, "UniPCMultistepScheduler", "scheduling_unipc_multistep.py", config, evals, sig, false,
                "order plan " + Arrays.toString(plan.orders()) + ", corrector after every step but the last "
                        + "(UniPCMultistepScheduler has no timesteps= argument, so the schedule is assigned)", false);
    }

    // ---- shared: a scheduler on our exact schedule ------------------------------------------------------------------

    /**
     * The call for a scheduler whose {@code sigmas} are the model calls' noise levels plus the final one: the integer
     * {@code timesteps=} path where it is exact, otherwise assignment after {@code set_timesteps}.
     */
    private static ExportSupport scheduled(ExportSubject s, ExportRules.Stock st, String cls, String file,
                                           Map<String, Object> config, double[] evals, double[] sig,
                                           boolean finalAtIndexZeroOrZero, String plan, boolean acceptsTimesteps) {
        NoiseSchedule ns = s.schedule();
        boolean flow = ns instanceof RectifiedFlowSchedule;
        double[] times = ExportRules.modelTimes(ns, evals);
        if (flow) {
            for (int i = 0; i < times.length; i++) {
                times[i] = 1000.0 * evals[i];
            }
        }
        boolean integer = !flow && acceptsTimesteps && ExportRules.integral(times) && finalAtIndexZeroOrZero;
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("scheduler", cls);
        args.put("schedulerConfig", config);
        List<String> code = new ArrayList<>();
        code.add("import torch");
        code.add("from diffusers import " + cls);
        code.add("scheduler = " + cls + ".from_pretrained(export_dir, subfolder=\"scheduler\")");
        if (integer) {
            long[] ints = ExportRules.rounded(times);
            args.put("mode", "timesteps");
            args.put("timesteps", ints);
            code.add("pipe.scheduler = scheduler");
            code.add("timesteps = " + Py.ints(ints) + "  # every model call is at an integer timestep of this grid");
            code.add("latents = pipe(prompt, timesteps=timesteps, guidance_scale=" + Py.num(s.guidance())
                    + ", output_type=\"latent\").images  # the config's final (VP) state");
        } else {
            args.put("mode", "assign");
            args.put("numInferenceSteps", evals.length);
            args.put("sigmas", sig);
            args.put("timesteps", times);
            code.add("scheduler.set_timesteps(num_inference_steps=" + evals.length + ")  # resets the solver state; "
                    + "its own grid is replaced below");
            code.add("scheduler.sigmas = torch.tensor(" + Py.list(sig) + ", dtype=torch.float64)");
            code.add("scheduler.timesteps = torch.tensor(" + Py.list(times) + ", dtype=torch.float64)");
            code.add("x = x_T  # the VP initial noise (init_noise_sigma = 1)");
            code.add("for t in scheduler.timesteps:");
            code.add("    model_output = model(x, t)  # the network at time t (" + (flow ? "1000 sigma" : "its "
                    + "timestep index") + "), prediction_type='" + config.get("prediction_type") + "'"
                    + (s.guidance() != 1.0 ? ", with classifier-free guidance " + Py.num(s.guidance()) : ""));
            code.add("    x = scheduler.step(model_output, t, x).prev_sample");
            code.add("x_end = x  # the config's final (VP) state");
        }
        List<String> notes = new ArrayList<>(st.notes());
        notes.add(plan);
        notes.add(integer ? "every model call is at an integer timestep, so set_timesteps(timesteps=...) builds "
                + "exactly this schedule (pipelines pass it through retrieve_timesteps)"
                : "the grid's timesteps are not all integers, and set_timesteps(timesteps=...) casts to int64 while "
                + "set_timesteps(n) builds its own grid: the call assigns the exact sigmas (model calls' noise "
                + "levels, then the end level) and timesteps after set_timesteps; pipelines call set_timesteps "
                + "themselves, so run the loop above (or a pipeline with a scheduler subclass that does the same)");
        notes.add("diffusers steps in float32 (it casts sample and its own sigma table to float32): relative "
                + "differences ~1e-7");
        return ExportSupport.supported(ExportFormat.DIFFUSERS, new ConsumerCall("diffusers", cls
                + (integer ? " + pipe(timesteps=...)" : " + set_timesteps + exact sigmas/timesteps"), args,
                String.join("\n", code), 1.0, 1.0,
                new ConsumerCall.ModelTime("the network receives scheduler.timesteps: exactly the times our sampler "
                        + "passed", times, times, 0.0), notes, List.of(DIFFUSERS + ":" + PATH + file)));
    }

    // ---- scheduler_config entries -----------------------------------------------------------------------------------

    /** num_train_timesteps and the betas of a VP model, or the flow settings. */
    private static Map<String, Object> base(ExportSubject s) {
        if (s.schedule() instanceof RectifiedFlowSchedule f) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("num_train_timesteps", 1000);
            o.put("use_flow_sigmas", true);
            o.put("flow_shift", f.shift());
            return o;
        }
        return betas((VpDiscreteSchedule) s.schedule());
    }

    static Map<String, Object> betas(VpDiscreteSchedule vp) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("num_train_timesteps", vp.trainSteps());
        ScheduleSpec.VpDiscrete spec = (ScheduleSpec.VpDiscrete) vp.spec();
        if (spec.preset() != null) {
            BetaSchedule b = BetaSchedule.fromId(spec.preset());
            o.put("beta_schedule", b.id());
            if (b != BetaSchedule.SQUAREDCOS_CAP_V2) {
                o.put("beta_start", spec.betaStart() != null ? spec.betaStart() : b.defaultBetaStart());
                o.put("beta_end", spec.betaEnd() != null ? spec.betaEnd() : b.defaultBetaEnd());
            }
            o.put("trained_betas", null);
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
            o.put("trained_betas", betas);
        }
        return o;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
