package io.solvertune.cli;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.unipc.UniPc;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.data.FashionMnist;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.spec.DenoiserSpec;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune bench}: per solver, the bookkeeping time per step (everything outside the model call) against
 * the time of one model evaluation, measured in the same run, on the Fashion-MNIST empirical denoiser and on a
 * Gaussian mixture.
 */
@CommandLine.Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure solver bookkeeping per step against one model evaluation (same run).")
final class BenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Option(names = "--models", split = ",", defaultValue = "fmnist,gmm",
            description = "which setups: fmnist (empirical denoiser, batch 64, 2000 images, float32), gmm (batch 256, D 64, K 8, float64); default ${DEFAULT-VALUE}")
    List<String> models;

    @CommandLine.Option(names = "--steps", defaultValue = "10", description = "steps per run (default ${DEFAULT-VALUE})")
    int steps;

    @CommandLine.Option(names = "--repeats", defaultValue = "15", description = "timed runs per solver; the median is reported (default ${DEFAULT-VALUE})")
    int repeats;

    @CommandLine.Option(names = "--warmup", defaultValue = "5", description = "untimed runs per solver (default ${DEFAULT-VALUE})")
    int warmup;

    @CommandLine.Option(names = "--fashion-dir", defaultValue = "/usr/share/datasets/fashion-mnist", description = "Fashion-MNIST IDX directory")
    Path fashionDir;

    @CommandLine.Option(names = "--markdown", paramLabel = "FILE", description = "also write the tables as markdown")
    Path markdown;

    /** One benchmark row. */
    record Row(String setup, String solver, int steps, long nfe, double bookkeepingUsPerNfe, double modelUsPerEval) {
        double ratio() {
            return bookkeepingUsPerNfe / modelUsPerEval;
        }
    }

    static List<SolverSpec> solvers() {
        PredictionType d = PredictionType.DATA;
        PredictionType n = PredictionType.NOISE;
        return List.of(
                new Ddim(),
                new DpmSolver(d, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(d, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(d, DpmSolver.Method.SINGLESTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(n, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(n, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new UniPc(d, UniPc.Variant.BH1, 3),
                new UniPc(d, UniPc.Variant.BH2, 2),
                new UniPc(n, UniPc.Variant.BH2, 2),
                new EdmEuler(),
                new EdmHeun());
    }

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || repeats < 1 || warmup < 0) {
            throw new IllegalArgumentException("--steps and --repeats must be >= 1, --warmup >= 0");
        }
        PrintWriter out = cmd.commandLine().getOut();
        List<Row> rows = new ArrayList<>();
        StringBuilder md = new StringBuilder();
        String machine = String.format(Locale.ROOT, "%d cores, Java %s, %s", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), System.getProperty("os.arch"));
        out.println("solvertune bench: " + machine + ", " + steps + " steps, median of " + repeats + " runs");
        for (String m : models) {
            switch (m.trim().toLowerCase(Locale.ROOT)) {
                case "fmnist" -> rows.addAll(fmnist(out));
                case "gmm" -> rows.addAll(gmm(out));
                default -> throw new IllegalArgumentException("--models: unknown setup '" + m + "' (known: fmnist, gmm)");
            }
        }
        md.append("Machine: ").append(machine).append("; ").append(steps).append(" steps; median of ")
                .append(repeats).append(" timed runs after ").append(warmup).append(" warm-up runs.\n\n");
        md.append(table(rows));
        out.println();
        out.print(table(rows));
        if (markdown != null) {
            Files.writeString(markdown, md.toString());
            out.println("wrote " + markdown);
        }
        return 0;
    }

    private List<Row> fmnist(PrintWriter out) throws Exception {
        if (!FashionMnist.available(fashionDir)) {
            throw new IllegalArgumentException("--fashion-dir: Fashion-MNIST not found in " + fashionDir
                    + " (apt-get install dataset-fashion-mnist)");
        }
        NoiseSchedule schedule = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000, 1e-4, 0.02,
                VpDiscreteSchedule.DEFAULT_CLIPPED_LAMBDA);
        DenoiserSpec spec = new DenoiserSpec.Empirical("fashion-mnist", fashionDir.toString(), 200, true, null, "float32");
        try (Denoiser model = spec.build(schedule, Path.of("."))) {
            out.println("fmnist: empirical denoiser over 2000 images (200 per class), 784 dims, float32, batch 64, class 3");
            return run("fmnist-empirical b64 f32", model, Guidance.classifierFree(3, 1.0), 64, DataType.FLOAT32, out);
        }
    }

    private List<Row> gmm(PrintWriter out) {
        int k = 8;
        int d = 64;
        Random rnd = new Random(2024);
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[] s = new double[k];
        for (int i = 0; i < k; i++) {
            w[i] = 0.5 + rnd.nextDouble();
            s[i] = 0.1 + 0.4 * rnd.nextDouble();
            for (int j = 0; j < d; j++) {
                mu[i][j] = rnd.nextGaussian();
            }
        }
        NoiseSchedule schedule = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        try (GaussianMixtureDenoiser model = new GaussianMixtureDenoiser(schedule, w, mu, s, null)) {
            out.println("gmm: Gaussian mixture, K 8, D 64, float64, batch 256, unconditional");
            return run("gmm K8 D64 b256 f64", model, Guidance.none(), 256, DataType.FLOAT64, out);
        }
    }

    private List<Row> run(String setup, Denoiser model, Guidance guidance, int batch, DataType dt, PrintWriter out) {
        List<Row> rows = new ArrayList<>();
        long[] sample = model.sampleShape();
        long[] shape = new long[sample.length + 1];
        shape[0] = batch;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        int per = 1;
        for (long x : sample) {
            per *= (int) x;
        }
        double[] noise = new double[batch * per];
        Random rnd = new Random(1);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = rnd.nextGaussian();
        }
        List<SolverSpec> specs = solvers();
        int n = specs.size();
        double[][] book = new double[n][repeats];
        double[][] eval = new double[n][repeats];
        long[] nfe = new long[n];
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray xT = Nd.create(m, noise, new Shape(shape), dt);
            List<SamplerConfig> configs = new ArrayList<>();
            for (SolverSpec solver : specs) {
                configs.add(SamplerConfig.of(solver, new TimestepSpacing.TimeUniform(), steps));
            }
            // warm up every solver first (JIT, allocator), then time in rounds with a shuffled solver order so that
            // drift and order effects spread over all solvers alike
            for (int w = 0; w < warmup; w++) {
                for (SamplerConfig cfg : configs) {
                    once(cfg, model, guidance, xT);
                }
            }
            Random order = new Random(42);
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                idx.add(i);
            }
            for (int round = 0; round < repeats; round++) {
                java.util.Collections.shuffle(idx, order);
                for (int i : idx) {
                    SampleResult r = once(configs.get(i), model, guidance, xT);
                    book[i][round] = r.bookkeepingNanos() / 1e3 / r.nfe();
                    eval[i][round] = r.modelNanos() / 1e3 / r.nfe();
                    nfe[i] = r.nfe();
                }
            }
        }
        for (int i = 0; i < n; i++) {
            Row row = new Row(setup, specs.get(i).label(), steps, nfe[i], median(book[i]), median(eval[i]));
            rows.add(row);
            out.printf(Locale.ROOT, "  %-32s NFE %3d  bookkeeping %9.1f us/NFE  model %9.1f us/eval  ratio %6.2f%%%n",
                    row.solver(), row.nfe(), row.bookkeepingUsPerNfe(), row.modelUsPerEval(), 100 * row.ratio());
        }
        return rows;
    }

    private static SampleResult once(SamplerConfig cfg, Denoiser model, Guidance g, NDArray xT) {
        ModelFunction fn = new ModelFunction(model, g);
        SampleResult r = Sampler.sample(cfg, fn, xT);
        r.x().close();
        return r;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String setup = null;
        for (Row r : rows) {
            if (!r.setup().equals(setup)) {
                setup = r.setup();
                sb.append("\n**").append(setup).append("**\n\n");
                sb.append("| solver | steps | NFE | bookkeeping µs per NFE | model µs per eval | bookkeeping / model eval |\n");
                sb.append("|---|---:|---:|---:|---:|---:|\n");
            }
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.2f%% |%n", r.solver(), r.steps(),
                    r.nfe(), r.bookkeepingUsPerNfe(), r.modelUsPerEval(), 100 * r.ratio()));
        }
        return sb.toString();
    }
}
