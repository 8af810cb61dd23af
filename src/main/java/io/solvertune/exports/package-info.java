/**
 * Export rules: for a published config and a consumer format (diffusers, k-diffusion, ComfyUI, the official
 * DPM-Solver-v3 and DC-Solver code), the exact consumer call that reproduces the validated run, or the reason it
 * cannot. Framework-free; imports numerics and tuning.
 */
package io.solvertune.exports;
