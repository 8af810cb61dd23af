package io.solvertune.service.jobs.testing;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** Test planner/executors selected, two in-process workers, short leases and polls. */
public class JobsTestProfile implements QuarkusTestProfile {

    /** Lease of the test profile (ms). */
    public static final long LEASE_MS = 2000;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.arc.selected-alternatives", "io.solvertune.service.jobs.testing.*",
                "solvertune.workers.count", "2",
                "solvertune.workers.poll-interval", "100ms",
                "solvertune.jobs.lease", LEASE_MS + "ms",
                "solvertune.jobs.events-interval", "200ms",
                "solvertune.jobs.max-attempts", "3",
                // small enough for the test planner (at most 53 stages) to go over it
                "solvertune.limits.job.max-stages", "40",
                "solvertune.limits.events.max-stages-per-event", "10",
                "solvertune.limits.events.max-streams-per-token", "3");
    }
}
