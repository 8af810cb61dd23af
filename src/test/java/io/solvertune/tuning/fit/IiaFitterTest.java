package io.solvertune.tuning.fit;

import io.solvertune.tuning.eval.Candidate;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.numerics.solver.iia.Iia;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.iia.Iia.Form;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import io.solvertune.testing.ReferenceProblem;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The IIA fitter: planted coefficients are recovered from their own trajectory; collinear gradient vectors are
 * reported and do not explode; on the reference mixture (CFG 5, 32 rows) every form lowers each step's residual
 * against its fine target and the final error against the reference teacher; the set round-trips to a runnable spec.
 */
class IiaFitterTest {
    static NDManager manager;
    static ReferenceProblem problem;
    static GaussianMixtureDenoiser model;
    static double[] initial;
    static double[] teacher;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
        problem = ReferenceProblem.load("public_gmm_sd_d32_cfg5");
        model = problem.model();
        initial = problem.get("x_T").doubles();
        teacher = problem.get("teacher").doubles();
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    static FitContext context(Denoiser m, Guidance g, double[] init, int rows, int batch) {
        return new FitContext(m, g, Seeds.range(0, rows), Arrays.copyOf(init, rows * (int) m.sampleShape()[0]),
                m.sampleShape(), problem.tStart, problem.tEnd, DataType.FLOAT64, batch, Progress.NONE, null);
    }

    static double[][] planted(Form form, int r, int steps, long seed) {
        Random rnd = new Random(seed);
        double[][] c = new double[steps][];
        for (int i = 0; i < steps; i++) {
            c[i] = new double[form.columns(r, i)];
            for (int k = 0; k < c[i].length; k++) {
                c[i][k] = 0.3 * rnd.nextGaussian();
            }
        }
        return c;
    }

    static SampleResult sample(SolverSpec spec, TimestepSpacing spacing, int steps, TrajectoryRecorder rec) {
        NpyArray xT = problem.get("x_T");
        NDArray x = manager.create(xT.doubles(), new Shape(xT.shape()));
        SamplerConfig cfg = new SamplerConfig(spec, spacing, steps, problem.tStart, problem.tEnd, true, false);
        return Sampler.sample(cfg, new ModelFunction(model, problem.guidance), x,
                rec == null ? io.solvertune.numerics.solver.StepListener.NONE : rec);
    }

