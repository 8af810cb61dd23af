package io.solvertune.service.db;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Behaviour while the database is away ({@code solvertune.db.*}, documented in {@code application.properties}). */
@ConfigMapping(prefix = "solvertune.db")
public interface DbConfig {

    /** The Retry-After of a 503 during an outage. */
    @WithDefault("5S")
    Duration retryAfter();

    /** How often the database is probed during an outage. */
    @WithDefault("2S")
    Duration outageProbeInterval();
}
