package io.solvertune.service.jobs;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.time.Duration;
import io.solvertune.tuning.job.StageExecutor;
import jakarta.enterprise.inject.Instance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
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
    private final Duration grace;
    private final Instance<StageExecutorDecorator> decorators;
    private final List<StageWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private ScheduledExecutorService heartbeats;

    public WorkerPool(JobEngine engine, WorkersConfig config, Instance<StageExecutorDecorator> decorators) {
        this.engine = engine;
        this.enabled = config.enabled();
        this.count = config.count();
        this.poll = config.pollInterval();
        this.grace = config.shutdownGrace();
        this.decorators = decorators;
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
        List<StageExecutorDecorator> wrappers = decorators.stream()
                .sorted(Comparator.comparingInt(StageExecutorDecorator::order)).toList();
        for (int i = 0; i < count; i++) {
            int worker = i;
            java.util.function.Function<String, Optional<StageExecutor>> lookup = kind -> engine.executors()
                    .forKind(kind).map(e -> {
                        StageExecutor x = e;
                        for (StageExecutorDecorator d : wrappers) {
                            x = d.decorate(worker, kind, x);
                        }
                        return x;
                    });
            JobFinisher finisher = engine.finisher();
            for (StageExecutorDecorator d : wrappers) {
                finisher = d.decorateFinisher(finisher);
            }
            StageWorker w = new StageWorker(engine.store(), lookup, finisher,
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
     * Stops the workers: each stops claiming, and its stage in flight sees {@code cancelled()} and is handed back
     * (READY for another worker) or finishes; after {@code solvertune.workers.shutdown-grace} a worker still running
     * is interrupted (its stage's lease then expires and another worker reclaims it).
     */
    public synchronized void stop() {
        if (!threads.isEmpty()) {
            LOG.infof("stopping %d job worker(s), grace %s", threads.size(), grace);
        }
        workers.forEach(StageWorker::stop);
        long deadline = System.currentTimeMillis() + grace.toMillis();
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

    /** Worker threads started and still alive (a worker that died of an Error is not). */
    public synchronized long alive() {
        return threads.stream().filter(Thread::isAlive).count();
    }

    /** Workers this pool starts when enabled. */
    public int configured() {
        return enabled ? count : 0;
    }

    /** The lease owner ids of the running workers. */
    public synchronized List<String> owners() {
        return workers.stream().map(StageWorker::owner).toList();
    }
}
