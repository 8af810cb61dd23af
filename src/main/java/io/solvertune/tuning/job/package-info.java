/**
 * Tuning jobs as DAGs of checkpointed stages: the job spec, the planner, the stage executors and a local
 * runner (the CLI's way to run a job without the service), and the small plans of those stages the CLI's tuning
 * commands run through it ({@link io.solvertune.tuning.job.CommandPlans}). Imports every tuning room.
 */
package io.solvertune.tuning.job;
