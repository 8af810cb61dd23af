/**
 * UniPC (bh1/bh2, orders 1-3, data or noise prediction): the spec record and solver, as the official
 * {@code uni_pc.py}.
 */
package io.solvertune.numerics.solver.unipc;
