/**
 * Request limits: sizes, control characters, JSON body guards, problem+json for oversized requests.
 */
package io.solvertune.service.limits;
