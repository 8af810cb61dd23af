/**
 * The numerics layer: noise schedules, models, solvers and the sampling loop, in plain Java and DJL. Imports no
 * framework (no Quarkus, Jakarta, Hibernate, Vert.x) and nothing of {@code tuning}, {@code service} or {@code cli}
 * (enforced by {@code LayeringTest}); Jackson annotations only, for the records that are read from JSON.
 */
package io.solvertune.numerics;
