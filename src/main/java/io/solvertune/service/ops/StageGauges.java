package io.solvertune.service.ops;

import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.solvertune.service.jobs.StageExecutors;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Gauges of the job queue read from PostgreSQL, the one place that knows it across hosts: READY ("queued") and RUNNING
 * stages per kind, RUNNING stages whose lease has expired but was not yet reclaimed, active jobs per state, and the
 * total of lease expiries (from the job logs, counted incrementally). One grouped query per
 * {@code solvertune.metrics.db-refresh} at most, however often Prometheus scrapes; the partial indexes on READY and
 * RUNNING stages keep it cheap.
 *
 * <p>Every process reports the same values: aggregate them with {@code max}, not {@code sum}. When the database
 * cannot be reached the gauges report NaN.
 */
@Singleton
public class StageGauges {

    private static final Logger LOG = Logger.getLogger(StageGauges.class);

    /** The text the job store logs when it reclaims a stage whose lease expired. */
    static final String EXPIRY_PATTERN = "lease of % expired during attempt %";

    private final AgroalDataSource ds;
    private final MeterRegistry registry;
    private final StageExecutors executors;
    private final long refreshNanos;
    private final Set<String> registeredKinds = ConcurrentHashMap.newKeySet();
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private volatile long takenAt;
    private volatile boolean taken;
    private long lastLogId;
    private double expiries;
    private boolean expiriesKnown;

    /** One reading of the tables. */
    record Snapshot(Map<String, long[]> byKind, long expiredLeases, long queuedJobs, long runningJobs, boolean ok) {
        static final Snapshot EMPTY = new Snapshot(Map.of(), 0, 0, 0, false);
    }

    public StageGauges(AgroalDataSource ds, MeterRegistry registry, StageExecutors executors,
                       @ConfigProperty(name = "solvertune.metrics.db-refresh", defaultValue = "5s") Duration refresh) {
        this.ds = ds;
        this.registry = registry;
        this.executors = executors;
        this.refreshNanos = refresh.toNanos();
    }

    void onStart(@Observes StartupEvent e) {
        executors.kinds().forEach(this::registerKind);
        Gauge.builder("solvertune.stages.lease.expired", this, g -> g.value(s -> s.expiredLeases()))
                .description("RUNNING stages whose lease has expired and that no worker has reclaimed yet")
                .register(registry);
        Gauge.builder("solvertune.jobs.active", this, g -> g.value(s -> s.queuedJobs())).tag("state", "queued")
                .description("Jobs waiting for their first stage to be claimed").register(registry);
        Gauge.builder("solvertune.jobs.active", this, g -> g.value(s -> s.runningJobs())).tag("state", "running")
                .description("Jobs with a stage claimed").register(registry);
        FunctionCounter.builder("solvertune.stage.lease.expiries", this, StageGauges::expiries)
                .description("Stages taken back from a worker whose lease expired (worker lost), all hosts")
                .register(registry);
    }

    private void registerKind(String kind) {
        if (!registeredKinds.add(kind)) {
            return;
        }
        Gauge.builder("solvertune.stages.queued", this, g -> g.kind(kind, 0)).tag("kind", kind)
                .description("READY stages waiting for a worker").register(registry);
        Gauge.builder("solvertune.stages.running", this, g -> g.kind(kind, 1)).tag("kind", kind)
                .description("RUNNING stages (leased by a worker)").register(registry);
    }

    private double kind(String kind, int column) {
        Snapshot s = current();
        if (!s.ok()) {
            return Double.NaN;
        }
        long[] v = s.byKind().get(kind);
        return v == null ? 0 : v[column];
    }

    private double value(java.util.function.ToLongFunction<Snapshot> f) {
        Snapshot s = current();
        return s.ok() ? f.applyAsLong(s) : Double.NaN;
    }

    /** The latest snapshot, read again when older than the refresh interval. */
    Snapshot current() {
        if (taken && System.nanoTime() - takenAt < refreshNanos) {
            return snapshot;
        }
        synchronized (this) {
            if (taken && System.nanoTime() - takenAt < refreshNanos) {
                return snapshot;
            }
            Snapshot s;
            try (Connection c = ds.getConnection()) {
                s = read(c);
            } catch (SQLException e) {
                if (snapshot.ok() || !taken) {
                    LOG.warnf("queue gauges cannot read the database (NaN until it can): %s", e.getMessage());
                }
                s = Snapshot.EMPTY;
            }
            snapshot = s;
            takenAt = System.nanoTime();
            taken = true;
            s.byKind().keySet().forEach(this::registerKind);
            return s;
        }
    }

    private Snapshot read(Connection c) throws SQLException {
        Map<String, long[]> byKind = new java.util.TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT kind, count(*) FILTER (WHERE state = 'READY'), "
                + "count(*) FILTER (WHERE state = 'RUNNING') FROM job_stages WHERE state IN ('READY', 'RUNNING') "
                + "GROUP BY kind"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                byKind.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
            }
        }
        long expired;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job_stages WHERE state = 'RUNNING' "
                + "AND lease_expires_at < now()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            expired = rs.getLong(1);
        }
        long queued;
        long running;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE state = 'QUEUED'), "
                + "count(*) FILTER (WHERE state = 'RUNNING') FROM jobs WHERE state IN ('QUEUED', 'RUNNING')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            queued = rs.getLong(1);
            running = rs.getLong(2);
        }
        // lease expiries: the job store logs each reclaim; count the lines past the last one seen
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE message LIKE ?), "
                + "coalesce(max(id), ?) FROM job_logs WHERE id > ?")) {
            ps.setString(1, EXPIRY_PATTERN);
            ps.setLong(2, lastLogId);
            ps.setLong(3, lastLogId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                expiries += rs.getLong(1);
                lastLogId = rs.getLong(2);
                expiriesKnown = true;
            }
        }
        return new Snapshot(byKind, expired, queued, running, true);
    }

    private synchronized double expiries() {
        current();
        return expiriesKnown ? expiries : Double.NaN;
    }
}
