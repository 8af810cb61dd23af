/**
 * The admin dashboard (issue 19): read-only aggregate views the web UI needs beyond the public API (an overview of
 * stages, workers and failures; a model's current configs with their metrics and aliases in one call) and the
 * redirect to the static single-page UI under {@code /dashboard/} (index.html, app.js, app.css in
 * {@code META-INF/resources/dashboard}, uPlot from its webjar), and the sample grids of image models
 * ({@link io.solvertune.service.dashboard.SampleGrids}: the PNGs a job's {@code sample-grids} stage stored, rendered on
 * request only where none exists). Everything else the UI does goes through the public REST API with the signed-in
 * bearer token.
 */
package io.solvertune.service.dashboard;
