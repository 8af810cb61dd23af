/**
 * RFC 9457 problem details: the media type, the body and the exception mappers.
 */
package io.solvertune.service.api.problem;
