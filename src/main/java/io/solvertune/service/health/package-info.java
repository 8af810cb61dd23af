/**
 * Health checks (the DJL engine).
 */
package io.solvertune.service.health;
