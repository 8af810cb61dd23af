package io.solvertune.service.jobs;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The in-process workers ({@code solvertune.workers.*}, documented in {@code application.properties}). */
@ConfigMapping(prefix = "solvertune.workers")
public interface WorkersConfig {

    /** Whether this instance runs workers (an API-only instance does not). */
    @WithDefault("true")
    boolean enabled();

    /** Worker threads. */
    @WithDefault("1")
    int count();

    /** How often an idle worker looks for a READY stage. */
    @WithDefault("1s")
    Duration pollInterval();

    /** On shutdown, how long a worker may finish its stage before the stage is released to another worker. */
    @WithDefault("30s")
    Duration shutdownGrace();
}
