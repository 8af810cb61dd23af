/**
 * The config store: immutable versioned configs, aliases and recommendations, the download API and its
 * event-loop fast paths, and the export endpoint.
 */
package io.solvertune.service.configs;
