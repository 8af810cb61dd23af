package io.solvertune.tuning.eval;

import io.solvertune.tuning.Progress;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TrajectorySet;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The evaluation harness: candidate solver configs x NFE list, sampled from the teacher's own x_T on a range of its
 * seeds, scored by the per-seed MSE (mean over elements) against the teacher's final state.
 */
public final class Evaluation {

    /**
     * Score of one candidate at one NFE. {@code stdErr} = std / sqrt(seeds). {@code perSeed} (not serialized) keeps
     * the per-seed errors for paired comparisons.
     */
    public record Result(String candidate, int nfe, int seeds, double meanMse, double stdMse, double stdErr,
                         double seconds, @com.fasterxml.jackson.annotation.JsonIgnore double[] perSeed) {

        public Result(String candidate, int nfe, int seeds, double meanMse, double stdMse, double stdErr, double seconds) {
            this(candidate, nfe, seeds, meanMse, stdMse, stdErr, seconds, null);
        }

        /**
         * Whether this result has a lower mean error than {@code other} by more than two standard errors of the
         * difference. On the same seeds the difference is paired (per-seed differences: both errors share the hard
         * seeds, so this is the sharper test); otherwise the two standard errors are combined.
         */
        public boolean beats(Result other) {
            return meanMse - other.meanMse < -2 * diffStdErr(other);
        }

        /** Standard error of {@code meanMse - other.meanMse}. */
        public double diffStdErr(Result other) {
            if (perSeed != null && other.perSeed != null && perSeed.length == other.perSeed.length && perSeed.length > 1) {
                int n = perSeed.length;
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += perSeed[i] - other.perSeed[i];
                }
                mean /= n;
                double var = 0;
                for (int i = 0; i < n; i++) {
                    double d = perSeed[i] - other.perSeed[i] - mean;
                    var += d * d;
                }
                return Math.sqrt(var / (n - 1) / n);
            }
            return Math.sqrt(stdErr * stdErr + other.stdErr * other.stdErr);
        }

        /** Median per-seed error (NaN without per-seed errors). */
        @com.fasterxml.jackson.annotation.JsonIgnore
        public double median() {
            return quantile(perSeed, 0.5);
        }

        /** 99th percentile of the per-seed error (NaN without per-seed errors). */
        @com.fasterxml.jackson.annotation.JsonIgnore
        public double p99() {
            return quantile(perSeed, 0.99);
        }

