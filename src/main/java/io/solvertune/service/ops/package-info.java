/**
 * Operating the service on many hosts: Prometheus metrics of the job queue and the workers ({@code /q/metrics}),
 * process roles (API, worker or both) and what a probe means for each, stage directories and running stages'
 * checkpoints through the shared artifact store ({@link io.solvertune.service.ops.ArtifactSync},
 * {@link io.solvertune.service.ops.CheckpointSync}) and the fleet's sweep of its garbage
 * ({@link io.solvertune.service.ops.BlobSweeper}).
 */
package io.solvertune.service.ops;
