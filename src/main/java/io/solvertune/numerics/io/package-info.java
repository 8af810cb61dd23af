/**
 * numpy {@code .npy} / {@code .npz} reading and writing.
 */
package io.solvertune.numerics.io;