        /**
         * The paired difference {@code meanMse - other.meanMse} in units of its standard error (negative: this one
         * is better); the verdicts use -2 / +2.
         */
        public double pairedZ(Result other) {
            double se = diffStdErr(other);
            double d = meanMse - other.meanMse;
            return se > 0 ? d / se : d == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, d);
        }

        /** "yes", "no (worse)" or "tie" against {@code other} at two standard errors. */
        public String verdict(Result other) {
            return beats(other) ? "yes" : other.beats(this) ? "no (worse)" : "tie";
        }
    }

    /** Scores plus (optionally) the samples of the first seeds for image grids. */
    public record Scored(Result result, double[] perSeedMse, double[] firstSamples) {
    }

    /** Initial and final teacher states of seeds {@code [from, to)}, loaded once. */
    public record Targets(int from, int to, long[] seeds, double[] initial, double[] fin, long[] sampleShape,
                          double tStart, double tEnd) {
        public static Targets load(TrajectorySet teacher, int from, int to) throws IOException {
            int last = teacher.times().length - 1;
            java.util.Map<Integer, double[]> st = teacher.states(new int[] {0, last}, from, to);
            return new Targets(from, to, java.util.Arrays.copyOfRange(teacher.seeds(), from, to), st.get(0),
                    st.get(last), teacher.meta().sampleShape(), teacher.times()[0], teacher.times()[last]);
        }

        int perSample() {
            return Teacher.perSample(sampleShape);
        }
    }

    private Evaluation() {
    }

    /**
     * Evaluates one candidate at one NFE on teacher seeds {@code [from, to)}; keeps the first {@code keep} samples.
     */
    public static Scored evaluate(Denoiser model, Guidance guidance, Targets targets, Candidate cand, int nfe, int batch,
                                  DataType dtype, int keep) {
        SamplerConfig cfg = cand.at(nfe, targets.tStart(), targets.tEnd());
        int per = targets.perSample();
        long[] sampleShape = targets.sampleShape();
        int from = targets.from();
        int to = targets.to();
        int n = to - from;
        double[] mse = new double[n];
        double[] kept = new double[Math.min(keep, n) * per];
        long t0 = System.nanoTime();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int b0 = from; b0 < to; b0 += batch) {
                int b1 = Math.min(to, b0 + batch);
                double[] x0 = java.util.Arrays.copyOfRange(targets.initial(), (b0 - from) * per, (b1 - from) * per);
                double[] target = java.util.Arrays.copyOfRange(targets.fin(), (b0 - from) * per, (b1 - from) * per);
                long[] shape = new long[sampleShape.length + 1];
                shape[0] = b1 - b0;
                System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                try (NDManager bm = m.newSubManager()) {
                    NDArray xT = Nd.create(bm, x0, new Shape(shape), dtype);
                    long[] seeds = java.util.Arrays.copyOfRange(targets.seeds(), b0 - from, b1 - from);
                    ModelFunction fn = new ModelFunction(model, guidance, guidance.rowLabels(seeds, model.numClasses()));
                    SampleResult r = Sampler.sample(cfg, fn, xT);
                    if (r.nfe() != nfe) {
                        throw new IllegalStateException("candidate " + cand.name() + " spent " + r.nfe() + " NFE, not " + nfe);
                    }
                    double[] out = Nd.toDoubles(r.x());
                    for (int i = 0; i < b1 - b0; i++) {
                        double se = 0;
                        for (int j = 0; j < per; j++) {
                            double d = out[i * per + j] - target[i * per + j];
                            se += d * d;
                        }
                        mse[b0 - from + i] = se / per;
                        int row = b0 - from + i;
                        if (row < keep) {
                            System.arraycopy(out, i * per, kept, row * per, per);
                        }
                    }
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new Scored(summarize(cand.name(), nfe, mse, secs), mse, kept);
    }

    /**
     * The {@code q}-quantile of {@code values} with linear interpolation between order statistics (numpy's default
     * {@code linear} method); NaN for null or empty input.
     */
    public static double quantile(double[] values, double q) {
        if (values == null || values.length == 0) {
            return Double.NaN;
        }
        if (!(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile must be in [0, 1], got " + q);
        }
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        double pos = q * (v.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(v.length - 1, lo + 1);
        return v[lo] + (pos - lo) * (v[hi] - v[lo]);
    }

    /** Mean, standard deviation and standard error of per-seed MSEs. */
    public static Result summarize(String name, int nfe, double[] mse, double seconds) {
        int n = mse.length;
        double mean = 0;
        for (double v : mse) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (double v : mse) {
            var += (v - mean) * (v - mean);
        }
        double std = n > 1 ? Math.sqrt(var / (n - 1)) : 0;
        return new Result(name, nfe, n, mean, std, std / Math.sqrt(n), seconds, mse.clone());
    }

    /** Evaluates every candidate at every NFE it can spend exactly. */
    public static List<Result> evaluateAll(Denoiser model, Guidance guidance, Targets targets,
                                           List<Candidate> candidates, int[] nfes, int batch, DataType dtype,
                                           Progress progress) {
        List<Result> out = new ArrayList<>();
        int total = candidates.size() * nfes.length;
        int done = 0;
        for (int nfe : nfes) {
            for (Candidate c : candidates) {
                done++;
                if (c.stepsFor(nfe) < 1) {
                    continue;
                }
                Result r = evaluate(model, guidance, targets, c, nfe, batch, dtype, 0).result();
                out.add(r);
                progress.report("evaluate", done, total, String.format("%s NFE %d: MSE %.4g", c.name(), nfe, r.meanMse()));
            }
        }
        return out;
    }
}
