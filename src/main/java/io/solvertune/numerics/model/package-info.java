/**
 * Denoisers (one batched call with a declared prediction type), the model function (conversions,
 * classifier-free guidance, NFE counting), exact analytic models and TorchScript networks through DJL.
 */
package io.solvertune.numerics.model;
