/**
 * The HTTP client commands (submit, status, wait, download).
 */
package io.solvertune.cli.client;
