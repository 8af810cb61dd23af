/**
 * DDIM (eta = 0): its spec record and solver.
 */
package io.solvertune.numerics.solver.ddim;
