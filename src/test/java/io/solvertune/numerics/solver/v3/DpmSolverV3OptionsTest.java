package io.solvertune.numerics.solver.v3;

import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.StepListener;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The options the official reference files do not exercise ({@code p_pseudo}, {@code half}, order 3 with pseudo
 * corrector, {@code lower_order_final=False}), against a line-by-line numpy port of the official
 * {@code DPM_Solver_v3.sample} (which reproduces the reference files to 1e-10) on the first 4 rows of {@code x_T};
 * plus NFE, listener, JSON, dtype and validation behaviour.
 */
class DpmSolverV3OptionsTest {
    static final double TOL = 1e-7;
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    record Case(String problem, String skip, int order, boolean pPseudo, boolean corrector, boolean cPseudo,
                boolean half, boolean lowerOrderFinal, int steps, double[] expected) {
        @Override
        public String toString() {
            return problem + " " + skip + " o" + order + (pPseudo ? " ppseudo" : "") + (corrector ? " corr" : "")
                    + (cPseudo ? " cpseudo" : "") + (half ? " half" : "") + (lowerOrderFinal ? " lof" : "")
                    + " nfe" + steps;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
            // public_gmm_linear_d8 logSNR o3 pp True corr True cps True half False lof True nfe 6
            // diff if pPseudo flipped 2.07e-01, if half flipped 1.18e+00
            new Case("public_gmm_linear_d8", "logSNR", 3, true, true, true, false, true, 6, new double[] {
                    -1.931647277359884, 0.9477743553911813, -1.26551328809555, 2.0390348522969024,
                    0.3256338882593252, 0.6660607370601438, 1.458532626853315, 0.6631318274213329,
                    -0.19361320417590935, 3.2122547154704413, -0.8241664937942942, -2.119091288561343,
                    -0.30856250165639765, 1.5001888467759037, 0.4404294183618553, -0.005919041315099136,
                    -1.9478517278057275, 0.7675224805207088, -1.643987325205269, 2.3496506324961115,
                    0.3747195909277183, 0.6628279700079494, 1.492758768368968, 0.6319312316519893,
                    -2.3605870202420336, 0.6461177059923146, 0.856017477765562, 2.133960715399237,
                    3.192167362816847, 1.1975968502160443, -3.2996510574809013, -3.2038582993729623}),
            // public_gmm_linear_d8 time_uniform o2 pp False corr True cps False half True lof True nfe 8
            // diff if pPseudo flipped 0.00e+00, if half flipped 1.39e-01
            new Case("public_gmm_linear_d8", "time_uniform", 2, false, true, false, true, true, 8, new double[] {
                    -2.078380411860827, 0.804649826742233, -1.2234226578057301, 2.487421297757624,
                    0.3539368461843977, 0.5953905369931974, 1.6130803724125464, 0.7367005912673211,
                    -0.24621243441323992, 3.3069628564599767, -0.8147281809665281, -2.487229032548948,
                    -0.2117298926737151, 1.4839499283099293, 0.47816280095132463, -0.08247224321431434,
                    -1.925704854561999, 0.7744882767744549, -1.6349932220995342, 2.79918905094982,
                    0.5559269766449779, 0.6843395494603131, 1.5394372273751158, 0.6927535734757408,
                    -2.4868582156319223, 0.6552567514310041, 0.90262799084822, 2.238589705676694,
                    3.2805470960439935, 1.2348097014639934, -3.3437817859192793, -3.1853676638010033}),
            // public_gmm_sd_d8 logSNR o3 pp True corr True cps False half True lof False nfe 5
            // diff if pPseudo flipped 2.42e-01, if half flipped 2.71e-01
            new Case("public_gmm_sd_d8", "logSNR", 3, true, true, false, true, false, 5, new double[] {
                    3.438465650576869, 0.22164886300926698, 1.1824438671535578, -1.2873698256849935,
                    0.4922174661134937, 0.6865604980832007, 0.3696843791386601, -5.280998895480402,
                    -1.0316998932219266, -1.5902851348330107, 1.4559693718347424, 3.26513407584755,
                    -0.8656023337550202, 0.9151241650249906, -2.735617066647448, 2.3106960190555537,
                    3.0339774237520696, 0.7163186112052634, 1.0614072213895442, -1.043173604282861,
                    0.5851465104209325, 0.5362404350965922, 0.13592583647830989, -5.308718048930255,
                    -3.337746373413577, 3.0465495520620856, 3.71773971159751, -2.9150888727749087,
                    -0.6926743199120825, -0.7278842065571131, -0.9366433001059317, 2.363899141563631}),
            // public_gmm_linear_d8 time_uniform o3 pp True corr False cps False half False lof False nfe 10
            // diff if pPseudo flipped 5.02e-01, if half flipped 0.00e+00
            new Case("public_gmm_linear_d8", "time_uniform", 3, true, false, false, false, false, 10, new double[] {
                    -1.5164152687869152, 1.5557494763431203, -1.015963977002931, 1.0251957220569092,
                    0.18893910286703383, 0.9035111352675476, 1.2418944730113801, 0.5221850932335801,
                    -0.2200837115442153, 3.310487522597466, -0.7668988284084887, -2.4288340657097156,
                    -0.20875249825081774, 1.5622963492366329, 0.4265981225320138, -0.03660259078745337,
                    -2.000907473016685, 0.7149874307098375, -1.6370475785319538, 2.6614396474760595,
                    0.5253496066744776, 0.6813537001149411, 1.5370716087011638, 0.6975370208535063,
                    -2.5085659847935333, 0.6333177816446038, 0.9521139481080281, 2.510593808321634,
                    3.3334833695391404, 1.2177433822608854, -3.4593923512308873, -3.2554152817818096}),
            // public_gmm_sd_d32_cfg5 time_uniform o3 pp False corr True cps True half True lof True nfe 6
            // diff if pPseudo flipped 2.27e-02, if half flipped 1.43e-01
            new Case("public_gmm_sd_d32_cfg5", "time_uniform", 3, false, true, true, true, true, 6, new double[] {
                    -0.8775570545776408, 1.7514406870651478, -1.4435028799917913, 4.132999870292638,
                    -0.029975553397080287, -0.5228525729048654, 0.8666202614265455, -0.4518597510549817,
                    -2.2234712680916924, -1.0736028665859116, 0.2838093802000813, 3.1468919113024985,
                    0.45393413000075605, 3.3728505898295706, -4.96035789145962, -0.7992282582891349,
                    -0.07203822982755956, 3.674599753411947, 3.269601374673464, 0.5984986195674937,
                    1.1841288416951883, -0.6044353333386722, -1.3388464623771605, 0.2832791371892145,
                    -0.7035709645071828, 0.6222201304126901, 1.5425689548726873, -0.47276921130426597,
                    2.1826747775715987, -2.3996655353821668, 0.21023898778461156, 0.5037767725734442,
                    -0.4440990763081524, -0.6047773174118668, 3.525567455009597, -0.7888526393529876,
                    -0.76094987952297, 0.6813002361789153, 2.8309666297504386, 1.1368759176633896,
                    -2.221229638296621, 0.5096524260665493, 0.13272109607197652, -2.9151569942829756,
                    -1.6904861078035518, -1.5661121782673177, -0.8520146646515174, 3.3127116247951496,
                    0.9086097602722126, -0.8747687753428027, -0.3217383005505429, -2.145226170198497,
                    -1.1215659736455874, 1.5346229186470741, 0.02926859864126149, -4.083404304048069,
                    -2.395701824711739, 1.1549326551008765, -2.1443403388910087, -0.6865766453909729,
                    2.062220276955898, -0.42359104404166814, -0.7192649289472076, -0.8175262683609621,
                    -1.468136851741088, 1.6834565727201993, -1.6833186209964826, 3.840108487959305,
                    0.18158035251567853, -0.2907775967410021, 0.9249916949270485, -0.3243292833167771,
                    -2.1571263623099206, -1.1746948030892037, 0.3919711168539635, 3.0823364340552493,
                    0.5713349772096363, 3.3759651539029525, -4.744553534768769, -0.9202475733458433,
                    -0.31080685493632304, 3.52386299621646, 3.471737238984799, 0.5825005149241455,
                    1.245936373946288, -0.19739326165503798, -1.4246772004677488, 0.11411757908333568,
                    -0.7193716914844184, 0.4834613261275167, 1.8425865909835932, -0.254857051483374,
                    2.274371680379747, -2.584170255313124, 0.07234099356888607, 0.43532799513169884,
                    -0.566682053808203, -0.3016584460363074, 3.905899921319481, -0.7839167293509846,
                    -0.7057050631905615, 1.1197111623775988, 3.1750296132008495, 1.4078731688254287,
                    -1.8603180812462268, 0.350182443047917, -0.27869092071742035, -2.8572765301122898,
                    -1.479176512728361, -0.9404960091939591, -0.5707331995110219, 3.537260288040153,
                    1.0923077706834834, -1.0175649972210574, -0.2951698282228648, -2.1329482953608947,
                    -1.1917624898669714, 1.845476974525878, -0.1136733442317657, -4.216704988331176,
                    -2.6517395322602684, 1.2109864383337843, -2.373257675718849, -0.664402458825429,
                    2.4764989690166423, -0.3669623105181267, -0.8121517252847973, -0.7816418806872746})
        );
    }

