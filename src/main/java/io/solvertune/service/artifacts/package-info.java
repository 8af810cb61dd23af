/**
 * Content-addressed artifact storage (uploaded TorchScript modules and other files) with sha256.
 */
package io.solvertune.service.artifacts;
