/**
 * Tuning jobs in PostgreSQL: submission, leased workers, stage claims, events and logs.
 */
package io.solvertune.service.jobs;
