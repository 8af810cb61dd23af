package io.solvertune.tuning.fit;

import io.solvertune.numerics.solver.dc.Dc;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.numerics.solver.unipc.UniPc;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The sample-count / objective experiment of the DC fitter (excluded by default; run with
 * {@code mvn -o test -Dtest=DcExperiment -DexcludedGroups=none}): gmm-sd-d32, guidance 1 and 7.5 (per-seed class),
 * UniPC bh2 order 3 time_uniform, NFE 5/6/8/10, training samples 16/64/128/256 (seeds 0..), NEXT_STEP vs FINAL;
 * held-out mean MSE (+- standard error) on seeds 100000..101023 against the grid teacher's final state.
 */
@Tag("slow")
class DcExperiment {
    static final SolverSpec BASE = new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3);
    static final TimestepSpacing SPACING = new TimestepSpacing.TimeUniform();

    static FitContext context(Denoiser model, Guidance g, long first, int rows) {
        long[] seeds = Seeds.range(first, rows);
        int per = Teacher.perSample(model.sampleShape());
        double tStart = model.schedule().defaultTStart();
        double tEnd = model.schedule().defaultTEnd();
        return new FitContext(model, g, seeds, Seeds.initialNoise(seeds, per, Seeds.noiseScale(model.schedule(), tStart)),
                model.sampleShape(), tStart, tEnd, DataType.FLOAT64, 256, Progress.NONE, null);
    }

    /** Per-seed MSE of the DC run with {@code ratios} against {@code target}. */
    static double[] perSeed(FitContext c, double[] ratios, double[] target) {
        SamplerConfig cfg = new SamplerConfig(new Dc(BASE, ratios), SPACING, ratios.length, c.tStart(),
                c.tEnd(), true, false);
        int per = c.perSample();
        double[] mse = new double[c.rows()];
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = 0; b0 < c.rows(); b0 += c.batch()) {
                int b1 = Math.min(c.rows(), b0 + c.batch());
                NDArray xT = Nd.create(m, Arrays.copyOfRange(c.initial(), b0 * per, b1 * per),
                        new Shape(GridTeacher.shape(c, b1 - b0)), c.dtype());
                SampleResult r = Sampler.sample(cfg, GridTeacher.function(c, b0, b1), xT);
                double[] x = Nd.toDoubles(r.x());
                for (int i = 0; i < b1 - b0; i++) {
                    double se = 0;
                    for (int j = 0; j < per; j++) {
                        double d = x[i * per + j] - target[(b0 + i) * per + j];
                        se += d * d;
                    }
                    mse[b0 + i] = se / per;
                }
            }
        }
        return mse;
    }

    static String fmt(double[] mse, double[] base) {
        Evaluation.Result r = Evaluation.summarize("x", 0, mse, 0);
        Evaluation.Result b = Evaluation.summarize("b", 0, base, 0);
        return String.format("%.4e±%.1e(%s)", r.meanMse(), r.stdErr(), r.verdict(b));
    }

    @Test
    void sampleCountAndObjective() throws Exception {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        int[] nfes = {5, 6, 8, 10};
        int[] counts = {16, 64, 128, 256};
        try (Denoiser model = spec.build(Presets.baseDir())) {
            for (double g : new double[] {1.0, 7.5}) {
                Guidance guidance = Guidance.perSeed(g);
                FitContext train = context(model, guidance, 0, 256);
                FitContext held = context(model, guidance, 100_000, 1024);
                for (int nfe : nfes) {
                    double[] grid = SPACING.times(model.schedule(), train.tStart(), train.tEnd(), nfe);
                    double[][] targets = GridTeacher.states(train, grid, GridTeacher.DEFAULT_STEPS);
                    double[] heldTarget = GridTeacher.states(held, grid, GridTeacher.DEFAULT_STEPS)[nfe];
                    double[] base = perSeed(held, Dc.neutral(BASE, nfe).ratios(), heldTarget);
                    System.out.printf("EXP g=%.1f nfe=%d base %s%n", g, nfe, fmt(base, base));
                    for (int n : counts) {
                        double[][] t = new double[nfe + 1][];
                        for (int k = 0; k <= nfe; k++) {
                            t[k] = Arrays.copyOf(targets[k], n * train.perSample());
                        }
                        for (DcFitter.Objective o : DcFitter.Objective.values()) {
                            long t0 = System.nanoTime();
                            DcFitter.Settings st = DcFitter.Settings.defaults().withSamples(n).withObjective(o);
                            CoefficientSet set = DcFitter.fit(train, BASE, SPACING, nfe, st, t);
                            double secs = (System.nanoTime() - t0) / 1e9;
                            double[] ratios = ((Dc) DcFitter.spec(set)).ratios();
                            double[] mse = perSeed(held, ratios, heldTarget);
                            System.out.printf("EXP g=%.1f nfe=%d n=%d %s %s %.1fs ratios %s warnings %d%n", g, nfe, n,
                                    o, fmt(mse, base), secs, Arrays.toString(Arrays.stream(ratios)
                                            .map(v -> Math.round(v * 1e4) / 1e4).toArray()),
                                    set.fit().warnings().size());
                        }
                    }
                }
            }
        }
    }
}
