package io.solvertune.exports;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ComfyUI pieces an export relies on, written from their semantics (ComfyUI as indexed: {@code
 * comfy_extras/nodes_custom_sampler.py}, {@code comfy/samplers.py}, {@code comfy/model_sampling.py}, {@code
 * comfy/k_diffusion/sampling.py}):
 * <ul>
 *   <li>{@code ManualSigmas}: {@code re.findall(r"[-+]?(?:\d*\.*\d+)", s)}, each match through Python's
 *       {@code float}, into a float32 tensor;</li>
 *   <li>{@code KSAMPLER.sample} through {@code SamplerCustom}: {@code noise_scaling(sigmas[0], noise, latent,
 *       max_denoise)} with {@code max_denoise = isclose(sigma_max, sigmas[0], rel_tol=1e-5) or sigmas[0] >
 *       sigma_max} (EPS: {@code noise * sqrt(1 + sigma^2)} or {@code noise * sigma}, plus the latent; CONST:
 *       {@code sigma * noise + (1 - sigma) * latent}), the sampler function, then {@code inverse_noise_scaling}
 *       (EPS: identity; CONST: {@code / (1 - sigma_last)}); {@code dpm_fast} gets {@code sigmas[-1]} (or
 *       {@code sigmas[-2]} if that is 0), {@code sigmas[0]} and {@code len(sigmas) - 1};</li>
 *   <li>a discrete model's network receives {@code ModelSamplingDiscrete.timestep(sigma)}: the integer timestep
 *       whose log sigma is nearest.</li>
 * </ul>
 * The sampler functions are k-diffusion's ({@link KDiffusionEmulator}; ComfyUI's copies are identical for these on
 * non-flow models, which was checked by reading them). ComfyUI itself was not run: its snapshot (1.2 GB) is too
 * large to fetch here, so these pieces follow the files as indexed; the k-diffusion functions they call were run
 * for real (see {@link KDiffusionEmulator}).
 */
final class ComfyUiEmulator {
    private ComfyUiEmulator() {
    }

    private static final Pattern NUMBER = Pattern.compile("[-+]?(?:\\d*\\.*\\d+)");

    /** ManualSigmas: the float32 values ComfyUI reads from the string. */
    static double[] parseManualSigmas(String s) {
        List<Double> out = new ArrayList<>();
        Matcher m = NUMBER.matcher(s);
        while (m.find()) {
            out.add((double) (float) Double.parseDouble(m.group()));
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The model sampling of the loaded model, as the sampler sees it. */
    interface ModelSampling {
        double sigmaMax();

        boolean constFlow();

        /** The denoiser with ComfyUI's time handling (e.g. the nearest integer timestep). */
        KDiffusionEmulator.Denoiser denoiser();
    }

    /**
     * Runs the export's SamplerCustom stages from {@code noise} (empty latent), each on the sigma list its
     * ManualSigmas string reads ({@code useExactLists}: on the export's double lists instead, to compare the
     * algorithm without the float32 storage).
     */
    static double[][] run(List<?> stages, ModelSampling ms, double[][] noise, boolean useExactLists) {
        double[][] latent = Vec.scale(0.0, noise);
        double[][] x = null;
        for (Object o : stages) {
            Map<?, ?> st = (Map<?, ?>) o;
            double[] sigmas = useExactLists ? (double[]) st.get("sigmas")
                    : parseManualSigmas((String) st.get("manualSigmas"));
            boolean addNoise = Boolean.TRUE.equals(st.get("addNoise"));
            double[][] n = addNoise ? noise : Vec.scale(0.0, noise);
            double s0 = sigmas[0];
            double[][] start;
            if (ms.constFlow()) {
                start = Vec.lin(s0, n, 1 - s0, latent);
            } else {
                boolean maxDenoise = Math.abs(ms.sigmaMax() - s0) <= 1e-5 * Math.max(Math.abs(ms.sigmaMax()),
                        Math.abs(s0)) || s0 > ms.sigmaMax();
                start = Vec.add(Vec.scale(maxDenoise ? Math.sqrt(1 + s0 * s0) : s0, n), latent);
            }
            String sampler = (String) st.get("sampler");
            double[][] out;
            if (sampler.equals("sample_dpm_fast")) {
                double min = sigmas[sigmas.length - 1] == 0 ? sigmas[sigmas.length - 2] : sigmas[sigmas.length - 1];
                out = KDiffusionEmulator.sampleDpmFast(ms.denoiser(), start, min, sigmas[0], sigmas.length - 1);
            } else {
                Map<?, ?> node = (Map<?, ?>) st.get("node");
                out = KDiffusionEmulator.run(sampler, ms.denoiser(), start, sigmas, (Map<?, ?>) node.get("inputs"));
            }
            double last = sigmas[sigmas.length - 1];
            x = ms.constFlow() ? Vec.scale(1 / (1 - last), out) : out;
            latent = x;
        }
        return x;
    }
}
