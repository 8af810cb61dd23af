package io.solvertune.tuning;

import io.solvertune.numerics.spec.ModelSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The registered benchmark models (model specs on the classpath under {@code /presets}):
 * <ul>
 *   <li>{@code gmm-sd-d32}: the exact Gaussian mixture of {@code shared/reference/ref_public_gmm_sd_d32_cfg5} (K 6,
 *       D 32, component k in class k mod 2, SD scaled_linear schedule), used with guidance 1 and 7.5;</li>
 *   <li>{@code fmnist-empirical}: the optimal denoiser of the first 200 Fashion-MNIST training images per class
 *       ([-1, 1], DDPM linear betas, class-conditional), used with guidance 1 and 5;</li>
 *   <li>{@code fmnist-unet}: the project's trained class-conditional UNet ({@code tuning-jobs/fmnist-unet/unet.pt},
 *       TorchScript, noise prediction, same schedule), used with guidance 1 and 3. Its file is resolved against the
 *       working directory (run from the repository root).</li>
 * </ul>
 */
public final class Presets {
    /** A preset with its default guidance scales. */
    public record Preset(String name, double[] guidanceScales, String description) {
    }

    public static final List<Preset> ALL = List.of(
            new Preset("gmm-sd-d32", new double[] {1.0, 7.5}, "exact Gaussian mixture K6 D32 (reference cfg problem)"),
            new Preset("fmnist-empirical", new double[] {1.0, 5.0}, "Fashion-MNIST empirical optimal denoiser, 2000 images"),
            new Preset("fmnist-unet", new double[] {1.0, 3.0}, "Fashion-MNIST class-conditional UNet (TorchScript, trained here)"));

    private Presets() {
    }

    /** The preset's model spec. */
    public static ModelSpec load(String name) throws IOException {
        String res = "/presets/" + name + ".json";
        try (InputStream in = Presets.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalArgumentException("unknown preset '" + name + "' (known: "
                        + String.join(", ", ALL.stream().map(Preset::name).toList()) + ")");
            }
            ModelSpec spec = ModelSpec.MAPPER.readValue(in, ModelSpec.class);
            spec.validate();
            return spec;
        }
    }

    /** Base directory for relative paths of presets (they carry none). */
    public static Path baseDir() {
        return Path.of(".").toAbsolutePath();
    }
}