    static EmpiricalModelStatistics ems(String problem) throws IOException {
        return EmsNpz.read(ReferenceProblem.resource("ems_" + problem), 1.0, 1e-3);
    }

    /** Samples the first {@code rows} rows of the problem's x_T. */
    static SampleResult run(NDManager m, ReferenceProblem p, SamplerConfig cfg, int rows, DataType dt,
                            StepListener listener) {
        NpyArray xT = p.get("x_T");
        long d = xT.shape()[1];
        double[] v = Arrays.copyOf(xT.doubles(), (int) (rows * d));
        NDArray x = m.create(v, new Shape(rows, d));
        if (dt != DataType.FLOAT64) {
            x = x.toType(dt, true);
        }
        try (GaussianMixtureDenoiser model = p.model()) {
            return Sampler.sample(cfg, new ModelFunction(model, p.guidance), x, listener);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesOfficialAlgorithm(Case c) throws IOException {
        ReferenceProblem p = ReferenceProblem.load(c.problem());
        SolverSpec spec = new DpmSolverV3(ems(c.problem()), c.order(), c.pPseudo(), c.corrector(),
                c.cPseudo(), c.half(), false, null);
        SamplerConfig cfg = new SamplerConfig(spec, TimestepSpacing.named(c.skip(), 7.0), c.steps(), 1.0, 1e-3,
                c.lowerOrderFinal(), false);
        try (NDManager m = manager.newSubManager()) {
            SampleResult r = run(m, p, cfg, 4, DataType.FLOAT64, StepListener.NONE);
            double[] ours = r.x().toDoubleArray();
            assertEquals(c.expected().length, ours.length);
            double worst = 0;
            for (int i = 0; i < ours.length; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - c.expected()[i]) / Math.max(1.0, Math.abs(c.expected()[i])));
            }
            System.out.printf("dpmsolver-v3 %s: worst scaled error %.3e%n", c, worst);
            assertTrue(worst <= TOL, c + ": worst scaled error " + worst);
            assertEquals(c.steps(), r.nfe(), "NFE");
        }
    }

