package io.solvertune.service.configs;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The config store's read side ({@code solvertune.configs.*}, documented in {@code application.properties}). */
@ConfigMapping(prefix = "solvertune.configs")
public interface ConfigsConfig {

    /** The served-document cache. */
    Cache cache();

    /** How long a model's anonymous-read flag is remembered. */
    @WithDefault("5S")
    Duration modelCacheTtl();

    /** The event-loop answer for cached aliases and recommendations. */
    FastPath fastPath();

    /** The in-memory alias and recommendation pointers per model. */
    PointerCache pointerCache();

    interface Cache {
        @WithDefault("10000")
        int maxEntries();

        @WithDefault("268435456")
        long maxBytes();
    }

    interface FastPath {
        @WithDefault("true")
        boolean enabled();
    }

    interface PointerCache {
        @WithDefault("5S")
        Duration ttl();

        @WithDefault("1024")
        int maxModels();

        @WithDefault("16777216")
        long maxBytes();

        @WithDefault("4096")
        int maxRowsPerModel();
    }
}
