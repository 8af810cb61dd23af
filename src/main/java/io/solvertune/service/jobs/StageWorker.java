package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * One worker: a loop that reclaims expired leases, finishes completed jobs, claims a READY stage and runs it with its
 * {@link StageExecutor} while a heartbeat renews the lease every lease/3. Framework-free: the service runs
 * {@code solvertune.workers.count} of them in-process ({@link WorkerPool}); other processes may run more against the
 * same database.
 *
 * <p>Database errors never lose work: the loop backs off and tries again, a completion that could not be written is
 * retried, and a stage whose worker vanished is reclaimed by another one when its lease expires.
 */
public final class StageWorker implements Runnable {

    private static final Logger LOG = Logger.getLogger(StageWorker.class);
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final long PROGRESS_WRITE_INTERVAL_MS = 250;

    private final JobStore store;
    private final Function<String, Optional<StageExecutor>> executors;
    private final JobFinisher finisher;
    private final Path workRoot;
    private final Duration poll;
    private final ScheduledExecutorService heartbeats;
    private final String owner;
    private volatile boolean stopping;

    /**
     * @param executors  the executor of a stage kind
     * @param workRoot   jobs' working directories are {@code <workRoot>/job-<id>}
     * @param poll       pause between claims when there is nothing to do
     * @param heartbeats runs the heartbeats (shared by workers)
     */
    public StageWorker(JobStore store, Function<String, Optional<StageExecutor>> executors, JobFinisher finisher,
                       Path workRoot, Duration poll, ScheduledExecutorService heartbeats) {
        this.store = store;
        this.executors = executors;
        this.finisher = finisher;
        this.workRoot = workRoot;
        this.poll = poll;
        this.heartbeats = heartbeats;
        this.owner = ownerId();
    }

