/**
 * Datasets the empirical models read (Fashion-MNIST IDX files from Debian's {@code dataset-fashion-mnist}).
 */
package io.solvertune.numerics.data;
