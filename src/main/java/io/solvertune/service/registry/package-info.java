/**
 * The model registry: presets, specs and streamed TorchScript uploads, probes and usage.
 */
package io.solvertune.service.registry;
