/**
 * Euler and Heun in EDM form: spec records and solvers.
 */
package io.solvertune.numerics.solver.edm;
