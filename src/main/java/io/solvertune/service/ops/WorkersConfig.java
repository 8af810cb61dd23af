package io.solvertune.service.ops;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The in-process job workers ({@code solvertune.workers.*}); README "Running on many hosts".
 */
@ConfigMapping(prefix = "solvertune.workers")
public interface WorkersConfig {

    /** Whether this process runs workers ({@code solvertune.role=api} turns it off). */
    @WithDefault("true")
    boolean enabled();

    /** How many workers (threads, each running one stage at a time). */
    @WithDefault("1")
    int count();

    /** Pause between claims when there is nothing to do. */
    @WithDefault("1s")
    Duration pollInterval();

    /** How long a stopping worker may take to finish or hand back its stage before it is interrupted. */
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
