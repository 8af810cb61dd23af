/**
 * The typed Java client of the solvertune REST API — the one the CLI uses, and the one other JVM programs use to
 * fetch tuned configs and submit tuning jobs. {@link io.solvertune.client.SolvertuneClient} is the entry point.
 *
 * <p>Depends on {@code java.net.http} and Jackson only: no Quarkus, Jakarta or service classes (LayeringTest). Errors
 * are {@link io.solvertune.client.ApiException}s carrying the server's problem details (status, title, detail and
 * the offending fields); config documents are cached on disk by ETag, so a repeated fetch costs one 304.
 */
package io.solvertune.client;
