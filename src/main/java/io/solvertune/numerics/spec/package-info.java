/**
 * Model spec files (schedule, model, default guidance, dtype) as JSON records.
 */
package io.solvertune.numerics.spec;
