/**
 * Training ConsistencySolver's coefficients by reinforcement learning on DJL (GRPO-style group-normalised advantages,
 * PPO clipping, entropy bonus, Adam, gradient clipping), the materialised per-NFE tables, and the two ablations: direct
 * gradient through the unrolled solver, and CMA-ES on the table.
 */
package io.solvertune.tuning.fit.consistency;
