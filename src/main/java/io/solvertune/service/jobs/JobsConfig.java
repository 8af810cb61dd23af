package io.solvertune.service.jobs;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The job engine's settings ({@code solvertune.jobs.*}, documented in {@code application.properties}). */
@ConfigMapping(prefix = "solvertune.jobs")
public interface JobsConfig {

    /** How long a worker holds a stage without a heartbeat (at least 300 ms). */
    @WithDefault("30s")
    Duration lease();

    /** Claims of one stage before it fails its job. */
    @WithDefault("3")
    int maxAttempts();

    /** Interval of the job event stream. */
    @WithDefault("500ms")
    Duration eventsInterval();
}