    @Test
    void listenerSeesEveryStepWithItsNoisePrediction() throws IOException {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_linear_d8");
        SolverSpec spec = DpmSolverV3.of(ems("public_gmm_linear_d8"), 3);
        SamplerConfig cfg = new SamplerConfig(spec, new TimestepSpacing.LogSnr(), 6, 1.0, 1e-3, true, false);
        List<String> seen = new ArrayList<>();
        StepListener l = new StepListener() {
            @Override
            public void onStep(int index, double s, double t, NDArray x, NDArray eps) {
                assertNotNull(eps, "model output at s");
                assertArrayEquals(x.getShape().getShape(), eps.getShape().getShape());
                seen.add(index + ":" + s + "->" + t);
            }
        };
        try (NDManager m = manager.newSubManager()) {
            SampleResult r = run(m, p, cfg, 4, DataType.FLOAT64, l);
            assertEquals(6, seen.size());
            assertEquals(6, r.nfe());
            assertEquals(7, r.grid().length);
            TrajectoryRecorder rec = new TrajectoryRecorder();
            run(m, p, cfg, 4, DataType.FLOAT64, rec);
            assertEquals(7, rec.states().size());
            assertArrayEquals(r.x().toDoubleArray(), rec.states().get(6), 0.0);
        }
    }

