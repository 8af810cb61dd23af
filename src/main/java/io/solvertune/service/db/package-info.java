/**
 * Datasource defaults, the embedded PostgreSQL, database-outage handling.
 */
package io.solvertune.service.db;
