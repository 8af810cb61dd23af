/**
 * The command line (picocli): sampling, teachers, fitting, evaluation and the HTTP client commands; runs without
 * booting Quarkus. May import numerics, tuning, exports and (for {@code token}) service. The tuning commands that
 * a job's stages can do ({@code teacher}, {@code fit}, {@code fit-ems}) are adapters: options in, a plan of those
 * stages run by the jobs' local runner, its outputs printed.
 */
package io.solvertune.cli;
