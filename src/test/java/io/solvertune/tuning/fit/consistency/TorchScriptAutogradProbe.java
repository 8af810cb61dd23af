package io.solvertune.tuning.fit.consistency;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.tuning.Presets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Does DJL autograd go through a TorchScript module? (Needed by the direct-gradient ablation on the UNet.) Builds the
 * fmnist-unet preset, asks for the gradient of sum(model(x, t)) with respect to x and prints what happens (finding in
 * BENCHMARKS.md). Tag {@code slow}: {@code mvn -o test -Dtest=TorchScriptAutogradProbe -DexcludedGroups=none}.
 */
@Tag("slow")
class TorchScriptAutogradProbe {
    @Test
    void probe() throws Exception {
        try (Denoiser d = Presets.load("fmnist-unet").build(Presets.baseDir()); NDManager m = NDManager.newBaseManager()) {
            long[] shape = d.sampleShape();
            long[] full = {2, shape[0], shape[1], shape[2]};
            double[] v = new double[2 * 784];
            java.util.SplittableRandom r = new java.util.SplittableRandom(1);
            for (int i = 0; i < v.length; i++) {
                v[i] = GaussianPolicy.gaussian(r);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray x = Nd.create(m, v, new Shape(full), DataType.FLOAT32);
                x.setRequiresGradient(true);
                NDArray out = d.predict(x, 0.5, m.create(new long[] {1, 2}));
                System.out.println("probe: output requires grad? " + out.hasGradient());
                try {
                    gc.backward(out.sum());
                    double[] g = Nd.toDoubles(x.getGradient());
                    double s = 0;
                    for (double q : g) {
                        s += Math.abs(q);
                    }
                    System.out.println("probe: |dsum/dx|_1 = " + s);
                } catch (RuntimeException e) {
                    System.out.println("probe: backward failed: " + e);
                }
            }
            // the same module called through DJL's forward with training = true (not runMethod)
            try (ai.djl.Model model = ai.djl.Model.newInstance("probe", ai.djl.engine.Engine.getInstance()
                    .defaultDevice(), "PyTorch")) {
                model.load(Presets.baseDir().resolve("tuning-jobs/fmnist-unet/unet.pt").toAbsolutePath()
                        .normalize().getParent(), "unet", java.util.Map.of("mapLocation", "true"));
                ai.djl.nn.Block block = model.getBlock();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray x = Nd.create(m, v, new Shape(full), DataType.FLOAT32);
                    x.setRequiresGradient(true);
                    NDArray t = m.create(new float[] {500f, 500f});
                    NDArray y = m.create(new long[] {1, 2});
                    NDArray out = block.forward(new ai.djl.training.ParameterStore(m, false),
                            new ai.djl.ndarray.NDList(x, t, y), true).singletonOrThrow();
                    gc.backward(out.sum());
                    double[] g = Nd.toDoubles(x.getGradient());
                    double s = 0;
                    for (double q : g) {
                        s += Math.abs(q);
                    }
                    System.out.println("probe: training-mode forward |dsum/dx|_1 = " + s);
                } catch (RuntimeException e) {
                    System.out.println("probe: training-mode forward failed: " + String.valueOf(e.getMessage()).replace("\n", " | "));
                }
            } catch (RuntimeException | java.io.IOException | ai.djl.MalformedModelException e) {
                System.out.println("probe: loading for the training-mode forward failed: " + e);
            }
        }
    }
}
