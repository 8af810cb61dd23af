package io.solvertune.exports;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.solver.unipc.UniPc;
import static io.solvertune.exports.ExportRules.DC_SOLVER;
import static io.solvertune.exports.ExportRules.DPM_SOLVER_V3;

import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.fit.CoefficientSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The official research code: DPM-Solver-v3's {@code DPM_Solver_v3} with our statistics, DC-Solver's
 * {@code DCSolver} with our ratios; DC-Solver's cascade-polynomial coefficients are refused (see
 * {@link #dcCpr}).
 *
 * <p>DPM-Solver-v3 ({@value ExportRules#DPM_SOLVER_V3}, {@code dpm_solver_v3.py}): the constructor reads
 * {@code l.npz}/{@code sb.npz}, builds the statistics' lambda grid as {@code marginal_lambda(get_time_steps("logSNR",
 * t_start, t_end, K))[:, None, None, None]} — a 4-D array that broadcasts only with 4-D statistics
 * ({@code [K+1, C, H, W]}; a vector model's {@code [K+1, D]} must be {@code [K+1, D, 1, 1]} and its samples
 * {@code [B, D, 1, 1]}) — and snaps {@code get_time_steps(skip_type, t_start, t_end, steps)} to grid indexes by
 * rounding; {@code sample(x, model_fn, order, p_pseudo, use_corrector, c_pseudo, lower_order_final, half)} has no
 * denoise-to-zero. The discrete {@code model_wrapper} passes {@code (t - 1/N) 1000}, ours {@code N' t - 1}.
 *
 * <p>DC-Solver ({@value ExportRules#DC_SOLVER}, {@code stable-diffusion/ldm/models/diffusion/dc_solver/}):
 * {@code DCSolver(model_fn, ns, predict_x0, thresholding, variant, dc_order=2).sample(x, steps, skip_type,
 * method='multistep', order, lower_order_final, dc_ratios)} compensates from the third step on with the three newest
 * buffered outputs, which exist only for {@code order=3}; {@code DCSolverSampler} (the LDM script) fixes bh1,
 * order 3, time_uniform.
 */
final class OfficialRules {
    private OfficialRules() {
    }

    // ---- DPM-Solver-v3 ----------------------------------------------------------------------------------------------

    static ExportSupport dpmSolverV3(ExportSubject s) {
        if (s.kind() != ExportSubject.Kind.DPMSOLVER_V3) {
            return refused(ExportFormat.DPMSOLVER_V3, "only DPM-Solver-v3 configs carry statistics (l.npz, sb.npz); "
                    + "this config is " + s.describe() + ".");
        }
        DpmSolverV3 spec = (DpmSolverV3) s.run().solver();
        if (spec.positions() == DpmSolverV3.Positions.INTERPOLATED) {
            return refused(ExportFormat.DPMSOLVER_V3, "this config samples at learned times off the statistics grid "
                    + "with interpolated statistics; the official DPM_Solver_v3 snaps every time to its grid and "
                    + "takes no custom times.");
        }
        EmpiricalModelStatistics ems = spec.ems();
        NoiseSchedule ns = s.schedule();
        String schedule;
        boolean thousand;
        if (ns instanceof VpDiscreteSchedule vp) {
            schedule = "NoiseScheduleVP('discrete', alphas_cumprod=torch.tensor(alphas_cumprod[:" + vp.gridSize()
                    + "]))  # the model's training alphas_cumprod" + (vp.gridSize() < vp.trainSteps()
                    ? ", without the " + (vp.trainSteps() - vp.gridSize()) + " timesteps below lambda "
                    + "-5.1 our schedule drops" : "");
            thousand = vp.gridSize() == 1000;
        } else if (ns instanceof VpLinearSchedule && ns.spec() instanceof ScheduleSpec.VpLinear lin) {
            schedule = "NoiseScheduleVP('linear', continuous_beta_0=" + Py.num(lin.beta0()) + ", continuous_beta_1="
                    + Py.num(lin.beta1()) + ")";
            thousand = true;
        } else {
            return refused(ExportFormat.DPMSOLVER_V3, "the official DPM-Solver-v3 schedules were checked against "
                    + "discrete and linear VP only; this model's schedule is " + ExportRules.schedName(ns) + ".");
        }
        if (s.run().denoiseToZero()) {
            return refused(ExportFormat.DPMSOLVER_V3, "this config ends with denoise_to_zero, which the official "
                    + "DPM_Solver_v3.sample does not do.");
        }
        long[] shape = ems.sampleShape();
        if (shape.length > 3) {
            return refused(ExportFormat.DPMSOLVER_V3, "the official code broadcasts its lambda grid as [K+1, 1, 1, 1], "
                    + "so statistics must be 4-D; this model's samples have " + shape.length + " dimensions.");
        }
        long[] padded = new long[3];
        Arrays.fill(padded, 1);
        System.arraycopy(shape, 0, padded, 0, shape.length);
        int k = ems.gridSteps();
        EvaluationPlan plan;
        try {
            plan = s.plan(s.run());
        } catch (IllegalArgumentException e) {
            return refused(ExportFormat.DPMSOLVER_V3, "the grid cannot be rebuilt: " + e.getMessage() + ".");
        }
        double[] lambdas = ems.grid().lambdas(ns);
        int[] ours = new int[plan.grid().length];
        for (int i = 0; i < ours.length; i++) {
            ours[i] = EmsGrid.snapIndex(lambdas, ns.lambda(plan.grid()[i]));
        }
        String skip = null;
        for (String candidate : preferred(s.run().spacing())) {
            if (Arrays.equals(ours, officialIndexes(candidate, ns, lambdas, ems.tStart(), ems.tEnd(),
                    s.run().steps()))) {
                skip = candidate;
                break;
            }
        }
        if (skip == null) {
            return refused(ExportFormat.DPMSOLVER_V3, "the official code snaps one of its skip types (logSNR, "
                    + "time_uniform, time_quadratic, edm) to the statistics grid; none gives this config's grid "
                    + "indexes " + Arrays.toString(ours) + ".");
        }
        int steps = s.run().steps();
        Map<String, Object> ctor = new LinkedHashMap<>();
        ctor.put("statistics_dir", "<the unzipped export>");
        ctor.put("steps", steps);
        ctor.put("t_start", ems.tStart());
        ctor.put("t_end", ems.tEnd());
        ctor.put("skip_type", skip);
        ctor.put("degenerated", spec.degenerated());
        ctor.put("device", "cpu");
        Map<String, Object> sample = new LinkedHashMap<>();
        sample.put("order", spec.order());
        sample.put("p_pseudo", spec.pPseudo());
        sample.put("use_corrector", spec.useCorrector());
        sample.put("c_pseudo", spec.cPseudo());
        sample.put("lower_order_final", s.run().lowerOrderFinal());
        sample.put("half", spec.half());
        long[] statShape = new long[] {k + 1, padded[0], padded[1], padded[2]};
        String sampleShape = String.join(", ", Arrays.stream(shape).mapToObj(Long::toString).toList());
        String paddedShape = String.join(", ", Arrays.stream(padded).mapToObj(Long::toString).toList());
        String modelFn = s.prediction() == PredictionType.NOISE && thousand
                ? "model_fn = model_wrapper(model, ns, model_type=\"noise\"" + guidanceArgs(s)
                + ")  # its discrete time input (t - 1/N) * 1000 is our N' t - 1 for N' = 1000"
                : "model_fn = lambda x, t: eps(x, t)  # noise prediction at continuous time t (the network's "
                + (ns instanceof VpDiscreteSchedule vp ? "timestep is " + vp.gridSize() + " * t - 1" : "time is t")
                + (s.guidance() != 1.0 ? ", guidance " + Py.num(s.guidance()) : "") + ")";
        String code = String.join("\n",
                "import torch",
                "torch.set_default_dtype(torch.float64)  # the statistics are float64; the official code builds "
                        + "its grids with torch defaults",
                "from dpm_solver_v3 import NoiseScheduleVP, model_wrapper, DPM_Solver_v3  # "
                        + "codebases/*/samplers/dpm_solver_v3.py or the root dpm_solver_v3.py",
                "ns = " + schedule,
                modelFn,
                "solver = DPM_Solver_v3(" + Py.kwargs(ctor).replace("'<the unzipped export>'", "statistics_dir")
                        + ")",
                "x = solver.sample(x_T.reshape(-1, " + paddedShape + "), model_fn, " + Py.kwargs(sample) + ")",
                "x_end = x.reshape(-1, " + sampleShape + ")  # the config's final state");
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("constructor", ctor);
        args.put("sample", sample);
        args.put("statisticsShape", statShape);
        args.put("sampleShape", shape);
        args.put("indexes", Arrays.stream(ours).asLongStream().toArray());
        List<String> notes = new ArrayList<>();
        notes.add("l.npz and sb.npz hold [K+1, " + paddedShape + "] = " + Arrays.toString(statShape)
                + (shape.length < 3 ? ": the model's [K+1, " + sampleShape + "] statistics with trailing unit axes, "
                + "because the official code broadcasts its lambda grid as [K+1, 1, 1, 1]; samples go in as [B, "
                + paddedShape + "]" : ""));
        notes.add("skip_type '" + skip + "' snaps to exactly this config's grid indexes " + Arrays.toString(ours)
                + " on the K = " + k + " statistics grid (t_start, t_end = the statistics' range)");
        notes.add("the official constructor moves tensors with .cuda(); on a machine without CUDA replace those calls "
                + "by .to(device) — nothing else changes");
        return ExportSupport.supported(ExportFormat.DPMSOLVER_V3, new ConsumerCall("DPM-Solver-v3 (official)",
                "DPM_Solver_v3(...).sample(...)", args, code, 1.0, 1.0, null, notes,
                List.of(DPM_SOLVER_V3 + ":codebases/guided-diffusion/samplers/dpm_solver_v3.py",
                        DPM_SOLVER_V3 + ":dpm_solver_v3.py")));
    }

    private static String guidanceArgs(ExportSubject s) {
        return s.guidance() == 1.0 ? "" : ", guidance_type=\"classifier-free\", condition=c, "
                + "unconditional_condition=uc, guidance_scale=" + Py.num(s.guidance());
    }

    /** Skip types to try, the config's own first. */
    private static List<String> preferred(TimestepSpacing spacing) {
        List<String> all = new ArrayList<>(List.of("logSNR", "time_uniform", "time_quadratic", "edm"));
        String own = spacing instanceof TimestepSpacing.Karras kr && kr.rho() == 7.0 ? "edm" : spacing.id();
        if (all.remove(own)) {
            all.add(0, own);
        }
        return all;
    }

    /** The grid indexes the official constructor computes for {@code skip} (in double precision). */
    static int[] officialIndexes(String skip, NoiseSchedule ns, double[] lambdas, double tStart, double tEnd,
                                 int steps) {
        double lambdaT = lambdas[0];
        double lambda0 = lambdas[lambdas.length - 1];
        int k = lambdas.length - 1;
        double[] lam = new double[steps + 1];
        for (int i = 0; i <= steps; i++) {
            double u = (double) i / steps;
            lam[i] = switch (skip) {
                case "logSNR" -> {
                    double l = ns.lambda(tStart) + u * (ns.lambda(tEnd) - ns.lambda(tStart));
                    yield ns.lambda(ns.inverseLambda(l));
                }
                case "time_uniform" -> ns.lambda(tStart + u * (tEnd - tStart));
                case "time_quadratic" -> {
                    double r = Math.sqrt(tStart) + u * (Math.sqrt(tEnd) - Math.sqrt(tStart));
                    yield ns.lambda(r * r);
                }
                case "edm" -> {
                    double max = Math.pow(Math.exp(-lambdaT), 1.0 / 7.0);
                    double min = Math.pow(Math.exp(-lambda0), 1.0 / 7.0);
                    yield -Math.log(Math.pow(max + u * (min - max), 7.0));
                }
                default -> throw new IllegalArgumentException("unknown skip type " + skip);
            };
        }
        int[] idx = new int[steps + 1];
        for (int i = 0; i <= steps; i++) {
            idx[i] = (int) Math.rint(k * (lam[i] - lambdaT) / (lambda0 - lambdaT));
        }
        return idx;
    }

    // ---- DC-Solver --------------------------------------------------------------------------------------------------

    private static CoefficientSet dcSet(ExportSubject s) {
        return s.kind() == ExportSubject.Kind.COEFFICIENTS && s.set().method() == CoefficientSet.Method.DC
                ? s.set() : null;
    }

    static ExportSupport dcRatios(ExportSubject s) {
        CoefficientSet set = dcSet(s);
        if (set == null) {
            return refused(ExportFormat.DC_RATIOS, "only DC-Solver configs have ratios; this config is "
                    + s.describe() + ".");
        }
        if (!(set.base() instanceof UniPc u) || u.order() != 3) {
            return refused(ExportFormat.DC_RATIOS, "the official DCSolver runs UniPC with order 3 (its compensation "
                    + "interpolates the three newest buffered outputs, which lower orders do not keep); this set's "
                    + "base is " + set.base().label() + ".");
        }
        NoiseSchedule ns = s.schedule();
        if (!(ns instanceof VpDiscreteSchedule vp)) {
            return refused(ExportFormat.DC_RATIOS, "the official DCSolver samples discrete VP models "
                    + "(NoiseScheduleVP('discrete')); this model's schedule is " + ExportRules.schedName(ns) + ".");
        }
        String skip = set.spacing().id();
        if (!List.of("time_uniform", "logSNR", "time_quadratic").contains(skip)) {
            return refused(ExportFormat.DC_RATIOS, "the official DCSolver spaces its grid by time_uniform, logSNR or "
                    + "time_quadratic; this set was fitted on a " + skip + " grid.");
        }
        double[] times = set.times();
        double[] official = TimestepSpacing.named(skip, 7.0).times(ns, 1.0, 1.0 / vp.gridSize(), set.steps());
        for (int i = 0; i < times.length; i++) {
            if (Math.abs(times[i] - official[i]) > 1e-12) {
                return refused(ExportFormat.DC_RATIOS, "the official DCSolver's grid runs from t = 1 to 1/N; this "
                        + "set's grid differs at step " + i + ".");
            }
        }
        double[] ratios = new double[set.steps()];
        double[][] values = set.values();
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = values[i].length == 0 ? 1.0 : values[i][0];
        }
        boolean thousand = vp.gridSize() == 1000;
        Map<String, Object> ctor = new LinkedHashMap<>();
        ctor.put("predict_x0", u.prediction() == PredictionType.DATA);
        ctor.put("thresholding", false);
        ctor.put("variant", u.variant().name().toLowerCase(Locale.ROOT));
        ctor.put("dc_order", 2);
        Map<String, Object> sample = new LinkedHashMap<>();
        sample.put("steps", set.steps());
        sample.put("skip_type", skip);
        sample.put("method", "multistep");
        sample.put("order", 3);
        sample.put("lower_order_final", true);
        String code = String.join("\n",
                "import json, torch",
                "from ldm.models.diffusion.dc_solver.dc_solver import NoiseScheduleVP, model_wrapper, DCSolver",
                "ratios = json.load(open('dc_ratios.json'))  # this export",
                "ns = NoiseScheduleVP('discrete', alphas_cumprod=alphas_cumprod[:" + vp.gridSize() + "])",
                thousand && s.prediction() == PredictionType.NOISE
                        ? "model_fn = model_wrapper(lambda x, t, c: model.apply_model(x, t, c), ns, model_type=\"noise\""
                        + guidanceArgs(s) + ")"
                        : "model_fn = lambda x, t: eps(x, t)  # noise prediction; the network's timestep is "
                        + vp.gridSize() + " * t - 1",
                "dc = DCSolver(model_fn, ns, " + Py.kwargs(ctor) + ")",
                "x = x_T if x_T.dim() == 4 else x_T.reshape(x_T.shape[0], -1, 1, 1)  # its updates contract "
                        + "'bkchw': a vector model's [B, D] goes in as [B, D, 1, 1]",
                "x_end = dc.sample(x, " + Py.kwargs(sample) + ", dc_ratios=list(ratios)).reshape(x_T.shape)  "
                        + "# sample() pops from the list");
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("constructor", ctor);
        args.put("sample", sample);
        args.put("ratios", ratios);
        List<String> notes = new ArrayList<>();
        notes.add("the official LDM script (DCSolverSampler) fixes variant bh1, order 3 and time_uniform; this set "
                + (ctor.get("variant").equals("bh1") && skip.equals("time_uniform") ? "matches it, so "
                + "scripts/sample_diffusion_dc_solver.py --dc_ratios_path <this file> runs it too"
                : "needs the DCSolver call above"));
        notes.add("ratios 1 at the first two steps are the official warm-up (no compensation)");
        notes.add("the official UniPC update contracts 5-D 'bkchw' arrays: samples must be 4-D ([B, C, H, W]; a "
                + "vector model's [B, D] as [B, D, 1, 1], and model_fn must accept that shape)");
        return ExportSupport.supported(ExportFormat.DC_RATIOS, new ConsumerCall("DC-Solver (official)",
                "DCSolver(...).sample(..., dc_ratios=...)", args, code, 1.0, 1.0, null, notes,
                List.of(DC_SOLVER + ":stable-diffusion/ldm/models/diffusion/dc_solver/dc_solver.py",
                        DC_SOLVER + ":stable-diffusion/ldm/models/diffusion/dc_solver/sampler.py")));
    }

    /**
     * Always refused: the official cascade-polynomial coefficients are read only by DC-Solver's diffusers fork,
     * whose scheduler is not our solver and which samples with the ratios the regression predicts rather than the
     * ratios this config validated.
     */
    static ExportSupport dcCpr(ExportSubject s) {
        CoefficientSet set = dcSet(s);
        if (set == null) {
            return refused(ExportFormat.DC_CPR, "only DC-Solver configs have ratios; this config is " + s.describe()
                    + ".");
        }
        if (!s.cpr()) {
            return refused(ExportFormat.DC_CPR, "this DC-Solver config was published without cascade polynomial "
                    + "regression coefficients.");
        }
        return refused(ExportFormat.DC_CPR, "the official cascade-polynomial coefficients are read only by DC-Solver's "
                + "diffusers fork (DCSolverMultistepScheduler.cascade_polynomial_regression), which runs UniPC bh2 "
                + "order 2 with disable_corrector=[0] on diffusers' integer linspace grid and samples with the ratios "
                + "the regression predicts, not with this config's validated ratios (the coefficients stay in the "
                + "json export).");
    }

    private static ExportSupport refused(ExportFormat f, String why) {
        return ExportSupport.refused(f, why);
    }
}