    static double mse(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s / a.length;
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void plantedCoefficientsAreRecovered(Form form) {
        int r = form == Form.BIIA_EDM ? 2 : 1;
        int steps = form.nfePerStep() == 2 ? 3 : 5;
        double[][] c = planted(form, r, steps, 17);
        TimestepSpacing spacing = new TimestepSpacing.LogSnr();
        TrajectoryRecorder rec = new TrajectoryRecorder();
        sample(new Iia(form, r, c, null), spacing, steps, rec).x().close();
        List<double[]> states = rec.states();
        int per = 32;
        // the injected target: the planted IIA step from the same state with the same regressors (its trajectory)
        IiaFitter.Target target = (step, s, t, from, z, fn) -> {
            int rows = (int) z.getShape().get(0);
            double[] v = Arrays.copyOfRange(states.get(step + 1), from * per, (from + rows) * per);
            return z.getManager().create(v, z.getShape());
        };
        IiaFitter.Settings st = IiaFitter.Settings.defaults().withSamples(32).withR(r).withRidge(0.0).withMaxCorrection(1e6);
        // batches of 10: 10, 10, 10, 2 rows
        CoefficientSet set = IiaFitter.fit(context(model, problem.guidance, initial, 32, 10), form, spacing,
                steps * form.nfePerStep(), st, target);
        // DDIM forms: z_1 is a plain DDIM step from z_0, so at step 1 eps_1 - eps_0 = -(alpha_1/sigma_1)(x0_1 - x0_0):
        // the two vectors are collinear, only their combined correction is identifiable, and the fit says so
        boolean collinearStep1 = form.nfePerStep() == 1;
        double worst = 0;
        for (int i = 0; i < steps; i++) {
            assertEquals(c[i].length, set.values()[i].length);
            for (int k = 0; k < c[i].length; k++) {
                if (!(collinearStep1 && i == 1)) {
                    worst = Math.max(worst, Math.abs(set.values()[i][k] - c[i][k]));
                }
            }
            assertTrue(set.fit().residuals()[i] < 1e-20, "step " + i + " residual " + set.fit().residuals()[i]
                    + " " + set.fit().warnings());
        }
        assertTrue(worst < 1e-8, form + ": worst coefficient error " + worst + "\nplanted " + Arrays.deepToString(c)
                + "\nfitted " + Arrays.deepToString(set.values()) + "\n" + set.fit().warnings());
        if (collinearStep1) {
            assertEquals(1, set.fit().warnings().size(), set.fit().warnings().toString());
            assertTrue(set.fit().warnings().get(0).startsWith("step 1: ill-conditioned"), set.fit().warnings().toString());
        } else {
            assertEquals(List.of(), set.fit().warnings());
        }
        assertEquals(form == Form.BIIA_EDM ? CoefficientSet.Method.BIIA : CoefficientSet.Method.IIA, set.method());
        assertEquals(form.base(), set.base());
        assertEquals("injected", set.provenance().settings().get("target"));
        System.out.printf("iia planted %-16s worst coefficient error %.2e%n", form, worst);
    }

    /** A data prediction linear in the state, 0.5 x: every state and every gradient vector is a multiple of x_T. */
    static Denoiser linearModel(NoiseSchedule schedule) {
        return new Denoiser() {
            @Override
            public PredictionType predictionType() {
                return PredictionType.DATA;
            }

            @Override
            public NoiseSchedule schedule() {
                return schedule;
            }

            @Override
            public NDArray predict(NDArray x, double t, NDArray labels) {
                return x.mul(0.5);
            }

            @Override
            public long[] sampleShape() {
                return new long[] {32};
            }
        };
    }

    @ParameterizedTest
    @EnumSource(value = Form.class, names = {"IIA_DDIM", "IIA_EDM"})
    void collinearGradientVectorsAreReportedNotExploding(Form form) {
        Denoiser lin = linearModel(model.schedule());
        IiaFitter.Settings st = IiaFitter.Settings.defaults().withSamples(16).withR(2).withFineSubsteps(4);
        CoefficientSet set = IiaFitter.fit(context(lin, Guidance.none(), initial, 16, 16), form,
                new TimestepSpacing.TimeUniform(), 4 * form.nfePerStep(), st);
        List<String> w = set.fit().warnings();
        assertTrue(w.stream().anyMatch(s -> s.contains("ill-conditioned") && s.contains("truncated SVD")), w.toString());
        for (int i = 0; i < set.steps(); i++) {
            for (double v : set.values()[i]) {
                assertTrue(Math.abs(v) < 10, "step " + i + ": coefficient " + v);
            }
            assertTrue(set.fit().residuals()[i] <= set.fit().baseResiduals()[i] * (1 + 1e-9) + 1e-30,
                    "step " + i + ": " + set.fit().residuals()[i] + " > " + set.fit().baseResiduals()[i]);
        }
        System.out.println("iia collinear " + form + ": " + w.get(w.size() - 1));
    }

    @Test
    void explosionsAreCutBackToNeutral() {
        // nearly equal regressors whose small difference explains the target: the exact solution is huge
        double[][] gram = {{1.0, 1.0}, {1.0, 1.0 + 1e-9}};
        double[] rhs = {1.0, 1.0 + 1e-6};
        IiaFitter.Solution exact = IiaFitter.solve(gram, rhs, 0.0, 1e12, Double.MAX_VALUE);
        assertEquals(2, exact.rank());
        assertTrue(Math.abs(exact.c()[1]) > 100, Arrays.toString(exact.c()));
        assertNull(exact.warning());
        IiaFitter.Solution cut = IiaFitter.solve(gram, rhs, 0.0, 1e12, 4.0);
        assertTrue(Math.abs(exact.c()[0]) + Math.abs(exact.c()[1]) > 1000);
        assertEquals(1, cut.rank());
        assertTrue(cut.warning().contains("explosion"), cut.warning());
        assertEquals(0.5, cut.c()[0], 1e-6);
        assertEquals(0.5, cut.c()[1], 1e-6);
        IiaFitter.Solution none = IiaFitter.solve(gram, rhs, 0.0, 1e12, 1e-6);
        assertEquals(0, none.rank());
        assertArrayEquals(new double[2], none.c());
        assertTrue(none.warning().contains("neutral"), none.warning());
        IiaFitter.Solution zero = IiaFitter.solve(new double[2][2], rhs, 0.0, 1e12, 1.0);
        assertArrayEquals(new double[2], zero.c());
        assertTrue(zero.warning().contains("zero"), zero.warning());
        // the ridge is relative to the Gram matrix's scale
        IiaFitter.Solution ridged = IiaFitter.solve(new double[][] {{1e6}}, new double[] {1e6}, 1e-3, 1e12, 1e300);
        assertEquals(1.0 / (1 + 1e-3), ridged.c()[0], 1e-12);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void fitsLowerTheStepResidualsAndTheFinalErrorOnTheReferenceMixture(Form form) throws Exception {
        int nfe = 6;
        TimestepSpacing spacing = new TimestepSpacing.TimeUniform();
        IiaFitter.Settings st = IiaFitter.Settings.defaults().withSamples(32);
        CoefficientSet set = IiaFitter.fit(context(model, problem.guidance, initial, 32, 32), form, spacing, nfe, st);
        int steps = nfe / form.nfePerStep();
        assertEquals(steps, set.steps());
        assertEquals(nfe, set.nfe());
        for (int i = 0; i < steps; i++) {
            double after = set.fit().residuals()[i];
            double before = set.fit().baseResiduals()[i];
            if (form.columns(form.defaultR(), i) > 0) {
                assertTrue(after < before, form + " step " + i + ": " + after + " >= " + before);
            } else {
                assertEquals(before, after, 0.0, form + " step " + i + " has no coefficients");
            }
        }
        // final error against the reference teacher (1000-step DPM-Solver++ 3M) on the training rows
        SolverSpec tuned = IiaFitter.spec(set);
        SampleResult t = sample(tuned, spacing, steps, null);
        SampleResult b = sample(form.base(), spacing, steps, null);
        double mseTuned = mse(Nd.toDoubles(t.x()), teacher);
        double mseBase = mse(Nd.toDoubles(b.x()), teacher);
        assertEquals(nfe, t.nfe());
        t.x().close();
        b.x().close();
        System.out.printf("iia gmm-d32 cfg5 %-16s NFE %d: train MSE vs teacher %.4g -> %.4g; step residuals %s -> %s; "
                + "c %s; %s%n", form, nfe, mseBase, mseTuned, Arrays.toString(set.fit().baseResiduals()),
                Arrays.toString(set.fit().residuals()), Arrays.deepToString(set.values()), set.fit().warnings());
        assertTrue(mseTuned < mseBase, form + ": tuned " + mseTuned + " vs base " + mseBase);

        // the artifact round-trips and runs as a candidate at exactly its NFE
        CoefficientSet back = CoefficientSet.fromJson(set.toJson());
        assertEquals(set, back);
        assertEquals(tuned, IiaFitter.spec(back));
        Candidate cand = Candidate.of(tuned, spacing);
        assertEquals(steps, cand.stepsFor(nfe));
        Evaluation.Targets targets = new Evaluation.Targets(0, 32, Seeds.range(0, 32), initial, teacher,
                model.sampleShape(), problem.tStart, problem.tEnd);
        Evaluation.Result res = Evaluation.evaluate(model, problem.guidance, targets, cand, nfe, 16, DataType.FLOAT64, 0)
                .result();
        assertEquals(mseTuned, res.meanMse(), 1e-12 * mseTuned);
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void teacherTargetIsTheTeacherAtExactlyEachCoarseTimeForEveryRow(Form form) {
        // 16 rows in batches of 8: the target slices the right rows and the right time (no off-by-one)
        FitContext ctx = context(model, problem.guidance, initial, 16, 8);
        TimestepSpacing sp = new TimestepSpacing.LogSnr();
        int nfe = 6;
        int steps = nfe / form.nfePerStep();
        CoefficientSet set = IiaFitter.fitToTeacher(ctx, form, sp, nfe, IiaFitter.Settings.defaults().withSamples(16), 200);
        double[][] teach = GridTeacher.states(ctx, set.times(), 200);
        int per = (int) model.sampleShape()[0];
        // step 0 starts from x_T on every path: its neutral residual is the plain base step against teacher row 1
        SamplerConfig one = new SamplerConfig(form.base(), new TimestepSpacing.Explicit(
                new double[] {set.times()[0], set.times()[1]}), 1, set.times()[0], set.times()[1], true, false);
        double sq = 0;
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(Arrays.copyOf(initial, 16 * per), new Shape(16, per));
            double[] first = Sampler.sample(one, new ModelFunction(model, problem.guidance,
                    problem.guidance.rowLabels(Seeds.range(0, 16), model.numClasses())), x).x().toDoubleArray();
            for (int j = 0; j < first.length; j++) {
                sq += (first[j] - teach[1][j]) * (first[j] - teach[1][j]);
            }
        }
        assertEquals(sq / (16.0 * per), set.fit().baseResiduals()[0], 1e-9 * sq / (16.0 * per), form.id());
        for (int i = 0; i < steps; i++) {
            assertTrue(set.fit().residuals()[i] <= set.fit().baseResiduals()[i] * (1 + 1e-9), form.id() + " step " + i);
        }
        assertTrue(set.provenance().settings().get("target").toString().startsWith("grid-teacher"));
        // on the training rows the tuned run ends closer to the teacher than the plain base solver
        Evaluation.Targets t = new Evaluation.Targets(0, 16, Seeds.range(0, 16), Arrays.copyOf(initial, 16 * per), teach[steps],
                model.sampleShape(), problem.tStart, problem.tEnd);
        double tuned = Evaluation.evaluate(model, problem.guidance, t, TunedMethods.candidate(
                MethodCatalog.method(form.id().replace('_', '-').replace("dpmsolver-2m", "dpmsolver++2m") + "-teacher",
                        MethodCatalog.DcOptions.DEFAULT), set), nfe, 16, DataType.FLOAT64, 0).result().meanMse();
        double plain = Evaluation.evaluate(model, problem.guidance, t, TunedMethods.baseCandidate(set), nfe, 16,
                DataType.FLOAT64, 0).result().meanMse();
        assertTrue(tuned < plain, form.id() + ": tuned " + tuned + " vs base " + plain);
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        FitContext ctx = context(model, problem.guidance, initial, 8, 8);
        TimestepSpacing sp = new TimestepSpacing.TimeUniform();
        IiaFitter.Settings st = IiaFitter.Settings.defaults().withSamples(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IiaFitter.fit(ctx, Form.IIA_EDM, sp, 5, st));
        assertTrue(e.getMessage().contains("nfe must be a positive multiple of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.fit(ctx, null, sp, 5, st));
        assertTrue(e.getMessage().contains("form"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.fit(ctx, Form.IIA_DDIM, null, 5, st));
        assertTrue(e.getMessage().contains("spacing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.fit(ctx, Form.IIA_DDIM, sp, 5,
                IiaFitter.Settings.defaults().withSamples(9)));
        assertTrue(e.getMessage().contains("asked for 9 samples"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.Settings.defaults().withSamples(0));
        assertTrue(e.getMessage().contains("samples"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.Settings.defaults().withFineSubsteps(1));
        assertTrue(e.getMessage().contains("fineSubsteps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.Settings.defaults().withRidge(-1));
        assertTrue(e.getMessage().contains("ridge"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new IiaFitter.Settings(8, 10, null, 0, 0.5, 2));
        assertTrue(e.getMessage().contains("conditionLimit"), e.getMessage());
        // a set of another method is not an IIA set
        CoefficientSet dc = new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.DC, new Ddim(),
                sp, 1, 1, new double[] {1.0, 0.5}, List.of("ratio"), new double[][] {{1.0}}, null, null, null);
        e = assertThrows(IllegalArgumentException.class, () -> IiaFitter.spec(dc));
        assertTrue(e.getMessage().contains("method must be IIA or BIIA"), e.getMessage());
    }
}
