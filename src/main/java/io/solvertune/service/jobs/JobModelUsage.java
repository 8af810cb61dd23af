package io.solvertune.service.jobs;

import io.solvertune.service.registry.ModelUsage;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** A model with QUEUED or RUNNING jobs cannot be deleted. */
@Singleton
public class JobModelUsage implements ModelUsage {

    private final JobService jobs;

    public JobModelUsage(JobService jobs) {
        this.jobs = jobs;
    }

    @Override
    public Optional<String> blocksDelete(long modelId) {
        List<Long> ids = jobs.activeJobsOf(modelId);
        if (ids.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("used by queued/running job" + (ids.size() == 1 ? " " : "s ")
                + ids.stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
}
