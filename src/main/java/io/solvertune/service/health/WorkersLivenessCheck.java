package io.solvertune.service.health;

import io.solvertune.service.jobs.WorkerPool;
import jakarta.enterprise.context.ApplicationScoped;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;

/**
 * Liveness: the process can still do its work, so a restart would not help. DOWN when threads are deadlocked (the JVM
 * says so: {@link ThreadMXBean#findDeadlockedThreads()}) or when a job worker thread the pool started has died (an
 * Error escaped its loop: the process would never claim work again). Not the database (an outage is answered by
 * readiness and retried by the workers; restarting would not bring it back) and not the length of a stage (a long
 * teacher shard is normal; its lease heartbeat is what tells the other hosts it is alive).
 */
@Liveness
@ApplicationScoped
public class WorkersLivenessCheck implements HealthCheck {

    private final WorkerPool pool;

    public WorkersLivenessCheck(WorkerPool pool) {
        this.pool = pool;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("job workers");
        long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
        int started = pool.owners().size();
        long alive = pool.alive();
        b.withData("configured", pool.configured()).withData("started", started).withData("alive", alive);
        if (deadlocked != null && deadlocked.length > 0) {
            return b.down().withData("deadlockedThreads", deadlocked.length).build();
        }
        if (alive < started) {
            return b.down().withData("error", (started - alive) + " worker thread(s) died").build();
        }
        return b.up().build();
    }
}
