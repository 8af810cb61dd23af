package io.solvertune.exports;

import java.util.Arrays;
import java.util.List;

/** The export formats of a published config, each named after the consumer that loads it. */
public enum ExportFormat {
    /** The native document; always reproduces the config (our own samplers read it). */
    JSON("json", "application/json", "json"),
    /** A zip for huggingface/diffusers: scheduler config, the exact schedule, the call, guider config. */
    DIFFUSERS("diffusers", "application/zip", "zip"),
    /** JSON for crowsonkb/k-diffusion: sampler function calls with their sigma lists. */
    K_DIFFUSION("k-diffusion", "application/json", "json"),
    /** JSON for ComfyUI: the SamplerCustom graph with its ManualSigmas strings. */
    COMFYUI("comfyui", "application/json", "json"),
    /** A zip in the official DPM-Solver-v3 layout (l.npz, sb.npz) with the official call. */
    DPMSOLVER_V3("dpmsolver-v3", "application/zip", "zip"),
    /** The JSON list of per-step ratios the official DC-Solver sampler takes ({@code dc_ratios}). */
    DC_RATIOS("dc-ratios", "application/json", "json"),
    /** DC-Solver cascade-polynomial coefficients as the official {@code .npy} (36 float64 values). */
    DC_CPR("dc-cpr", "application/octet-stream", "npy");

    private final String id;
    private final String mediaType;
    private final String extension;

    ExportFormat(String id, String mediaType, String extension) {
        this.id = id;
        this.mediaType = mediaType;
        this.extension = extension;
    }

    public String id() {
        return id;
    }

    public String mediaType() {
        return mediaType;
    }

    public String extension() {
        return extension;
    }

    /** The known format ids. */
    public static List<String> ids() {
        return Arrays.stream(values()).map(ExportFormat::id).toList();
    }

    /** The format called {@code id} (case-insensitive), or null. */
    public static ExportFormat of(String id) {
        for (ExportFormat f : values()) {
            if (f.id.equalsIgnoreCase(id == null ? "" : id.strip())) {
                return f;
            }
        }
        return null;
    }
}
