package io.solvertune.service.ops;

import java.util.Locale;
import java.util.Map;

/**
 * What one service process does ({@code solvertune.role}): serve the API, run job workers, or both (the default). A
 * fleet runs one or a few {@code api} processes and any number of {@code worker} processes against one database.
 */
public enum ProcessRole {
    /** The REST API and the in-process job workers. */
    ALL,
    /** The REST API only: no job workers ({@code solvertune.workers.enabled=false}). */
    API,
    /**
     * Job workers only: {@code /api/**} is answered 404 (health, metrics and OpenAPI stay), no first admin token is
     * created.
     */
    WORKER;

    public static final String KEY = "solvertune.role";

    /** Parses {@code all|api|worker} (any case); anything else is refused naming the key. */
    public static ProcessRole parse(String value) {
        if (value == null || value.isBlank()) {
            return ALL;
        }
        try {
            return valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(KEY + ": expected all, api or worker, got '" + value + "'");
        }
    }

    public boolean servesApi() {
        return this != WORKER;
    }

    public boolean runsWorkers() {
        return this != API;
    }

    /** The settings this role implies (they sit below env and system properties, above application.properties). */
    public Map<String, String> implied() {
        return switch (this) {
            case ALL -> Map.of();
            case API -> Map.of("solvertune.workers.enabled", "false");
            case WORKER -> Map.of("solvertune.bootstrap-token.enabled", "false");
        };
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
