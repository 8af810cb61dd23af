package io.solvertune.tuning.fit;

import io.solvertune.tuning.Json;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TrajectorySet;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.JacobianDiagonal;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.io.IOException;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Estimates DPM-Solver-v3's empirical model statistics (l, s, b) of a model on a uniform-lambda grid of K+1 points
 * between tStart and tEnd (thu-ml/DPM-Solver-v3's EMS-computing example; methods.md §2.3):
 *
 * <ul>
 *   <li>{@code l_j = E[sigma_j v ⊙ (J^T v)]} by Hutchinson probes with Rademacher v, J = d eps / d x, the
 *       vector-Jacobian product by reverse-mode autograd in DJL (its expectation is diag J, like the official
 *       forward-mode JVP), or by central differences of eps along v ({@link LMethod#FINITE_DIFFERENCE});</li>
 *   <li>{@code f = (sigma eps - l x)/alpha} and its total derivative along the probability-flow ODE
 *       {@code f' = e^{-lambda}((l - 1) eps + eps') - l' x / alpha}, eps' by central differences along the ODE
 *       ({@code dx/dlambda = (1 + dlog sigma/dlambda) x - sigma eps}, which is sigma^2 x - sigma eps for VP), l' by
 *       central differences on the grid; then per dimension {@code s = Cov(f, f')/Var(f)},
 *       {@code b = E[f'] - s E[f]} from streaming sums (memory O(K D), independent of the number of samples).</li>
 * </ul>
 * Points come from one of two sources: data samples noised to each lambda with the same noise at every grid point
 * (the paper), or the teacher's own trajectory states at each lambda (what makes v3 work under strong guidance).
 */
public final class EmsEstimator {

    /** Where the points at each grid time come from. */
    public enum Source { NOISED_DATA, TEACHER_TRAJECTORY }

    /**
     * How l is estimated: Hutchinson probes with a vector-Jacobian product (autograd) or central differences, or the
     * exact Jacobian diagonal of an analytic model ({@link JacobianDiagonal}; no probe noise — what the reference
     * statistics of the mixtures used).
     */
    public enum LMethod { VJP, FINITE_DIFFERENCE, EXACT }

    /**
     * @param gridSteps   K (K+1 grid points)
     * @param source      points at each time
     * @param samples     number of samples (seeds) used
     * @param firstSeed   first seed (samples use seeds firstSeed..; teacher source: the set's first rows)
     * @param probes      Hutchinson probes per sample for l
     * @param lMethod     VJP (autograd) or central differences along v
     * @param fdStep      lambda step of the central differences for eps' (and the x step for FD-l, relative)
     * @param batch       batch size
     * @param smoothLDerivative half-width of the moving average applied to l' (0 = none, the official uses 5)
     */
    public record Settings(int gridSteps, Source source, int samples, long firstSeed, int probes, LMethod lMethod,
                           double fdStep, int batch, int smoothLDerivative) {
        public Settings {
            if (gridSteps < 2) {
                throw new IllegalArgumentException("ems.gridSteps: must be >= 2, got " + gridSteps);
            }
            if (samples < 2) {
                throw new IllegalArgumentException("ems.samples: must be >= 2, got " + samples);
            }
            if (probes < 1) {
                throw new IllegalArgumentException("ems.probes: must be >= 1, got " + probes);
            }
            if (!(fdStep > 0)) {
                throw new IllegalArgumentException("ems.fdStep: must be > 0, got " + fdStep);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("ems.batch: must be >= 1, got " + batch);
            }
            if (source == null || lMethod == null) {
                throw new IllegalArgumentException("ems: source and lMethod are required");
            }
        }
    }

    private final Denoiser model;
    private final Guidance guidance;
    private final Settings settings;
    private java.nio.file.Path checkpointDir;
    private String checkpointKey = "";
    private final NoiseSchedule schedule;
    private final int per;
    private final DataType dtype;

    public EmsEstimator(Denoiser model, Guidance guidance, Settings settings, DataType dtype) {
        this.model = model;
        this.guidance = guidance;
        this.settings = settings;
        this.schedule = model.schedule();
        this.per = Teacher.perSample(model.sampleShape());
        this.dtype = dtype;
    }

    /**
     * Saves progress after every grid point into {@code dir} ({@code ems-progress.npz} + {@code .json}) and resumes
     * from it when the same estimation ({@code key}: model, guidance, settings, source) is started again.
     */
    public EmsEstimator withCheckpoints(java.nio.file.Path dir, String key) {
        this.checkpointDir = dir;
        this.checkpointKey = key;
        return this;
    }

    /** Estimates the statistics on noised data samples between tStart and tEnd. */
    public EmpiricalModelStatistics fromData(DataSampler data, double tStart, double tEnd, Progress progress) {
        long[] seeds = Seeds.range(settings.firstSeed(), settings.samples());
        long[] labels = guidance.rowLabels(seeds, model.numClasses());
        // the data come from the class the sampler is conditioned on: per seed, or the one fixed class of the spec
        // (rowLabels is null for a fixed class, since the guidance itself applies it to the model)
        double[] x0 = data.sample(seeds, guidance.dataLabels(seeds, model.numClasses()));
        double[] z = Seeds.initialNoise(seeds, per, 1.0);
        EmsGrid grid = new EmsGrid(settings.gridSteps(), tStart, tEnd);
        double[] lambdas = grid.lambdas(schedule);
        PointSource points = (j, from, to) -> {
            double t = schedule.inverseLambda(lambdas[j]);
            double a = schedule.alpha(t);
            double s = schedule.sigma(t);
            double[] x = new double[(to - from) * per];
            for (int i = 0; i < x.length; i++) {
                x[i] = a * x0[from * per + i] + s * z[from * per + i];
            }
            return x;
        };
        return estimate(grid, lambdas, seeds, labels, points, progress);
    }

    /**
     * Estimates the statistics on the teacher's states: the trajectory set must record the grid's times (a logSNR
     * teacher with K·m steps recording every m-th point does).
     */
    public EmpiricalModelStatistics fromTeacher(TrajectorySet teacher, Progress progress) throws IOException {
        double[] times = teacher.times();
        int k = settings.gridSteps();
        EmsGrid grid = new EmsGrid(k, times[0], times[times.length - 1]);
        double[] lambdas = grid.lambdas(schedule);
        int[] index = new int[k + 1];
        int r = 0;
        for (int j = 0; j <= k; j++) {
            while (r < times.length && Math.abs(schedule.lambda(times[r]) - lambdas[j]) > 1e-9 * Math.max(1, Math.abs(lambdas[j]))) {
                r++;
            }
            if (r == times.length) {
                throw new IllegalArgumentException("ems: the teacher set does not record the lambda grid point " + j
                        + " (lambda " + lambdas[j] + "); record a logSNR teacher with K*m steps every m-th point"
                        + " (it records " + times.length + " times)");
            }
            index[j] = r;
        }
        int n = Math.min(settings.samples(), teacher.size());
        long[] seeds = java.util.Arrays.copyOf(teacher.seeds(), n);
        long[] labels = guidance.rowLabels(seeds, model.numClasses());
        // read the states in chunks of grid points (one pass over the file per chunk)
        final int chunk = Math.max(1, (int) Math.min(k + 1, (64L << 20) / (8L * n * per)));
        java.util.Map<Integer, double[]> cache = new java.util.HashMap<>();
        PointSource points = (j, from, to) -> {
            if (!cache.containsKey(index[j])) {
                cache.clear();
                int[] want = new int[Math.min(chunk, k + 1 - j)];
                for (int c = 0; c < want.length; c++) {
                    want[c] = index[j + c];
                }
                try {
                    cache.putAll(teacher.states(want, 0, n));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return java.util.Arrays.copyOfRange(cache.get(index[j]), from * per, to * per);
        };
        return estimate(grid, lambdas, seeds, labels, points, progress);
    }

    /** States at grid point j for samples [from, to). */
    interface PointSource {
        double[] states(int j, int from, int to);
    }

    private EmpiricalModelStatistics estimate(EmsGrid grid, double[] lambdas, long[] seeds, long[] labels,
                                              PointSource points, Progress progress) {
        int k = grid.steps();
        int n = seeds.length;
        double[] l = new double[(k + 1) * per];
        double[] s = new double[(k + 1) * per];
        double[] b = new double[(k + 1) * per];
        int[] done = loadCheckpoint(l, s, b); // {l rows done, s/b rows done}
        // pass 1: l
        for (int j = done[0]; j <= k; j++) {
            double t = schedule.inverseLambda(lambdas[j]);
            double sigma = schedule.sigma(t);
            double[] acc = new double[per];
            for (int from = 0; from < n; from += settings.batch()) {
                int to = Math.min(n, from + settings.batch());
                double[] x = points.states(j, from, to);
                long[] rows = labels == null ? null : java.util.Arrays.copyOfRange(labels, from, to);
                if (settings.lMethod() == LMethod.EXACT) {
                    double[] diag = exactDiagonal(x, t, rows, to - from);
                    for (int i = 0; i < to - from; i++) {
                        for (int e = 0; e < per; e++) {
                            acc[e] += settings.probes() * sigma * diag[i * per + e];
                        }
                    }
                    continue;
                }
                for (int p = 0; p < settings.probes(); p++) {
                    double[] v = rademacher(seeds, from, to, j, p);
                    double[] vjv = probe(x, v, t, rows, to - from);
                    for (int i = 0; i < to - from; i++) {
                        for (int e = 0; e < per; e++) {
                            acc[e] += sigma * vjv[i * per + e];
                        }
                    }
                }
            }
            for (int e = 0; e < per; e++) {
                l[j * per + e] = acc[e] / ((double) n * settings.probes());
            }
            saveCheckpoint(l, s, b, j + 1, 0);
            progress.report("ems-l", j + 1, k + 1, "grid point " + j);
        }
        double[] dl = lDerivative(l, lambdas, k);
        // pass 2: moments of f and f'
        for (int j = done[1]; j <= k; j++) {
            double lam = lambdas[j];
            double t = schedule.inverseLambda(lam);
            double[] sf = new double[per];
            double[] sd = new double[per];
            double[] sff = new double[per];
            double[] sfd = new double[per];
            for (int from = 0; from < n; from += settings.batch()) {
                int to = Math.min(n, from + settings.batch());
                double[] x = points.states(j, from, to);
                long[] rows = labels == null ? null : java.util.Arrays.copyOfRange(labels, from, to);
                double[][] fd = fAndDerivative(x, lam, t, l, dl, j, rows, to - from);
                for (int i = 0; i < to - from; i++) {
                    for (int e = 0; e < per; e++) {
                        double f = fd[0][i * per + e];
                        double d = fd[1][i * per + e];
                        sf[e] += f;
                        sd[e] += d;
                        sff[e] += f * f;
                        sfd[e] += f * d;
                    }
                }
            }
            for (int e = 0; e < per; e++) {
                double mf = sf[e] / n;
                double md = sd[e] / n;
                double var = sff[e] / n - mf * mf;
                double cov = sfd[e] / n - mf * md;
                // f constant over the samples (to rounding): no slope to regress, s = 0 and b = E[f']
                double se = var > 1e-12 * (sff[e] / n) && var > 1e-300 ? cov / var : 0.0;
                s[j * per + e] = se;
                b[j * per + e] = md - se * mf;
            }
            saveCheckpoint(l, s, b, k + 1, j + 1);
            progress.report("ems-sb", j + 1, k + 1, "grid point " + j);
        }
        return EmpiricalModelStatistics.of(grid.tStart(), grid.tEnd(), model.sampleShape(), l, s, b);
    }

    /** Progress record of an interrupted estimation. */
    record Checkpoint(String key, int lDone, int sbDone) {
    }

    private int[] loadCheckpoint(double[] l, double[] s, double[] b) {
        if (checkpointDir == null) {
            return new int[] {0, 0};
        }
        java.nio.file.Path meta = checkpointDir.resolve("ems-progress.json");
        java.nio.file.Path data = checkpointDir.resolve("ems-progress.npz");
        try {
            if (!java.nio.file.Files.isRegularFile(meta) || !java.nio.file.Files.isRegularFile(data)) {
                return new int[] {0, 0};
            }
            Checkpoint c = Json.MAPPER.readValue(meta.toFile(), Checkpoint.class);
            if (!c.key().equals(checkpointKey)) {
                return new int[] {0, 0}; // another estimation: start over (and overwrite)
            }
            java.util.Map<String, io.solvertune.numerics.io.NpyArray> a = io.solvertune.numerics.io.Npy.readNpz(data);
            System.arraycopy(a.get("l").doubles(), 0, l, 0, l.length);
            System.arraycopy(a.get("s").doubles(), 0, s, 0, s.length);
            System.arraycopy(a.get("b").doubles(), 0, b, 0, b.length);
            return new int[] {c.lDone(), c.sbDone()};
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the EMS checkpoint in " + checkpointDir, e);
        }
    }

    private void saveCheckpoint(double[] l, double[] s, double[] b, int lDone, int sbDone) {
        if (checkpointDir == null) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(checkpointDir);
            java.util.Map<String, io.solvertune.numerics.io.NpyArray> a = new java.util.LinkedHashMap<>();
            a.put("l", io.solvertune.numerics.io.NpyArray.ofDoubles(l, l.length));
            a.put("s", io.solvertune.numerics.io.NpyArray.ofDoubles(s, s.length));
            a.put("b", io.solvertune.numerics.io.NpyArray.ofDoubles(b, b.length));
            java.nio.file.Path tmp = checkpointDir.resolve("ems-progress.npz.tmp");
            io.solvertune.numerics.io.Npy.writeNpz(tmp, a, false);
            java.nio.file.Files.move(tmp, checkpointDir.resolve("ems-progress.npz"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            java.nio.file.Path mt = checkpointDir.resolve("ems-progress.json.tmp");
            Json.MAPPER.writeValue(mt.toFile(), new Checkpoint(checkpointKey, lDone, sbDone));
            java.nio.file.Files.move(mt, checkpointDir.resolve("ems-progress.json"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the EMS checkpoint in " + checkpointDir, e);
        }
    }

    /** The exact diagonal of the guided noise prediction's Jacobian. */
    private double[] exactDiagonal(double[] x, double t, long[] rows, int b) {
        if (!(model instanceof JacobianDiagonal jd)) {
            throw new IllegalArgumentException("ems.lMethod: EXACT needs an analytic model with a known Jacobian, not "
                    + model.getClass().getSimpleName());
        }
        long[] cond = rows;
        if (cond == null && guidance.classLabel() != null) {
            cond = new long[b];
            java.util.Arrays.fill(cond, guidance.classLabel());
        }
        double[] c = jd.noiseJacobianDiagonal(x, b, t, cond);
        if (!guidance.needsPair()) {
            return c;
        }
        double[] u = jd.noiseJacobianDiagonal(x, b, t, null);
        double w = guidance.scale();
        double[] out = new double[c.length];
        for (int i = 0; i < c.length; i++) {
            out[i] = u[i] + w * (c[i] - u[i]);
        }
        return out;
    }

    /** v ⊙ (J^T v) (or v ⊙ J v by central differences) for a batch at time t. */
    private double[] probe(double[] x, double[] v, double t, long[] rows, int b) {
        ModelFunction fn = new ModelFunction(model, guidance, rows);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = batchShape(b);
            NDArray xs = Nd.create(m, x, shape, dtype);
            NDArray vs = Nd.create(m, v, shape, dtype);
            double[] jv;
            if (settings.lMethod() == LMethod.VJP) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    xs.setRequiresGradient(true);
                    NDArray eps = fn.noise(xs, t);
                    NDArray obj = eps.mul(vs).sum();
                    gc.backward(obj);
                    jv = Nd.toDoubles(xs.getGradient());
                }
            } else {
                double h = settings.fdStep();
                try (NDArray plus = xs.add(vs.mul(h)); NDArray minus = xs.sub(vs.mul(h));
                     NDArray ep = fn.noise(plus, t); NDArray em = fn.noise(minus, t)) {
                    double[] a = Nd.toDoubles(ep);
                    double[] c = Nd.toDoubles(em);
                    jv = new double[a.length];
                    for (int i = 0; i < a.length; i++) {
                        jv[i] = (a[i] - c[i]) / (2 * h);
                    }
                }
            }
            double[] out = new double[jv.length];
            for (int i = 0; i < jv.length; i++) {
                out[i] = v[i] * jv[i];
            }
            return out;
        }
    }

    /** f and f' at grid point j for a batch. */
    private double[][] fAndDerivative(double[] x, double lam, double t, double[] l, double[] dl, int j, long[] rows, int b) {
        ModelFunction fn = new ModelFunction(model, guidance, rows);
        double a = schedule.alpha(t);
        double sg = schedule.sigma(t);
        double dLogSigma = dLogSigmaDLambda(t);
        double h = settings.fdStep();
        double tp = schedule.inverseLambda(lam + h);
        double tm = schedule.inverseLambda(lam - h);
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = batchShape(b);
            NDArray xs = Nd.create(m, x, shape, dtype);
            double[] eps = Nd.toDoubles(fn.noise(xs, t));
            // x moved along the ODE by +-h in lambda: dx/dlambda = (1 + dlog sigma/dlambda) x - sigma eps
            double[] xdot = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xdot[i] = (1 + dLogSigma) * x[i] - sg * eps[i];
            }
            double[] xp = new double[x.length];
            double[] xm = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                xp[i] = x[i] + h * xdot[i];
                xm[i] = x[i] - h * xdot[i];
            }
            double[] ep = Nd.toDoubles(fn.noise(Nd.create(m, xp, shape, dtype), tp));
            double[] em = Nd.toDoubles(fn.noise(Nd.create(m, xm, shape, dtype), tm));
            double[] f = new double[x.length];
            double[] fd = new double[x.length];
            double emL = Math.exp(-lam);
            for (int i = 0; i < b; i++) {
                for (int e = 0; e < per; e++) {
                    int q = i * per + e;
                    double lj = l[j * per + e];
                    double epsPrime = (ep[q] - em[q]) / (2 * h);
                    f[q] = (sg * eps[q] - lj * x[q]) / a;
                    fd[q] = emL * ((lj - 1) * eps[q] + epsPrime) - dl[j * per + e] * x[q] / a;
                }
            }
            return new double[][] {f, fd};
        }
    }

    /** {@code dlog sigma/dlambda} of the schedule at t. */
    private double dLogSigmaDLambda(double t) {
        double a = schedule.alpha(t);
        double s = schedule.sigma(t);
        double dlogA = schedule.dAlphaDt(t) / a;
        double dlogS = schedule.dSigmaDt(t) / s;
        return dlogS / (dlogA - dlogS);
    }

    /** l' by central differences on the grid (one-sided at the ends), optionally smoothed by a moving average. */
    private double[] lDerivative(double[] l, double[] lambdas, int k) {
        double[] dl = new double[l.length];
        for (int j = 0; j <= k; j++) {
            int jm = Math.max(0, j - 1);
            int jp = Math.min(k, j + 1);
            double dlam = lambdas[jp] - lambdas[jm];
            for (int e = 0; e < per; e++) {
                dl[j * per + e] = (l[jp * per + e] - l[jm * per + e]) / dlam;
            }
        }
        int w = settings.smoothLDerivative();
        if (w <= 0) {
            return dl;
        }
        double[] sm = new double[dl.length];
        for (int j = 0; j <= k; j++) {
            int lo = Math.max(0, j - w);
            int hi = Math.min(k, j + w);
            for (int e = 0; e < per; e++) {
                double acc = 0;
                for (int q = lo; q <= hi; q++) {
                    acc += dl[q * per + e];
                }
                sm[j * per + e] = acc / (hi - lo + 1);
            }
        }
        return sm;
    }

    private double[] rademacher(long[] seeds, int from, int to, int j, int probe) {
        double[] v = new double[(to - from) * per];
        for (int i = from; i < to; i++) {
            Random r = new Random(new SplittableRandom(seeds[i] * 1_000_003L + j * 7919L + probe).nextLong());
            for (int e = 0; e < per; e++) {
                v[(i - from) * per + e] = r.nextBoolean() ? 1.0 : -1.0;
            }
        }
        return v;
    }

    private Shape batchShape(int b) {
        long[] s = new long[model.sampleShape().length + 1];
        s[0] = b;
        System.arraycopy(model.sampleShape(), 0, s, 1, s.length - 1);
        return new Shape(s);
    }
}
