package io.solvertune.exports;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Coefficient methods in stock consumers: refused with the reason and the formats that work, unless every
 * coefficient is neutral (then the set samples exactly as its base and is exported as that base, which the
 * consumer emulation checks); DC-Solver ratios go to the official {@code DCSolver} only where it runs exactly the
 * set's solver (UniPC order 3 on its time_uniform / logSNR / time_quadratic grid from t = 1 to 1/N), and the
 * cascade-polynomial coefficients are always refused. The official DCSolver call was checked at dev time: the real
 * {@code dc_solver.py} (wl-zhao/DC-Solver@f82d060) given the dc-ratios export of 8 DC configs (bh1/bh2,
 * time_uniform/logSNR, NFE 5/7) on {@code public_gmm_sd_d8} reproduced our DC sampler to 2.1e-15 relative.
 */
class CoefficientExportsTest {

    static final SolverSpec UNIPC3 = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);

    static CoefficientSet set(CoefficientSet.Method method, SolverSpec base, TimestepSpacing spacing, int steps,
                              List<String> columns, double[][] values) {
        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        double[] times = spacing.times(p.schedule(), p.schedule().defaultTStart(), p.schedule().defaultTEnd(), steps);
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, method, base, spacing, steps, steps, times, columns,
                values, null, null, null);
    }

    static CoefficientSet dc(SolverSpec base, TimestepSpacing spacing, int steps, double wobble) {
        double[][] v = new double[steps][];
        for (int i = 0; i < steps; i++) {
            v[i] = new double[] {i < 2 ? 1.0 : 1.0 + wobble * (i % 2 == 0 ? 1 : -1)};
        }
        return set(CoefficientSet.Method.DC, base, spacing, steps, List.of("ratio"), v);
    }

    static ExportSubject subject(CoefficientSet set, boolean cpr) {
        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        return ExportSubject.coefficients(set, cpr, p.schedule(), PredictionType.NOISE, false, 7.5);
    }

    @Test
    void fittedCoefficientsAreRefusedByStockConsumersNamingTheFormatsThatWork() {
        CoefficientSet dc = dc(UNIPC3, new TimestepSpacing.TimeUniform(), 6, 0.05);
        List<ExportSupport> all = ExportRules.all(subject(dc, false));
        for (ExportFormat f : List.of(ExportFormat.DIFFUSERS, ExportFormat.K_DIFFUSION, ExportFormat.COMFYUI)) {
            ExportSupport e = all.get(f.ordinal());
            assertFalse(e.isSupported(), f.id());
            assertTrue(e.reason().contains("would run plain unipc data bh2 o3"), e.reason());
            assertEquals(List.of(ExportFormat.JSON, ExportFormat.DC_RATIOS), e.alternatives());
        }
        CoefficientSet dode = set(CoefficientSet.Method.DODE, DpmSolver.plusPlusMultistep(2),
                new TimestepSpacing.LogSnr(), 5, List.of("lambda"), new double[][] {{0.0}, {0.1}, {-0.2}, {0.1}, {0.0}});
        ExportSupport e = ExportRules.decide(ExportFormat.DIFFUSERS, subject(dode, false));
        assertFalse(e.isSupported());
        assertEquals(List.of(ExportFormat.JSON), e.alternatives());
        assertTrue(e.message().endsWith("Formats that reproduce this config: json."), e.message());
    }

    /** A neutral set samples as its base, bit for bit; the base's exports are offered and reproduce it. */
    @Test
    void neutralSetsExportAsTheirBaseSolver() {
        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        CoefficientSet neutral = dc(UNIPC3, new TimestepSpacing.LogSnr(), 6, 0.0);
        assertTrue(neutral.isNeutral());
        ExportSubject s = subject(neutral, false);
        SamplerConfig run = new SamplerConfig(MethodCatalog.spec(neutral), neutral.spacing(), 6, null, null, true,
                false);
        double[] ours;
        try (NDManager m = NDManager.newBaseManager(); GaussianMixtureDenoiser model = p.model()) {
            NDArray x = m.create(Vec.flat(p.xT()), new Shape(p.xT().length, p.xT()[0].length));
            ours = Sampler.sample(run, new ModelFunction(model, Guidance.none()), x).x().toDoubleArray();
        }
        ExportSupport d = ExportRules.decide(ExportFormat.DIFFUSERS, s);
        assertTrue(d.isSupported(), d.message());
        assertEquals("UniPCMultistepScheduler", d.call().arguments().get("scheduler"));
        assertTrue(d.call().notes().get(0).contains("neutral"), d.call().notes().toString());
        ExportConsumersTest.compare(p, d.call(), ours, Vec.scale(d.call().finalScale(),
                ExportConsumersTest.diffusers(p, d.call())), "neutral DC in diffusers");
        assertTrue(ExportRules.decide(ExportFormat.DC_RATIOS, s).isSupported());
    }

    /** A ConsistencySolver table (noise form, order 4): {@code a} on every free coefficient. */
    static CoefficientSet consistency(TimestepSpacing spacing, int steps, double a) {
        var form = io.solvertune.numerics.solver.consistency.Consistency.Form.NOISE;
        double[][] v = new double[steps][];
        for (int i = 0; i < steps; i++) {
            v[i] = new double[io.solvertune.numerics.solver.consistency.Consistency.columns(4, i)];
            java.util.Arrays.fill(v[i], a);
        }
        return set(CoefficientSet.Method.CONSISTENCY, form.base(4), spacing, steps,
                io.solvertune.numerics.solver.consistency.Consistency.columnNames(4), v);
    }

    /**
     * ConsistencySolver's trained tables run in no stock consumer (each step combines the newest model outputs with
     * learned weights): every export but json is refused with the reason; a neutral table is its base, first-order
     * DPM-Solver on eps (DDIM), and exports as that, reproducing our sampler.
     */
    @Test
    void consistencySolverTablesExportOnlyAsJsonUnlessNeutral() {
        CoefficientSet trained = consistency(new TimestepSpacing.Karras(7.0), 6, 0.2);
        for (ExportSupport e : ExportRules.all(subject(trained, false))) {
            if (e.format() == ExportFormat.JSON) {
                assertTrue(e.isSupported());
                continue;
            }
            assertFalse(e.isSupported(), e.format().id());
            assertEquals(List.of(ExportFormat.JSON), e.alternatives(), e.format().id());
            assertFalse(e.reason().isBlank());
        }
        ExportSupport d = ExportRules.decide(ExportFormat.DIFFUSERS, subject(trained, false));
        assertTrue(d.reason().startsWith("consistency coefficients change every step of dpmsolver multistep o1"),
                d.reason());
        assertTrue(ExportRules.decide(ExportFormat.DC_RATIOS, subject(trained, false)).reason()
                .startsWith("only DC-Solver configs have ratios"));

        ExportConsumersTest.Problem p = ExportConsumersTest.vpDiscrete();
        CoefficientSet neutral = consistency(new TimestepSpacing.LogSnr(), 6, 0.0);
        assertTrue(neutral.isNeutral());
        SamplerConfig run = new SamplerConfig(MethodCatalog.spec(neutral), neutral.spacing(), 6, null, null, true,
                false);
        double[] ours;
        try (NDManager m = NDManager.newBaseManager(); GaussianMixtureDenoiser model = p.model()) {
            NDArray x = m.create(Vec.flat(p.xT()), new Shape(p.xT().length, p.xT()[0].length));
            ours = Sampler.sample(run, new ModelFunction(model, Guidance.none()), x).x().toDoubleArray();
        }
        ExportSupport n = ExportRules.decide(ExportFormat.DIFFUSERS, subject(neutral, false));
        assertTrue(n.isSupported(), n.message());
        assertTrue(n.call().notes().get(0).contains("consistency coefficient of this set is neutral"),
                n.call().notes().toString());
        ExportConsumersTest.compare(p, n.call(), ours, Vec.scale(n.call().finalScale(),
                ExportConsumersTest.diffusers(p, n.call())), "neutral ConsistencySolver in diffusers");
    }

    @Test
    void dcRatiosGoToTheOfficialDcSolverOnlyWhereItRunsTheSetsSolver() {
        CoefficientSet ok = dc(UNIPC3, new TimestepSpacing.TimeUniform(), 6, 0.05);
        ExportSupport e = ExportRules.decide(ExportFormat.DC_RATIOS, subject(ok, true));
        assertTrue(e.isSupported(), e.message());
        Map<?, ?> ctor = (Map<?, ?>) e.call().arguments().get("constructor");
        Map<?, ?> sample = (Map<?, ?>) e.call().arguments().get("sample");
        assertEquals(Map.of("predict_x0", true, "thresholding", false, "variant", "bh2", "dc_order", 2), ctor);
        assertEquals(Map.of("steps", 6, "skip_type", "time_uniform", "method", "multistep", "order", 3,
                "lower_order_final", true), sample);
        double[] ratios = (double[]) e.call().arguments().get("ratios");
        for (int i = 0; i < 6; i++) {
            assertEquals(ok.values()[i][0], ratios[i]);
        }
        assertTrue(e.call().code().contains("DCSolver(model_fn, ns, predict_x0=True, thresholding=False, "
                + "variant='bh2', dc_order=2)"), e.call().code());
        assertTrue(e.call().code().contains("reshape(x_T.shape[0], -1, 1, 1)"), e.call().code());

        ExportSupport dpm = ExportRules.decide(ExportFormat.DC_RATIOS, subject(dc(DpmSolver
                .plusPlusMultistep(2), new TimestepSpacing.TimeUniform(), 6, 0.05), false));
        assertFalse(dpm.isSupported());
        assertTrue(dpm.reason().contains("UniPC with order 3"), dpm.reason());
        ExportSupport order2 = ExportRules.decide(ExportFormat.DC_RATIOS, subject(dc(new UniPc(
                PredictionType.DATA, UniPc.Variant.BH2, 2), new TimestepSpacing.TimeUniform(), 6, 0.05), false));
        assertFalse(order2.isSupported());
        ExportSupport karras = ExportRules.decide(ExportFormat.DC_RATIOS, subject(dc(UNIPC3,
                new TimestepSpacing.Karras(7.0), 6, 0.05), false));
        assertFalse(karras.isSupported());
        assertTrue(karras.reason().contains("karras"), karras.reason());

        ExportSupport cpr = ExportRules.decide(ExportFormat.DC_CPR, subject(ok, true));
        assertFalse(cpr.isSupported());
        assertTrue(cpr.reason().contains("DCSolverMultistepScheduler"), cpr.reason());
        assertTrue(cpr.alternatives().contains(ExportFormat.DC_RATIOS));
        assertTrue(ExportRules.decide(ExportFormat.DC_CPR, subject(ok, false)).reason().contains("without cascade"));
    }

    @Test
    void everyVerdictOfAConfigIsDecidedByOneFunction() {
        CoefficientSet ok = dc(UNIPC3, new TimestepSpacing.TimeUniform(), 6, 0.05);
        ExportSubject s = subject(ok, true);
        List<ExportSupport> all = ExportRules.all(s);
        assertArrayEquals(ExportFormat.values(), all.stream().map(ExportSupport::format).toArray());
        for (ExportSupport e : all) {
            ExportSupport one = ExportRules.decide(e.format(), s);
            assertEquals(e.isSupported(), one.isSupported());
            assertEquals(e.reason(), one.reason());
            assertEquals(e.alternatives(), one.alternatives());
            assertEquals(e.isSupported() ? e.call().code() : null, one.isSupported() ? one.call().code() : null);
        }
    }
}
