/**
 * Teacher trajectories: high-accuracy solves from fixed seeds ({@code Teacher}, sharded and resumable), their
 * settings and the {@code TrajectorySet} artifact (npz + provenance). Imports numerics and the shared tuning package.
 */
package io.solvertune.tuning.teacher;
