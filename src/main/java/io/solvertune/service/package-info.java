/**
 * The Quarkus service: REST resources, persistence, job workers, security. May import numerics, tuning and
 * exports; never the CLI.
 */
package io.solvertune.service;
