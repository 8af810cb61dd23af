package io.solvertune.service.jobs;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The in-process job workers ({@code solvertune.workers.*}, documented in {@code application.properties}; README
 * "Running on many hosts"): the one mapping of the prefix, read by the worker pool, the blob sweeper and the
 * workers' devices ({@code service.ops} imports {@code service.jobs}, not the other way round).
 */
@ConfigMapping(prefix = "solvertune.workers")
public interface WorkersConfig {

    /** Whether this process runs workers ({@code solvertune.role=api} turns it off). */
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

    /**
     * The device each worker loads TorchScript models on: worker {@code i} uses entry {@code i mod size}
     * ({@code cpu}, {@code gpu}, {@code gpu:N} or {@code auto}). Absent: DJL's default device (a GPU if it reports
     * one). Applies to models whose spec leaves {@code device} unset or {@code auto}.
     */
    Optional<List<String>> devices();

    /** The device of worker {@code worker}, empty for DJL's default. */
    default Optional<String> device(int worker) {
        return devices().filter(d -> !d.isEmpty()).map(d -> d.get(worker % d.size()));
    }
}
