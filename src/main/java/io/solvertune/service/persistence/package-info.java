/**
 * Panache entities of the models and configs tables.
 */
package io.solvertune.service.persistence;
