/**
 * Small helpers over DJL NDArrays: host-side linear combinations ({@code Combo}) applied as one fused expression.
 */
package io.solvertune.numerics.nd;
