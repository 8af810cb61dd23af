/**
 * Bearer tokens with roles, their caches, the auth filter and the bootstrap admin token.
 */
package io.solvertune.service.security;
