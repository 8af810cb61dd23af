/**
 * The command line (picocli): sampling, teachers, fitting, evaluation and the HTTP client commands; runs without
 * booting Quarkus. May import numerics, tuning, exports and (for {@code token}) service.
 */
package io.solvertune.cli;
