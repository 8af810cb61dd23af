package io.solvertune.service.jobs;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The in-process workers: {@code solvertune.workers.count} {@link StageWorker}s started with the application when
 * {@code solvertune.workers.enabled} (the default; the {@code token} command turns them off). More processes may run
 * workers against the same database; nothing but PostgreSQL coordinates them.
 */
@Singleton
public class WorkerPool {

    private static final Logger LOG = Logger.getLogger(WorkerPool.class);

    private final JobEngine engine;
    private final boolean enabled;
    private final int count;
    private final Duration poll;
    private final List<StageWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private ScheduledExecutorService heartbeats;

    public WorkerPool(JobEngine engine, WorkersConfig config) {
        this.engine = engine;
        this.enabled = config.enabled();
        this.count = config.count();
        this.poll = config.pollInterval();
    }

    void onStart(@Observes StartupEvent e) {
        if (enabled) {
            start();
        } else {
            LOG.info("in-process job workers disabled (solvertune.workers.enabled=false)");
        }
    }

    void onStop(@Observes ShutdownEvent e) {
        stop();
    }

    /** Starts the workers (no-op if running). */
    public synchronized void start() {
        if (!threads.isEmpty()) {
            return;
        }
        heartbeats = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "job-heartbeat");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < count; i++) {
            StageWorker w = new StageWorker(engine.store(), engine.executors()::forKind, engine.finisher(),
                    engine.workDir(), poll, heartbeats);
            Thread t = new Thread(w, "job-worker-" + i);
            t.setDaemon(true);
            workers.add(w);
            threads.add(t);
            t.start();
        }
        LOG.infof("%d job worker(s) started (lease %s, work dir %s, executors for %s)", count, engine.store().lease(),
                engine.workDir(), engine.executors().kinds());
    }

    /**
     * Stops the workers: each ends after its stage in flight, or is interrupted after a grace period (its stage's
     * lease then expires and another worker reclaims it).
     */
    public synchronized void stop() {
        workers.forEach(StageWorker::stop);
        long deadline = System.currentTimeMillis() + 10_000;
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                t.interrupt();
            }
        }
        workers.clear();
        threads.clear();
        if (heartbeats != null) {
            heartbeats.shutdownNow();
            try {
                heartbeats.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            heartbeats = null;
        }
    }

    /** The lease owner ids of the running workers. */
    public synchronized List<String> owners() {
        return workers.stream().map(StageWorker::owner).toList();
    }
}
