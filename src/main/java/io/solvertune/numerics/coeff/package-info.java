/**
 * DPM-Solver-v3 empirical model statistics (l, s, b) on their uniform-lambda grid, their official npz layout and
 * metadata. May import the other numerics packages.
 */
package io.solvertune.numerics.coeff;
