/**
 * ConsistencySolver (Wang et al., arXiv 2512.13592; G-U-N/consolver): a learned linear multistep sampler — a
 * combination of the last (up to four) model outputs with coefficients summing to one, followed by the first-order
 * exponential (DDIM) or Euler step — its spec record, its solver and the per-row update the trainer shares.
 */
package io.solvertune.numerics.solver.consistency;
