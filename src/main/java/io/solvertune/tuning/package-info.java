/**
 * The tuning layer: teacher trajectories, fitting, evaluation and tuning jobs, framework-free (imports numerics,
 * never service, cli or a framework; enforced by {@code LayeringTest}). This package holds what every room shares:
 * JSON mapper, hashing, model hashes, presets, seeds, progress reporting and the method ids ({@link
 * io.solvertune.tuning.MethodId}); it imports none of the rooms.
 */
package io.solvertune.tuning;
