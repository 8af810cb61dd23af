/**
 * Noise schedules (alpha, sigma, lambda and its inverse, in {@code double}) and timestep spacings.
 */
package io.solvertune.numerics.schedule;