    /** host:pid:random, unique per worker: the lease owner. */
    public static String ownerId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown-host";
        }
        return host + ":" + ProcessHandle.current().pid() + ":" + UUID.randomUUID().toString().substring(0, 8);
    }

    public String owner() {
        return owner;
    }

    /** Asks the loop to end after the stage in flight (whose lease then expires or completes). */
    public void stop() {
        stopping = true;
    }

    @Override
    public void run() {
        long backoff = poll.toMillis();
        while (!stopping && !Thread.currentThread().isInterrupted()) {
            try {
                boolean worked = step();
                backoff = poll.toMillis();
                if (!worked) {
                    sleep(poll.toMillis());
                }
            } catch (JobStoreException e) {
                LOG.warnf("worker %s: %s; retrying in %d ms", owner, e.getMessage(), backoff);
                sleep(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            } catch (RuntimeException e) {
                LOG.errorf(e, "worker %s: unexpected error; retrying in %d ms", owner, backoff);
                sleep(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    /** One round: reclaim, finish, claim and run one stage. Whether a stage ran. */
    public boolean step() {
        int reclaimed = store.reclaimExpired();
        if (reclaimed > 0) {
            LOG.infof("worker %s reclaimed %d stage(s) with expired leases", owner, reclaimed);
        }
        finishJobs();
        Optional<ClaimedStage> claimed = store.claim(owner);
        if (claimed.isEmpty()) {
            return false;
        }
        run(claimed.get());
        finishJobs();
        return true;
    }

    private void finishJobs() {
        while (store.finishOne(finisher)) {
            // one job per transaction
        }
    }

    private void run(ClaimedStage claimed) {
        PlannedStage stage = claimed.stage();
        long jobId = claimed.jobId();
        LOG.infof("worker %s runs job %d stage %s (%s), attempt %d/%d", owner, jobId, stage.name(), stage.kind(),
                claimed.attempt(), claimed.maxAttempts());
        Optional<StageExecutor> executor = executors.apply(stage.kind());
        if (executor.isEmpty()) {
            retrying("fail", () -> store.fail(owner, jobId, stage.name(),
                    "no executor installed for stage kind '" + stage.kind() + "'", false));
            return;
        }
        Context ctx = new Context(claimed);
        ScheduledFuture<?> beat = heartbeats.scheduleAtFixedRate(ctx::beat, store.lease().toMillis() / 3,
                store.lease().toMillis() / 3, TimeUnit.MILLISECONDS);
        JsonNode output;
        try {
            Files.createDirectories(ctx.workDir());
            output = executor.get().execute(ctx);
        } catch (CancellationException e) {
            beat.cancel(false);
            if (ctx.lost) {
                LOG.infof("job %d stage %s: stopped, lease lost or job cancelled", jobId, stage.name());
            } else if (stopping) {
                retrying("release", () -> store.release(owner, jobId, stage.name()));
            } else {
                retrying("fail", () -> store.fail(owner, jobId, stage.name(), "cancelled by the stage itself", false));
            }
            return;
        } catch (Exception | LinkageError | OutOfMemoryError | AssertionError e) {
            beat.cancel(false);
            if (ctx.lost) {
                LOG.infof("job %d stage %s failed after its lease was lost: %s", jobId, stage.name(), e);
            } else if (stopping && (e instanceof InterruptedException || Thread.currentThread().isInterrupted())) {
                retrying("release", () -> store.release(owner, jobId, stage.name()));
            } else {
                LOG.warnf(e, "job %d stage %s failed", jobId, stage.name());
                String msg = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
                retrying("fail", () -> store.fail(owner, jobId, stage.name(), msg, true));
            }
            return;
        } finally {
            beat.cancel(false);
        }
        if (ctx.lost) {
            LOG.infof("job %d stage %s finished after its lease was lost; output dropped", jobId, stage.name());
            return;
        }
        boolean stored = retrying("complete", () -> store.complete(owner, jobId, stage.name(), output));
        if (!stored) {
            LOG.infof("job %d stage %s: lease lost before completion; output dropped", jobId, stage.name());
        }
    }

    /** Retries a write until the database takes it (or the worker is stopping). */
    private boolean retrying(String what, java.util.function.BooleanSupplier write) {
        long backoff = Math.max(50, poll.toMillis());
        while (true) {
            try {
                return write.getAsBoolean();
            } catch (JobStoreException e) {
                if (stopping && Thread.currentThread().isInterrupted()) {
                    LOG.warnf("worker %s stopping; could not %s: %s", owner, what, e.getMessage());
                    return false;
                }
                LOG.warnf("worker %s could not %s (%s); retrying in %d ms", owner, what, e.getMessage(), backoff);
                sleep(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the executor sees; progress and heartbeats go through it. */
    private final class Context implements StageContext {

        private final ClaimedStage claimed;
        private final Path workDir;
        private volatile boolean lost;
        private volatile long done;
        private volatile long total;
        private volatile String message;
        private volatile long lastWrite;
        private ResolvedModel model;

        Context(ClaimedStage claimed) {
            this.claimed = claimed;
            this.workDir = workRoot.resolve("job-" + claimed.jobId());
        }

        synchronized void beat() {
            if (lost) {
                return;
            }
            try {
                if (store.heartbeat(owner, claimed.jobId(), claimed.stage().name(), done, total, message)
                        == JobStore.Lease.LOST) {
                    lost = true;
                    LOG.infof("job %d stage %s: lease lost (cancelled or reclaimed)", claimed.jobId(),
                            claimed.stage().name());
                }
            } catch (JobStoreException e) {
                // the database is away: keep running; the lease may expire meanwhile, then completion is refused
                LOG.warnf("heartbeat of job %d stage %s failed: %s", claimed.jobId(), claimed.stage().name(),
                        e.getMessage());
            } finally {
                lastWrite = System.currentTimeMillis();
            }
        }

        @Override
        public long jobId() {
            return claimed.jobId();
        }

        @Override
        public JsonNode jobSpec() {
            return claimed.jobSpec();
        }

        @Override
        public PlannedStage stage() {
            return claimed.stage();
        }

        @Override
        public synchronized ResolvedModel model() {
            if (model == null) {
                if (claimed.modelId() == null) {
                    throw new IllegalStateException("model: the job's model was deleted");
                }
                model = store.model(claimed.modelId())
                        .orElseThrow(() -> new IllegalStateException("model: the job's model was deleted"));
            }
            return model;
        }

        @Override
        public Path workDir() {
            return workDir;
        }

        @Override
        public Map<String, JsonNode> dependencyOutputs() {
            return claimed.dependencyOutputs();
        }

        @Override
        public void progress(long done, long total, String message) {
            this.done = done;
            this.total = total;
            this.message = message;
            if (System.currentTimeMillis() - lastWrite >= PROGRESS_WRITE_INTERVAL_MS || done >= total) {
                beat();
            }
        }

        /** The job was cancelled, the lease lost, or the worker is shutting down (the stage is then handed back). */
        @Override
        public boolean cancelled() {
            return lost || stopping;
        }

        @Override
        public void log(String level, String message) {
            try {
                store.log(claimed.jobId(), claimed.stage().name(), level, message);
            } catch (JobStoreException e) {
                LOG.warnf("job %d stage %s could not log '%s': %s", claimed.jobId(), claimed.stage().name(), message,
                        e.getMessage());
            }
        }
    }
}
