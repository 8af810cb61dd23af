package io.solvertune.service.ops;

import io.solvertune.service.jobs.testing.JobsTestProfile;
import java.util.HashMap;
import java.util.Map;

/** The job tests' planner and stages (two workers, 2 s leases) with queue gauges read again every 50 ms. */
public class OpsTestProfile extends JobsTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> m = new HashMap<>(super.getConfigOverrides());
        m.put("solvertune.metrics.db-refresh", "50ms");
        m.put("solvertune.workers.shutdown-grace", "5s");
        return m;
    }

    /** Workers only. */
    public static class Worker extends OpsTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(super.getConfigOverrides());
            m.put("solvertune.role", "worker");
            return m;
        }
    }

    /** API only. */
    public static class Api extends OpsTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(super.getConfigOverrides());
            m.put("solvertune.role", "api");
            return m;
        }
    }
}
