package io.solvertune.service.ops;

import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.solvertune.service.artifacts.ArtifactBackend;
import io.solvertune.service.artifacts.BlobStore;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.jobs.StageState;
import io.solvertune.service.jobs.WorkersConfig;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * The periodic sweep of the shared artifact store's garbage (migration V10): chunks of uploads that never completed
 * and multipart uploads never completed nor aborted (writers that died), and blobs nothing refers to any more (trees
 * of deleted jobs, checkpoints replaced by newer ones or by the finished stage's directory). What is referred to: the
 * trees in {@code stage_artifacts} and {@code stage_checkpoints}, and every file they list. Nothing younger than
 * {@code min-age} is swept, and a blob being written is never touched (see {@link
 * io.solvertune.service.artifacts.PgBlobStore}). One worker process in the fleet sweeps per {@code interval}: it must
 * first move {@code blob_sweeps.next_at} forward in a conditional UPDATE; a sweeper that dies holds nothing. Runs in
 * processes with workers ({@code solvertune.workers.enabled}); checkpoint rows of succeeded stages are dropped first
 * (their directories are in {@code stage_artifacts}). Meters: {@code solvertune.artifacts.swept.bytes} and
 * {@code solvertune.artifacts.swept.blobs} by {@code what} ({@code incomplete}, {@code unreferenced}).
 */
@Singleton
public class BlobSweeper {

    private static final Logger LOG = Logger.getLogger(BlobSweeper.class);

    /** What one sweep did. */
    public record Result(int checkpointRowsDropped, int trees, int kept, BlobStore.Swept incomplete,
                         BlobStore.Swept unreferenced) {
        public long bytes() {
            return incomplete.bytes() + unreferenced.bytes();
        }
    }

    private final SharedArtifacts artifacts;
    private final DataSource ds;
    private final Duration interval;
    private final Duration minAge;
    private final boolean run;
    private final String owner;
    private final Counter incompleteBytes;
    private final Counter unreferencedBytes;
    private final Counter incompleteBlobs;
    private final Counter unreferencedBlobs;
    private ScheduledExecutorService timer;

    @Inject
    public BlobSweeper(SharedArtifacts artifacts, AgroalDataSource ds, ArtifactBackend.Config config,
                       WorkersConfig workers, MeterRegistry registry) {
        this(artifacts, ds, config.sweep().interval(), config.sweep().minAge(),
                config.sweep().enabled() && workers.enabled(), registry);
    }

    /** Framework-free use (tests): {@code run} only says whether {@link #start()} schedules anything. */
    public BlobSweeper(SharedArtifacts artifacts, DataSource ds, Duration interval, Duration minAge, boolean run,
                       MeterRegistry registry) {
        if (interval.toMillis() < 1000) {
            throw new IllegalArgumentException("solvertune.artifacts.sweep.interval: at least 1s, got " + interval);
        }
        if (minAge.isNegative()) {
            throw new IllegalArgumentException("solvertune.artifacts.sweep.min-age: must be >= 0, got " + minAge);
        }
        this.artifacts = artifacts;
        this.ds = ds;
        this.interval = interval;
        this.minAge = minAge;
        this.run = run;
        this.owner = io.solvertune.service.jobs.StageWorker.ownerId();
        incompleteBytes = counter(registry, "solvertune.artifacts.swept.bytes", "incomplete",
                "Bytes of abandoned uploads (chunks without a blob, multipart uploads) this process swept");
        unreferencedBytes = counter(registry, "solvertune.artifacts.swept.bytes", "unreferenced",
                "Bytes of blobs nothing referred to that this process swept");
        incompleteBlobs = counter(registry, "solvertune.artifacts.swept.blobs", "incomplete",
                "Abandoned uploads this process swept");
        unreferencedBlobs = counter(registry, "solvertune.artifacts.swept.blobs", "unreferenced",
                "Blobs nothing referred to that this process swept");
    }

    private static Counter counter(MeterRegistry r, String name, String what, String description) {
        return Counter.builder(name).tag("what", what).description(description).register(r);
    }

    void onStart(@Observes StartupEvent e) {
        start();
    }

    void onStop(@Observes ShutdownEvent e) {
        stop();
    }

    /** Looks every min(interval, 1 min) whether a sweep is due (in processes with workers). */
    public synchronized void start() {
        if (!run || timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blob-sweeper");
            t.setDaemon(true);
            return t;
        });
        long period = Math.min(interval.toMillis(), 60_000);
        timer.scheduleWithFixedDelay(() -> {
            try {
                sweepIfDue();
            } catch (RuntimeException ex) {
                LOG.warnf(ex, "artifact sweep failed");
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    /** Sweeps if no process of the fleet did within the interval (this one then owns the interval). */
    public Optional<Result> sweepIfDue() {
        try {
            if (!claim()) {
                return Optional.empty();
            }
            Result r = sweep();
            finish(r);
            return Optional.of(r);
        } catch (IOException | SQLException e) {
            LOG.warnf("artifact sweep: %s (next one in %s)", e.getMessage(), interval);
            return Optional.empty();
        }
    }

    /** Moves next_at forward if it is due; whether this process won the interval. */
    boolean claim() throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE blob_sweeps SET "
                + "next_at = now() + ? * interval '1 millisecond', last_started_at = now(), last_owner = ? "
                + "WHERE id = 1 AND next_at <= now()")) {
            ps.setLong(1, interval.toMillis());
            ps.setString(2, owner);
            return ps.executeUpdate() == 1;
        }
    }

    private void finish(Result r) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("UPDATE blob_sweeps SET "
                + "last_finished_at = now(), last_swept_bytes = ?, total_swept_bytes = total_swept_bytes + ? "
                + "WHERE id = 1")) {
            ps.setLong(1, r.bytes());
            ps.setLong(2, r.bytes());
            ps.executeUpdate();
        }
    }

    /** One sweep now, without claiming the interval (safe beside others: it never deletes what is in use). */
    public Result sweep() throws IOException, SQLException {
        long t0 = System.nanoTime();
        int dropped;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("DELETE FROM "
                + "stage_checkpoints c USING job_stages s WHERE s.job_id = c.job_id AND s.name = c.stage "
                + "AND s.state = ?")) {
            ps.setString(1, StageState.SUCCEEDED.name());
            dropped = ps.executeUpdate();
        }
        BlobStore store = artifacts.store();
        BlobStore.Swept incomplete = store.sweepIncomplete(minAge);
        int trees = 0;
        Set<String> keep = new HashSet<>();
        BlobStore.Swept unreferenced = BlobStore.Swept.NONE;
        if (store.sweepsUnreferenced()) {
            for (String tree : roots()) {
                trees++;
                keep.add(tree);
                try {
                    keep.addAll(artifacts.treeBlobs(tree));
                } catch (NoSuchFileException e) {
                    LOG.warnf("artifact sweep: tree %s is referred to but not stored", tree);
                }
            }
            unreferenced = store.sweepUnreferenced(keep, minAge);
        }
        Result r = new Result(dropped, trees, keep.size(), incomplete, unreferenced);
        incompleteBytes.increment(incomplete.bytes());
        incompleteBlobs.increment(incomplete.count());
        unreferencedBytes.increment(unreferenced.bytes());
        unreferencedBlobs.increment(unreferenced.count());
        LOG.infof("artifact sweep (%s): %d abandoned upload(s), %d bytes; %d unreferenced blob(s), %d bytes; %d tree(s), "
                        + "%d blob(s) kept; %d checkpoint row(s) of finished stages dropped; %d ms", store.name(),
                incomplete.count(), incomplete.bytes(), unreferenced.count(), unreferenced.bytes(), trees, keep.size(),
                dropped, (System.nanoTime() - t0) / 1_000_000);
        return r;
    }

    /** Every tree a row refers to. */
    private List<String> roots() throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT tree_sha256 FROM stage_artifacts UNION SELECT tree_sha256 FROM stage_checkpoints");
             ResultSet rs = ps.executeQuery()) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1).trim());
            }
            return out;
        }
    }
}
