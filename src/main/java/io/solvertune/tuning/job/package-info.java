/**
 * Tuning jobs as DAGs of checkpointed stages: the job spec, the planner, the stage executors and a local
 * runner (the CLI's way to run a job without the service). Imports every tuning room.
 */
package io.solvertune.tuning.job;
