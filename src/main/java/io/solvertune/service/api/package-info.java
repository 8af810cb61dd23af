/**
 * Cross-cutting API pieces (the solver catalog resource, strict JSON reading).
 */
package io.solvertune.service.api;