    @Test
    void float32RunStaysInFloat32AndCloseToFloat64() throws IOException {
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d8");
        SolverSpec spec = new DpmSolverV3(ems("public_gmm_sd_d8"), 3, false, true, true, false, false, null);
        SamplerConfig cfg = new SamplerConfig(spec, new TimestepSpacing.TimeUniform(), 8, 1.0, 1e-3, true, false);
        try (NDManager m = manager.newSubManager()) {
            SampleResult r64 = run(m, p, cfg, 8, DataType.FLOAT64, StepListener.NONE);
            SampleResult r32 = run(m, p, cfg, 8, DataType.FLOAT32, StepListener.NONE);
            assertEquals(DataType.FLOAT32, r32.x().getDataType());
            double[] a = r64.x().toDoubleArray();
            float[] b = r32.x().toFloatArray();
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1.0, Math.abs(a[i])));
            }
            assertTrue(worst < 1e-4, "float32 vs float64: " + worst);
        }
    }

    @Test
    void specSerializesWithMetadataOnly() throws Exception {
        EmpiricalModelStatistics e = ems("public_gmm_linear_d8");
        SolverSpec spec = new DpmSolverV3(e, 2, true, true, false, true, false, new int[] {0, 120, 240});
        JsonNode json = new ObjectMapper().valueToTree(spec);
        assertEquals("dpmsolver-v3", json.get("solver").asText());
        assertEquals(240, json.get("ems").get("gridSteps").asInt());
        assertEquals(3, json.get("ems").get("sampleShape").size());
        assertTrue(json.get("ems").get("l") == null, "arrays are not serialized");
        assertEquals(3, json.get("explicitIndexes").size());
        assertEquals(spec, new DpmSolverV3(e, 2, true, true, false, true, false, new int[] {0, 120, 240}));
        assertEquals("dpmsolver-v3 o2 ppseudo corr half", spec.label());
        Exception back = assertThrows(Exception.class, () -> new ObjectMapper().treeToValue(json, SolverSpec.class));
        String chain = back.getMessage() + (back.getCause() != null ? " / " + back.getCause().getMessage() : "");
        assertTrue(chain.contains("load the arrays with EmsNpz"), chain);
    }

    @Test
    void invalidSpecsAndGridsAreRejected() throws IOException {
        EmpiricalModelStatistics e = ems("public_gmm_linear_d8");
        assertThrows(IllegalArgumentException.class, () -> new DpmSolverV3(null, 2, false, true, false,
                false, false, null));
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
                () -> new DpmSolverV3(e, 4, false, true, false, false, false, null));
        assertTrue(o.getMessage().contains("order"), o.getMessage());
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> new DpmSolverV3(e, 2, false, true, false, false, false, new int[] {0, 100, 241}));
        assertTrue(range.getMessage().contains("241"), range.getMessage());
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> new DpmSolverV3(e, 2, false, true, false, false, false, new int[] {0, 100, 100}));
        assertTrue(order.getMessage().contains("increase"), order.getMessage());

        ReferenceProblem p = ReferenceProblem.load("public_gmm_linear_d8");
        SolverSpec explicit = new DpmSolverV3(e, 2, false, true, false, false, false, new int[] {0, 120, 240});
        SamplerConfig wrongSteps = new SamplerConfig(explicit, new TimestepSpacing.LogSnr(), 5, 1.0, 1e-3, true, false);
        IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
                () -> explicit.create().grid(p.schedule, wrongSteps, 1.0, 1e-3));
        assertTrue(steps.getMessage().contains("5 steps"), steps.getMessage());

        // 300 logSNR steps cannot be placed on 240 grid intervals without repeats
        SolverSpec snapped = DpmSolverV3.of(e, 2);
        SamplerConfig tooMany = new SamplerConfig(snapped, new TimestepSpacing.LogSnr(), 300, 1.0, 1e-3, true, false);
        IllegalArgumentException rep = assertThrows(IllegalArgumentException.class,
                () -> snapped.create().grid(p.schedule, tooMany, 1.0, 1e-3));
        assertTrue(rep.getMessage().contains("repeated grid indexes"), rep.getMessage());

        // sampling outside the statistics' time range
        SamplerConfig outside = new SamplerConfig(snapped, new TimestepSpacing.LogSnr(), 5, 1.0, 1e-4, true, false);
        IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                () -> snapped.create().grid(p.schedule, outside, 1.0, 1e-4));
        assertTrue(out.getMessage().contains("outside the statistics grid"), out.getMessage());
    }

    @Test
    void statisticsOfAnotherSampleShapeAreRejected() throws IOException {
        // 8-dimensional statistics with the 32-dimensional guided problem
        ReferenceProblem p = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        SolverSpec spec = DpmSolverV3.of(ems("public_gmm_sd_d8"), 2);
        SamplerConfig cfg = new SamplerConfig(spec, new TimestepSpacing.LogSnr(), 5, 1.0, 1e-3, true, false);
        try (NDManager m = manager.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(m, p, cfg, 2, DataType.FLOAT64, StepListener.NONE));
            assertTrue(e.getMessage().contains("[8, 1, 1]") && e.getMessage().contains("[32]"), e.getMessage());
        }
        try (GaussianMixtureDenoiser model = p.model()) {
            assertThrows(IllegalArgumentException.class, () -> ems("public_gmm_sd_d8").requireCompatible(model.sampleShape()));
        }
    }
}
