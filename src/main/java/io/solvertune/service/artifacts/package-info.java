/**
 * Content-addressed artifact storage with sha256: uploaded TorchScript modules ({@link
 * io.solvertune.service.artifacts.ArtifactStore}, files under the artifact root) and the store every host reaches
 * ({@link io.solvertune.service.artifacts.SharedArtifacts} over a {@link io.solvertune.service.artifacts.BlobStore}:
 * PostgreSQL chunks or an S3-compatible bucket, local disk only as a cache).
 */
package io.solvertune.service.artifacts;
