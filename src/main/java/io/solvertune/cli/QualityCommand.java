package io.solvertune.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.tuning.eval.ImageGrid;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.eval.TorchScriptClassifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune quality}: class-conditional samples of a model (per-seed classes), labelled by a classifier; the
 * fraction labelled with their own class, per class and overall, and a sample grid.
 */
@CommandLine.Command(name = "quality", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Fraction of class-conditional samples a classifier labels with their class.")
final class QualityCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @CommandLine.Mixin
    ModelOptions model = new ModelOptions();

    @CommandLine.Option(names = "--classifier", required = true, paramLabel = "FILE.pt", description = "TorchScript classifier forward(x) -> logits")
    Path classifier;

    @CommandLine.Option(names = "--per-class", defaultValue = "100", description = "samples per class (default ${DEFAULT-VALUE})")
    int perClass;

    @CommandLine.Option(names = "--solver", defaultValue = "ddim", description = "solver (default ${DEFAULT-VALUE})")
    String solver;

    @CommandLine.Option(names = "--steps", defaultValue = "50", description = "steps (default ${DEFAULT-VALUE})")
    int steps;

    @CommandLine.Option(names = "--spacing", defaultValue = "time_uniform", description = "spacing (default ${DEFAULT-VALUE})")
    String spacing;

    @CommandLine.Option(names = "--first-seed", defaultValue = "0", description = "first seed (default ${DEFAULT-VALUE})")
    long firstSeed;

    @CommandLine.Option(names = "--batch", defaultValue = "100", description = "batch size (default ${DEFAULT-VALUE})")
    int batch;

    @CommandLine.Option(names = "--grid", paramLabel = "FILE.png", description = "grid of the first 10 samples of every class")
    Path grid;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = cmd.commandLine().getOut();
        ModelOptions.Loaded m = model.load();
        if (perClass < 1 || steps < 1 || batch < 1) {
            throw new IllegalArgumentException("--per-class, --steps and --batch must be >= 1");
        }
        try (Denoiser d = m.build(); TorchScriptClassifier cls = new TorchScriptClassifier(classifier)) {
            int c = d.numClasses();
            if (c < 1) {
                throw new IllegalArgumentException("quality: the model is unconditional");
            }
            Guidance g = Guidance.perSeed(m.guidance().scale());
            SamplerConfig cfg = SamplerConfig.of(SolverCatalog.parse(solver, Map.of()), TimestepSpacing.named(spacing, 7.0), steps);
            long[] seeds = Seeds.range(firstSeed, perClass * c); // seed s has class s mod C
            long[] shape = d.sampleShape();
            int per = 1;
            for (long v : shape) {
                per *= (int) v;
            }
            int[] right = new int[c];
            int[] total = new int[c];
            Map<Integer, List<double[]>> firstPerClass = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            for (int from = 0; from < seeds.length; from += batch) {
                int to = Math.min(seeds.length, from + batch);
                long[] bs = java.util.Arrays.copyOfRange(seeds, from, to);
                long[] labels = g.rowLabels(bs, c);
                long[] full = new long[shape.length + 1];
                full[0] = to - from;
                System.arraycopy(shape, 0, full, 1, shape.length);
                double[] x;
                try (NDManager mg = NDManager.newBaseManager()) {
                    NDArray xT = Nd.create(mg, Seeds.initialNoise(bs, per, Seeds.noiseScale(d.schedule(), d.schedule().defaultTStart())),
                            new Shape(full), m.dtype());
                    SampleResult r = Sampler.sample(cfg, new ModelFunction(d, g, labels), xT);
                    x = Nd.toDoubles(r.x());
                }
                int[] pred = cls.predict(x, shape, to - from);
                for (int i = 0; i < pred.length; i++) {
                    int lab = (int) labels[i];
                    total[lab]++;
                    if (pred[i] == lab) {
                        right[lab]++;
                    }
                    List<double[]> l = firstPerClass.computeIfAbsent(lab, k -> new ArrayList<>());
                    if (l.size() < 10) {
                        l.add(java.util.Arrays.copyOfRange(x, i * per, i * per + per));
                    }
                }
            }
            int r = 0;
            int n = 0;
            StringBuilder perClassText = new StringBuilder();
            for (int k = 0; k < c; k++) {
                r += right[k];
                n += total[k];
                perClassText.append(String.format(Locale.ROOT, " %d:%.0f%%", k, 100.0 * right[k] / Math.max(1, total[k])));
            }
            o.printf(Locale.ROOT, "quality: %s, %d steps, guidance %s: %d of %d samples (%.1f%%) labelled with their class"
                            + " (%.1f s)%n  per class:%s%n", cfg.solver().label(), steps, m.guidance().scale(), r, n,
                    100.0 * r / n, (System.nanoTime() - t0) / 1e9, perClassText);
            if (grid != null) {
                if (!ImageGrid.isImage(shape)) {
                    throw new IllegalArgumentException("--grid: samples are not images");
                }
                List<double[]> cols = new ArrayList<>();
                for (int col = 0; col < 10; col++) {
                    double[] column = new double[c * per];
                    for (int k = 0; k < c; k++) {
                        List<double[]> l = firstPerClass.getOrDefault(k, List.of());
                        if (col < l.size()) {
                            System.arraycopy(l.get(col), 0, column, k * per, per);
                        }
                    }
                    cols.add(column);
                }
                ImageGrid.write(grid, cols, c, shape, 2);
                o.println("wrote " + grid + " (rows = classes)");
            }
        }
        return 0;
    }
}
