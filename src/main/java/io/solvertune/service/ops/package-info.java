/**
 * Operating the service on many hosts: Prometheus metrics of the job queue and the workers ({@code /q/metrics}),
 * process roles (API, worker or both) and what a probe means for each.
 */
package io.solvertune.service.ops;
