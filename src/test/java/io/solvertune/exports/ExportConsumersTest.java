package io.solvertune.exports;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.testing.ReferenceProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every (untuned solver, options, grid, schedule) × (diffusers, k-diffusion, ComfyUI) pair: an offered export, run
 * through a faithful emulation of its consumer ({@link DiffusersEmulator}, {@link KDiffusionEmulator},
 * {@link ComfyUiEmulator}) exactly as its stated call says, reproduces our sampler's final state from the same
 * noise to {@code 1e-9 max(1, |x|)} when the consumer evaluates the model at our times, and otherwise the
 * per-seed MSE against the teacher within 1 %; a refused pair names the reason and the formats that work (and
 * {@code json} is always among them). The problems are the exact Gaussian mixture {@code public_gmm_sd_d8}
 * (discrete scaled-linear VP, with its 1000-step teacher), the same mixture on a shifted rectified flow and on the
 * continuous linear VP of {@code public_gmm_linear_d8}.
 */
class ExportConsumersTest {
    static NDManager manager;
    /** Consumer entry points exercised (checked after the run: the test must cover each rule). */
    static final Set<String> COVERED = new ConcurrentSkipListSet<>();
    static final Set<String> REFUSED = new ConcurrentSkipListSet<>();

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(GaussianMixtureDenoiser::close);
        MODELS.clear();
        manager.close();
        if (COVERED.isEmpty()) {
            return; // a filtered run
        }
        for (String want : List.of("diffusers:EulerDiscreteScheduler/sigmas",
                "diffusers:DPMSolverMultistepScheduler/timesteps", "diffusers:DPMSolverMultistepScheduler/assign",
                "diffusers:DPMSolverSinglestepScheduler/assign", "diffusers:UniPCMultistepScheduler/assign",
                "k-diffusion:sample_euler", "k-diffusion:sample_heun", "k-diffusion:sample_dpm_2",
                "k-diffusion:sample_dpmpp_2s_ancestral", "k-diffusion:sample_dpmpp_2m",
                "k-diffusion:sample_dpmpp_2m_sde", "k-diffusion:sample_dpmpp_3m_sde", "k-diffusion:sample_dpm_fast",
                "comfyui:sample_euler", "comfyui:sample_heun", "comfyui:sample_dpmpp_2m",
                "comfyui:sample_dpmpp_2m_sde", "comfyui:sample_dpmpp_3m_sde", "comfyui:chained")) {
            assertTrue(COVERED.contains(want), "no offered export exercised " + want + "; covered: " + COVERED);
        }
        for (String want : List.of("diffusers", "k-diffusion", "comfyui", "dpmsolver-v3", "dc-ratios", "dc-cpr")) {
            assertTrue(REFUSED.contains(want), "no refusal of " + want + " was checked");
        }
    }

    /** A problem: schedule, the exact model (ours through DJL, the emulators' on the host), noise, teacher. */
    record Problem(String name, NoiseSchedule schedule, Mixture mixture, double[][] xT, double[][] teacher,
                   ReferenceProblem ref) {
        GaussianMixtureDenoiser model() {
            double[][] mu = mixture.mu();
            return new GaussianMixtureDenoiser(schedule, mixture.w(), mu, mixture.s(), null);
        }
    }

    static Problem vpDiscrete() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        return new Problem("public_gmm_sd_d8", p.schedule, Mixture.of(p), Vec.rows(p.get("x_T").doubles(), 8),
                Vec.rows(p.get("teacher").doubles(), 8), p);
    }

    static Problem flow() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        return new Problem("flow-shift3", new RectifiedFlowSchedule(3.0), Mixture.of(p),
                Vec.rows(p.get("x_T").doubles(), 8), null, p);
    }

    static Problem vpLinear() {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_linear_d8");
        return new Problem("public_gmm_linear_d8", new VpLinearSchedule(0.1, 20.0), Mixture.of(p),
                Vec.rows(p.get("x_T").doubles(), 8), Vec.rows(p.get("teacher").doubles(), 8), p);
    }

    static final PredictionType D = PredictionType.DATA;
    static final PredictionType N = PredictionType.NOISE;

    static List<SolverSpec> solvers() {
        return List.of(new Ddim(), new EdmEuler(), new EdmHeun(),
                new DpmSolver(D, DpmSolver.Method.MULTISTEP, 1, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(D, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(D, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.TAYLOR),
                new DpmSolver(D, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(D, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.TAYLOR),
                new DpmSolver(N, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(N, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.TAYLOR),
                new DpmSolver(D, DpmSolver.Method.SINGLESTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(D, DpmSolver.Method.SINGLESTEP, 2, DpmSolver.SolverType.TAYLOR),
                new DpmSolver(D, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(D, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.TAYLOR),
                new DpmSolver(N, DpmSolver.Method.SINGLESTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(N, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(N, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.TAYLOR),
                new UniPc(D, UniPc.Variant.BH1, 3), new UniPc(D, UniPc.Variant.BH2, 2),
                new UniPc(D, UniPc.Variant.BH2, 1), new UniPc(N, UniPc.Variant.BH2, 3));
    }

    /**
     * The baseline runs of a problem (steps counted as the sampler counts them): time_uniform at 6, 9 (integer
     * timesteps for multistep grids: 999 / 9 = 111) and 12 steps (between the official lowering limit 10 and
     * diffusers' 15), logSNR at 6 and 12, Karras at 6, an explicit integer-timestep grid, each with and without
     * lower_order_final, and with denoise_to_zero where a consumer can end with it.
     */
    static List<SamplerConfig> configs(Problem p) {
        List<SamplerConfig> out = new ArrayList<>();
        boolean vp = p.schedule instanceof VpDiscreteSchedule;
        Map<TimestepSpacing, int[]> grids = new java.util.LinkedHashMap<>();
        if (vp) {
            grids.put(new TimestepSpacing.TimeUniform(), new int[] {6, 9, 12});
            grids.put(new TimestepSpacing.LogSnr(), new int[] {6, 12});
            grids.put(new TimestepSpacing.Karras(7.0), new int[] {6});
            grids.put(integerGrid((VpDiscreteSchedule) p.schedule), new int[] {5});
        } else {
            grids.put(new TimestepSpacing.TimeUniform(), new int[] {6});
            grids.put(new TimestepSpacing.LogSnr(), new int[] {6});
        }
        for (SolverSpec s : solvers()) {
            for (Map.Entry<TimestepSpacing, int[]> g : grids.entrySet()) {
                TimestepSpacing sp = g.getKey();
                for (int nfe : g.getValue()) {
                    int steps = s instanceof EdmHeun ? nfe / 2 : nfe;
                    if (sp instanceof TimestepSpacing.Explicit e) {
                        if (s instanceof DpmSolver d && d.method() == DpmSolver.Method.SINGLESTEP) {
                            continue;
                        }
                        steps = e.timesteps().length - 1;
                    }
                    // a noise-predicting model has no data prediction at a flow's t = 1 (alpha = 0)
                    Double t0 = p.schedule() instanceof RectifiedFlowSchedule ? 0.999 : null;
                    for (boolean lof : vp ? new boolean[] {true, false} : new boolean[] {true}) {
                        out.add(new SamplerConfig(s, sp, steps, t0, null, lof, false));
                        boolean denoisable = s instanceof Ddim || s instanceof EdmHeun
                                || s instanceof DpmSolver d && d.method() == DpmSolver.Method.MULTISTEP
                                && d.prediction() == D;
                        if (denoisable && vp) {
                            out.add(new SamplerConfig(s, sp, steps, t0, null, lof, true));
                        }
                    }
                }
            }
        }
        return out;
    }

    /** A grid on integer timesteps (999, 799, ..., 0), as AYS-style explicit schedules are. */
    static TimestepSpacing integerGrid(VpDiscreteSchedule vp) {
        int[] n = {999, 799, 599, 399, 199, 0};
        double[] t = new double[n.length];
        for (int i = 0; i < n.length; i++) {
            t[i] = (n[i] + 1.0) / vp.gridSize();
        }
        return new TimestepSpacing.Explicit(t);
    }

    @TestFactory
    Stream<DynamicContainer> everyOfferedExportReproducesTheValidatedRun() {
        List<DynamicContainer> out = new ArrayList<>();
        for (Problem p : List.of(vpDiscrete(), flow(), vpLinear())) {
            List<DynamicTest> tests = new ArrayList<>();
            for (SamplerConfig cfg : configs(p)) {
                String name = cfg.solver().label() + " " + cfg.spacing().id() + " steps " + cfg.steps()
                        + (cfg.lowerOrderFinal() ? "" : " no-lof") + (cfg.denoiseToZero() ? " +denoise" : "");
                tests.add(DynamicTest.dynamicTest(name, () -> check(p, cfg)));
            }
            out.add(DynamicContainer.dynamicContainer(p.name(), tests));
        }
        return out.stream();
    }

    /** One model per problem for the whole class (closed after it). */
    static final Map<String, GaussianMixtureDenoiser> MODELS = new java.util.concurrent.ConcurrentHashMap<>();

    static double[] ours(Problem p, SamplerConfig cfg) {
        GaussianMixtureDenoiser model = MODELS.computeIfAbsent(p.name(), k -> p.model());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(Vec.flat(p.xT()), new Shape(p.xT().length, p.xT()[0].length));
            var r = Sampler.sample(cfg, new ModelFunction(model, Guidance.none()), x);
            // the plan the exports are built from is the run: same grid, same number of model calls
            EvaluationPlan plan = EvaluationPlan.of(cfg, p.schedule());
            assertArrayEquals(r.grid(), plan.grid(), 0.0);
            assertEquals(r.nfe(), plan.nfe());
            return r.x().toDoubleArray();
        }
    }

    static void check(Problem p, SamplerConfig cfg) {
        double[] grid = EvaluationPlan.of(cfg, p.schedule()).grid();
        ExportSubject s = ExportSubject.baseline(cfg, grid, p.schedule(), PredictionType.NOISE, false, 1.0);
        List<ExportSupport> all = ExportRules.all(s);
        double[] ours = null;
        List<ExportFormat> working = all.stream().filter(ExportSupport::isSupported).map(ExportSupport::format)
                .toList();
        assertTrue(working.contains(ExportFormat.JSON));
        for (ExportSupport e : all) {
            if (!e.isSupported()) {
                assertRefusal(e, working);
                continue;
            }
            if (e.format() == ExportFormat.JSON) {
                continue;
            }
            if (ours == null) {
                ours = ours(p, cfg);
            }
            ConsumerCall call = e.call();
            double[][] got = switch (e.format()) {
                case DIFFUSERS -> diffusers(p, call);
                case K_DIFFUSION -> kDiffusion(p, call);
                case COMFYUI -> comfyUi(p, call);
                default -> throw new AssertionError("a baseline offered " + e.format());
            };
            compare(p, call, ours, Vec.scale(call.finalScale(), got), e.format().id() + " " + call.entryPoint());
        }
    }

    static void assertRefusal(ExportSupport e, List<ExportFormat> working) {
        assertNotNull(e.reason());
        assertFalse(e.reason().isBlank());
        assertEquals(working, e.alternatives(), "a refusal names exactly the formats that work");
        assertTrue(e.message().contains("json"), e.message());
        REFUSED.add(e.format().id());
    }

    /**
     * Exact when the consumer evaluates the model at our times; otherwise (a model time off by at most the
     * rules' tolerance) the per-seed MSE against the teacher within 1 % and the states within 1e-4.
     */
    static void compare(Problem p, ConsumerCall call, double[] ours, double[][] got, String what) {
        double[] g = Vec.flat(got);
        double max = 1.0;
        for (double v : ours) {
            max = Math.max(max, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs(g[i] - ours[i]));
        }
        double dev = call.modelTime() == null ? 0.0 : call.modelTime().maxDeviation();
        if (dev == 0.0) {
            assertTrue(worst <= 1e-9 * max, what + ": worst difference " + worst + " (exact call)");
            return;
        }
        assertTrue(dev <= ExportRules.TIME_TOLERANCE, what + ": offered with a model-time deviation of " + dev);
        assertTrue(worst <= 1e-4 * max, what + ": worst difference " + worst);
        if (p.teacher() != null) {
            int d = p.xT()[0].length;
            for (int b = 0; b < p.teacher().length; b++) {
                double mo = 0;
                double mc = 0;
                for (int j = 0; j < d; j++) {
                    mo += Math.pow(ours[b * d + j] - p.teacher()[b][j], 2);
                    mc += Math.pow(g[b * d + j] - p.teacher()[b][j], 2);
                }
                assertEquals(1.0, mc / mo, 0.01, what + ": seed " + b + " MSE ratio");
            }
        }
    }

    // ---- the consumers ---------------------------------------------------------------------------------------------

    /** A diffusers pipeline: the network gets the scheduler's timestep and maps it back to its noise level. */
    static double[][] diffusers(Problem p, ConsumerCall call) {
        Map<String, Object> a = call.arguments();
        DiffusersEmulator sch = new DiffusersEmulator(a);
        assertEquals(call.initialScale(), sch.initNoiseSigma(), 1e-12 * call.initialScale(),
                "the pipeline's init_noise_sigma is the stated initial scale");
        COVERED.add("diffusers:" + a.get("scheduler") + "/" + a.get("mode"));
        NoiseSchedule ns = p.schedule();
        return sch.run((x, timestep) -> {
            double t = ns instanceof RectifiedFlowSchedule ? timestep / 1000.0
                    : (timestep + 1.0) / ((VpDiscreteSchedule) ns).gridSize();
            return p.mixture().eps(x, ns.alpha(t), ns.sigma(t));
        }, p.xT());
    }

    /** k-diffusion's denoiser with the export's wrapper: sigma back to our time, the model at that time. */
    static KDiffusionEmulator.Denoiser kDenoiser(Problem p) {
        NoiseSchedule ns = p.schedule();
        if (ns instanceof RectifiedFlowSchedule) {
            return (x, sigma) -> p.mixture().x0(x, 1 - sigma, sigma);
        }
        return (x, sigma) -> {
            double t = ns.inverseLambda(-Math.log(sigma));
            double a = ns.alpha(t);
            return p.mixture().x0(Vec.scale(a, x), a, ns.sigma(t));
        };
    }

    static double[][] kDiffusion(Problem p, ConsumerCall call) {
        double[][] x = Vec.scale(call.initialScale(), p.xT());
        for (Object o : (List<?>) call.arguments().get("calls")) {
            Map<?, ?> c = (Map<?, ?>) o;
            String sampler = (String) c.get("sampler");
            COVERED.add("k-diffusion:" + sampler);
            if (sampler.equals("sample_dpm_fast")) {
                x = KDiffusionEmulator.sampleDpmFast(kDenoiser(p), x, ((Number) c.get("sigma_min")).doubleValue(),
                        ((Number) c.get("sigma_max")).doubleValue(), ((Number) c.get("n")).intValue());
            } else {
                x = KDiffusionEmulator.run(sampler, kDenoiser(p), x, (double[]) c.get("sigmas"),
                        (Map<?, ?>) c.get("kwargs"));
            }
        }
        return x;
    }

    /** ComfyUI: the model sees ComfyUI's timestep (nearest integer for a discrete model). */
    static double[][] comfyUi(Problem p, ConsumerCall call) {
        NoiseSchedule ns = p.schedule();
        List<?> stages = (List<?>) call.arguments().get("stages");
        for (Object o : stages) {
            Map<?, ?> st = (Map<?, ?>) o;
            COVERED.add("comfyui:" + st.get("sampler"));
            double[] exact = (double[]) st.get("sigmas");
            double[] parsed = ComfyUiEmulator.parseManualSigmas((String) st.get("manualSigmas"));
            assertEquals(exact.length, parsed.length, "ManualSigmas reads as many numbers as the list has");
            for (int i = 0; i < exact.length; i++) {
                assertEquals((double) (float) exact[i], parsed[i], 0.0, "ManualSigmas entry " + i);
            }
        }
        if (stages.size() > 1) {
            COVERED.add("comfyui:chained");
        }
        ComfyUiEmulator.ModelSampling ms = new ComfyUiEmulator.ModelSampling() {
            @Override
            public double sigmaMax() {
                return ExportRules.sigma(ns, ns.defaultTStart());
            }

            @Override
            public boolean constFlow() {
                return ns instanceof RectifiedFlowSchedule;
            }

            @Override
            public KDiffusionEmulator.Denoiser denoiser() {
                if (ns instanceof VpDiscreteSchedule vp) {
                    return (x, sigma) -> {
                        double t0 = vp.inverseLambda(-Math.log(sigma));
                        double k = SigmaListRules.nearestLogSigma(vp, t0);
                        double t = (k + 1.0) / vp.gridSize();
                        double a = 1 / Math.sqrt(sigma * sigma + 1);
                        double[][] eps = p.mixture().eps(Vec.scale(a, x), vp.alpha(t), vp.sigma(t));
                        return Vec.lin(1.0, x, -sigma, eps);
                    };
                }
                return kDenoiser(p);
            }
        };
        return ComfyUiEmulator.run(stages, ms, Vec.scale(1.0, p.xT()), true);
    }

    // ---- the specific findings of the issue --------------------------------------------------------------------------

    @Test
    void dpmSolverPlusPlus2sAtNfe6RunsInDiffusersWithItsInnerPointsAndNoLoweredFinalStep() {
        Problem p = vpDiscrete();
        SamplerConfig cfg = new SamplerConfig(new DpmSolver(D, DpmSolver.Method.SINGLESTEP, 2,
                DpmSolver.SolverType.DPMSOLVER), new TimestepSpacing.TimeUniform(), 6, null, null, true, false);
        EvaluationPlan plan = EvaluationPlan.of(cfg, p.schedule());
        ExportSubject s = ExportSubject.baseline(cfg, plan.grid(), p.schedule(), N, false, 1.0);
        ExportSupport e = ExportRules.decide(ExportFormat.DIFFUSERS, s);
        assertTrue(e.isSupported(), e.message());
        Map<?, ?> config = (Map<?, ?>) e.call().arguments().get("schedulerConfig");
        assertEquals("DPMSolverSinglestepScheduler", config.get("_class_name"));
        assertEquals(false, config.get("lower_order_final"), "get_order_list(6) with lower_order_final=True ends "
                + "[1, 1], which runs the last interval as two first-order steps");
        // 3 outer + 3 inner points, each a scheduler step
        assertEquals(6, ((double[]) e.call().arguments().get("timesteps")).length);
        assertEquals(6, plan.nfe());
        compare(p, e.call(), ours(p, cfg), Vec.scale(e.call().finalScale(), diffusers(p, e.call())), "2S NFE 6");
        // k-diffusion's sample_dpmpp_2s_ancestral puts the inner point at r = 1/2 in log sigma; time_uniform does not
        ExportSupport k = ExportRules.decide(ExportFormat.K_DIFFUSION, s);
        assertFalse(k.isSupported());
        assertTrue(k.reason().contains("r = 1/2"), k.reason());
        assertTrue(k.alternatives().contains(ExportFormat.DIFFUSERS));
    }

    @Test
    void manualSigmasNeverUseExponentsAndReadBackExactly() {
        double[] sigmas = {14.614641229333612, 0.0291675, 9.99e-4, 1.2345e-7, 0.0};
        String s = SigmaListRules.manualSigmas(sigmas);
        assertFalse(s.contains("E") || s.contains("e"), s);
        double[] back = ComfyUiEmulator.parseManualSigmas(s);
        assertEquals(sigmas.length, back.length, s);
        for (int i = 0; i < sigmas.length; i++) {
            assertEquals((double) (float) sigmas[i], back[i], 0.0, s);
        }
        // what Double.toString wrote before: ManualSigmas reads 9.99E-4 as the two numbers 9.99 and -4
        assertEquals(2, ComfyUiEmulator.parseManualSigmas(Double.toString(9.99e-4)).length);
    }

    @Test
    void comfyUiRefusesGridsBetweenIntegerTimestepsAndNamesKDiffusion() {
        Problem p = vpDiscrete();
        SamplerConfig cfg = new SamplerConfig(DpmSolver.plusPlusMultistep(2), new TimestepSpacing.LogSnr(),
                6, null, null, true, false);
        ExportSubject s = ExportSubject.baseline(cfg, EvaluationPlan.of(cfg, p.schedule()).grid(), p.schedule(), N,
                false, 1.0);
        ExportSupport c = ExportRules.decide(ExportFormat.COMFYUI, s);
        assertFalse(c.isSupported());
        assertTrue(c.reason().contains("nearest"), c.reason());
        assertTrue(c.alternatives().contains(ExportFormat.K_DIFFUSION));
        assertTrue(c.alternatives().contains(ExportFormat.DIFFUSERS));
    }

    @Test
    void diffusersUsesTimestepsOnlyWhereEveryModelCallIsAnIntegerTimestep() {
        Problem p = vpDiscrete();
        Set<String> modes = new TreeSet<>();
        for (TimestepSpacing sp : List.of(new TimestepSpacing.TimeUniform(), integerGrid((VpDiscreteSchedule)
                p.schedule()), new TimestepSpacing.Karras(7.0))) {
            for (int steps : new int[] {5, 9}) {
                SamplerConfig cfg = new SamplerConfig(DpmSolver.plusPlusMultistep(2), sp,
                        sp instanceof TimestepSpacing.Explicit e ? e.timesteps().length - 1 : steps, null, null, true,
                        false);
                double[] grid = EvaluationPlan.of(cfg, p.schedule()).grid();
                ConsumerCall call = ExportRules.decide(ExportFormat.DIFFUSERS, ExportSubject.baseline(cfg, grid,
                        p.schedule(), N, false, 1.0)).call();
                boolean integer = true;
                for (int i = 0; i < grid.length - 1; i++) {
                    double n = p.schedule().modelInputTime(grid[i]);
                    integer &= Math.abs(n - Math.rint(n)) < 1e-9;
                }
                String mode = (String) call.arguments().get("mode");
                assertEquals(integer ? "timesteps" : "assign", mode, sp.id() + " " + cfg.steps());
                modes.add(mode);
            }
        }
        assertEquals(Set.of("assign", "timesteps"), modes);
    }
}
