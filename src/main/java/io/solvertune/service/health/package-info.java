/**
 * Health checks: readiness (the DJL engine; the database check comes from the datasource extension) and liveness
 * (no deadlock, no dead job worker).
 */
package io.solvertune.service.health;
