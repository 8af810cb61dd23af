package io.solvertune.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.TrajectoryRecorder;
import io.solvertune.numerics.spec.ModelSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune sample}: runs a baseline solver, or any published config ({@code --config}: baselines,
 * DPM-Solver-v3, DC-Solver, IIA/BIIA, D-ODE, every fitted method the service publishes), on a model spec from given
 * initial noise.
 */
@CommandLine.Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a solver or a published config on a model spec from initial noise (.npy) and write the "
                + "result (.npy).")
final class SampleCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Option(names = "--spec", required = true, paramLabel = "FILE", description = "model spec (JSON)")
    Path spec;

    @CommandLine.Option(names = "--config", paramLabel = "FILE|ID|REF",
            description = "run a published config: a downloaded document (download --format json), a config id, "
                    + "MODEL:latest, MODEL:stable (filters as ?method=dc&nfe=6) or MODEL:recommended?nfe=N&guidance=W "
                    + "(fetched from --server); replaces the solver, grid and guidance options")
    String config;

    @CommandLine.Mixin
    io.solvertune.cli.client.ServerOptions server = new io.solvertune.cli.client.ServerOptions();

    @CommandLine.Option(names = "--any-model", description = "with --config: run it even if it was validated for "
            + "another model (content hash)")
    boolean anyModel;

    @CommandLine.Option(names = "--noise", paramLabel = "FILE[.npz:KEY]",
            description = "initial noise x_T: a .npy file, or KEY of an .npz (e.g. ref.npz:x_T)")
    String noise;

    @CommandLine.Option(names = "--seed", paramLabel = "N", description = "draw x_T ~ N(0, sigma_T^2 I) with this seed instead of --noise")
    Long seed;

    @CommandLine.Option(names = "--batch", paramLabel = "B", defaultValue = "16", description = "batch size with --seed (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--out", required = true, paramLabel = "FILE.npy", description = "where to write the result")
    Path out;

    @CommandLine.Option(names = "--trajectory", paramLabel = "FILE.npz", description = "also write the whole trajectory (keys t, x[, x0])")
    Path trajectory;

    @CommandLine.Option(names = "--solver", defaultValue = "dpmsolver++", paramLabel = "NAME",
            description = "ddim, dpmsolver, dpmsolver++, unipc, euler, heun (default ${DEFAULT-VALUE})")
    String solver;

    @CommandLine.Option(names = "--order", paramLabel = "K", description = "solver order 1-3")
    String order;

    @CommandLine.Option(names = "--method", paramLabel = "M", description = "multistep | singlestep (dpmsolver, dpmsolver++)")
    String method;

    @CommandLine.Option(names = "--solver-type", paramLabel = "T", description = "dpmsolver | taylor (dpmsolver, dpmsolver++)")
    String solverType;

    @CommandLine.Option(names = "--variant", paramLabel = "V", description = "bh1 | bh2 (unipc)")
    String variant;

    @CommandLine.Option(names = "--prediction", paramLabel = "P", description = "data | noise (unipc)")
    String prediction;

    @CommandLine.Option(names = "--steps", defaultValue = "10", paramLabel = "N", description = "number of steps (default ${DEFAULT-VALUE})")
    int steps;

    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform", paramLabel = "S",
            description = "time_uniform, logSNR, time_quadratic, karras, time_power (default ${DEFAULT-VALUE})")
    String spacing;

    @CommandLine.Option(names = "--rho", defaultValue = "7.0", description = "rho of the karras / time_power spacing (default ${DEFAULT-VALUE})")
    double rho;

    @CommandLine.Option(names = "--timesteps", split = ",", paramLabel = "T0,T1,...", description = "explicit decreasing time list (replaces --spacing and --steps)")
    double[] timesteps;

    @CommandLine.Option(names = "--t-start", paramLabel = "T", description = "start time (default: the schedule's)")
    Double tStart;

    @CommandLine.Option(names = "--t-end", paramLabel = "T", description = "end time (default: the schedule's)")
    Double tEnd;

    @CommandLine.Option(names = "--no-lower-order-final", negatable = false, description = "keep the full order in the final steps")
    boolean noLowerOrderFinal;

    @CommandLine.Option(names = "--denoise-to-zero", description = "finish with x0(x, t_end) (one extra NFE)")
    boolean denoiseToZero;

    @CommandLine.Option(names = "--class", paramLabel = "C", description = "class label (overrides the spec's guidance)")
    Integer classLabel;

    @CommandLine.Option(names = "--guidance", paramLabel = "W", description = "classifier-free guidance scale (overrides the spec's)")
    Double guidanceScale;

    @CommandLine.Option(names = "--compare", paramLabel = "FILE[.npz:KEY]", description = "print the MSE of the result against this array")
    String compare;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelSpec ms = ModelSpec.read(spec);
        Path base = spec.toAbsolutePath().getParent();
        PublishedRun published = this.config == null ? null : published(ms, base);
        SamplerConfig config = published != null ? published.config() : config();
        Guidance guidance = published != null ? published.guidance() : guidance(ms);
        if ((noise == null) == (seed == null)) {
            throw new IllegalArgumentException("give exactly one of --noise FILE or --seed N");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        NpyArray reference = compare == null ? null : ArrayFiles.read(compare, "--compare");
        try (Denoiser model = ms.build(base); NDManager m = NDManager.newBaseManager()) {
            DataType dt = ms.dataType();
            NDArray xT = initialNoise(m, model, dt, config);
            ModelFunction fn = new ModelFunction(model, guidance);
            TrajectoryRecorder rec = trajectory == null ? null : new TrajectoryRecorder();
            SampleResult r = rec == null ? Sampler.sample(config, fn, xT) : Sampler.sample(config, fn, xT, rec);
            double[] result = Nd.toDoubles(r.x());
            long[] shape = r.x().getShape().getShape();
            Npy.write(out, new NpyArray(shape, dt == DataType.FLOAT32 ? NpyArray.NpyDtype.FLOAT32 : NpyArray.NpyDtype.FLOAT64,
                    result, null));
            if (rec != null) {
                writeTrajectory(rec, dt);
            }
            if (published != null) {
                o.println(published.describe());
                if (r.nfe() != published.document().nfe()) {
                    throw new IllegalStateException("config " + published.document().id() + " is validated at NFE "
                            + published.document().nfe() + " but ran " + r.nfe() + " model evaluations");
                }
            }
            o.printf(Locale.ROOT, "%s, %s spacing, %d steps: NFE %d, wall %.1f ms (model %.1f ms)%n",
                    config.solver().label(), config.spacing().id(), config.steps(), r.nfe(),
                    r.wallNanos() / 1e6, r.modelNanos() / 1e6);
            o.printf(Locale.ROOT, "wrote %s %s%n", out, Arrays.toString(shape));
            if (trajectory != null) {
                o.printf(Locale.ROOT, "wrote %s (%d states)%n", trajectory, r.grid().length);
            }
            if (reference != null) {
                if (reference.size() != result.length) {
                    throw new IllegalArgumentException("--compare: array has " + reference.size()
                            + " values, the result has " + result.length);
                }
                double[] ref = reference.asDoubles();
                double se = 0;
                for (int i = 0; i < result.length; i++) {
                    double d = result[i] - ref[i];
                    se += d * d;
                }
                o.printf(Locale.ROOT, "MSE vs %s: %.6e%n", compare, se / result.length);
            }
        }
        return 0;
    }

    /** A published config resolved to the run it stands for, with the guidance it was validated at. */
    private PublishedRun published(ModelSpec ms, Path base) throws java.io.IOException {
        String given = given(cmd.commandLine().getParseResult(), "--solver", "--order", "--method", "--solver-type",
                "--variant", "--prediction", "--steps", "--spacing", "--rho", "--timesteps", "--t-start", "--t-end",
                "--no-lower-order-final", "--denoise-to-zero", "--guidance");
        if (given != null) {
            throw new IllegalArgumentException(given + ": not with --config (the config fixes the solver, its grid "
                    + "and the guidance it was validated at)");
        }
        io.solvertune.client.ConfigDocument doc = ConfigRef.resolve(config, server);
        String hash = io.solvertune.tuning.ModelHash.of(ms, base);
        if (!anyModel && doc.modelHash() != null && !doc.modelHash().equals(hash)) {
            throw new IllegalArgumentException("--config: validated for model " + doc.modelName() + " (hash "
                    + abbrev(doc.modelHash()) + "), not this spec (hash " + abbrev(hash) + "); --any-model runs it "
                    + "anyway");
        }
        Guidance g = ms.guidanceOrNone();
        Integer c = classLabel != null ? classLabel : g.classLabel();
        return new PublishedRun(doc, ConfigRun.samplerConfig(doc.values()), new Guidance(c, doc.guidance()));
    }

    private static String abbrev(String h) {
        return h.length() > 12 ? h.substring(0, 12) : h;
    }

    /** The first of {@code names} given on the command line, or null. */
    private static String given(CommandLine.ParseResult pr, String... names) {
        for (String n : names) {
            if (pr.hasMatchedOption(n)) {
                return n;
            }
        }
        return null;
    }

    /** A config document and the run it stands for. */
    record PublishedRun(io.solvertune.client.ConfigDocument document, SamplerConfig config, Guidance guidance) {
        String describe() {
            com.fasterxml.jackson.databind.JsonNode mse = document.metrics().get("heldOutMse");
            return "config " + (document.id() == null ? "(file)" : document.id()) + ": " + document.method()
                    + ", NFE " + document.nfe() + ", guidance " + document.guidance()
                    + (mse == null ? "" : String.format(Locale.ROOT, ", validated held-out MSE %.4g", mse.asDouble()));
        }
    }

    private SamplerConfig config() {
        Map<String, String> opts = new LinkedHashMap<>();
        put(opts, "order", order);
        put(opts, "method", method);
        put(opts, "solver_type", solverType);
        put(opts, "variant", variant);
        put(opts, "prediction", prediction);
        SolverSpec s = SolverCatalog.parse(solver, opts);
        TimestepSpacing sp;
        int n = steps;
        if (timesteps != null) {
            sp = new TimestepSpacing.Explicit(timesteps);
            n = timesteps.length - 1;
        } else {
            sp = TimestepSpacing.named(spacing, rho);
        }
        if (n < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + n);
        }
        Double start = timesteps != null ? Double.valueOf(timesteps[0]) : tStart;
        Double end = timesteps != null ? Double.valueOf(timesteps[timesteps.length - 1]) : tEnd;
        return new SamplerConfig(s, sp, n, start, end, !noLowerOrderFinal, denoiseToZero);
    }

    private static void put(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    private Guidance guidance(ModelSpec ms) {
        Guidance g = ms.guidanceOrNone();
        Integer c = classLabel != null ? classLabel : g.classLabel();
        double w = guidanceScale != null ? guidanceScale : g.scale();
        return new Guidance(c, w);
    }

    private NDArray initialNoise(NDManager m, Denoiser model, DataType dt, SamplerConfig config) throws Exception {
        long[] sample = model.sampleShape();
        long per = 1;
        for (long d : sample) {
            per *= d;
        }
        if (seed != null) {
            double t0 = config.tStart() != null ? config.tStart() : model.schedule().defaultTStart();
            double sigma = model.schedule().sigma(t0);
            Random rnd = new Random(seed);
            double[] v = new double[(int) (batch * per)];
            for (int i = 0; i < v.length; i++) {
                v[i] = sigma * rnd.nextGaussian();
            }
            long[] shape = new long[sample.length + 1];
            shape[0] = batch;
            System.arraycopy(sample, 0, shape, 1, sample.length);
            return Nd.create(m, v, new Shape(shape), dt);
        }
        NpyArray a = ArrayFiles.read(noise, "--noise");
        if (!a.dtype().floating()) {
            throw new IllegalArgumentException("--noise: expected a float32/float64 array, got " + a.dtype());
        }
        long[] shape = a.shape();
        boolean ok = shape.length >= 2 && a.size() / Math.max(shape[0], 1) == per && shape[0] > 0;
        if (!ok) {
            throw new IllegalArgumentException("--noise: shape " + Arrays.toString(shape)
                    + " does not match the model's sample shape " + Arrays.toString(sample) + " (expected [B, "
                    + Arrays.toString(sample).replaceAll("[\\[\\]]", "") + "])");
        }
        double[] v = a.doubles();
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException("--noise: contains NaN or infinite values (first at flat index " + i + ")");
            }
        }
        long[] target = new long[sample.length + 1];
        target[0] = shape[0];
        System.arraycopy(sample, 0, target, 1, sample.length);
        return Nd.create(m, v, new Shape(target), dt);
    }

    private void writeTrajectory(TrajectoryRecorder rec, DataType dt) throws java.io.IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        double[] t = rec.times();
        arrays.put("t", NpyArray.ofDoubles(t, t.length));
        long[] s = rec.stateShape();
        long[] shape = new long[s.length + 1];
        shape[0] = t.length;
        System.arraycopy(s, 0, shape, 1, s.length);
        NpyArray.NpyDtype nd = dt == DataType.FLOAT32 ? NpyArray.NpyDtype.FLOAT32 : NpyArray.NpyDtype.FLOAT64;
        arrays.put("x", new NpyArray(shape, nd, rec.stacked(), null));
        if (rec.denoised() != null) {
            arrays.put("x0", new NpyArray(s, nd, rec.denoised(), null));
        }
        Npy.writeNpz(trajectory, arrays, false);
    }
}
