package io.solvertune.service.db;

import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.net.ConnectException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Database outages as the API sees them. A request that fails because PostgreSQL cannot be reached (connection
 * refused or lost, SQLState class 08, the server shutting down or starting, no pooled connection within the
 * acquisition timeout) is answered 503 with {@code Retry-After} instead of a 500 with a stack trace. The outage is
 * logged once: one WARN when the first request fails, one INFO when a probe (every
 * {@code solvertune.db.outage-probe-interval}, only while the outage lasts) reaches the database again.
 */
@Singleton
public class DatabaseOutage {

    private static final Logger LOG = Logger.getLogger(DatabaseOutage.class);

    private record Outage(long startNanos, String cause, AtomicLong refused) {
    }

    private final AgroalDataSource ds;
    private final Duration retryAfter;
    private final Duration probeInterval;
    private final AtomicReference<Outage> current = new AtomicReference<>();
    private final ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "database-outage-probe");
        t.setDaemon(true);
        return t;
    });

    public DatabaseOutage(AgroalDataSource ds, DbConfig config) {
        this.ds = ds;
        this.retryAfter = config.retryAfter();
        this.probeInterval = config.outageProbeInterval();
    }

    void onStop(@Observes ShutdownEvent e) {
        prober.shutdownNow();
    }

    /** Whether {@code e} (or a cause) says that the database cannot be reached, as opposed to a failing statement. */
    public static boolean isUnavailable(Throwable e) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable t = e; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return true;
            }
            if (t instanceof SQLException s) {
                Map<SQLException, Boolean> chain = new IdentityHashMap<>();
                for (SQLException x = s; x != null && chain.put(x, Boolean.TRUE) == null; x = x.getNextException()) {
                    String state = x.getSQLState();
                    if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                            || state.equals("57P03"))) {
                        return true; // connection exception; admin/crash shutdown; cannot connect now
                    }
                    String m = x.getMessage() == null ? "" : x.getMessage().toLowerCase(Locale.ROOT);
                    if (m.contains("acquisition timeout")) {
                        return true; // Agroal: no connection could be had within the acquisition timeout
                    }
                }
            }
        }
        return false;
    }

    /** Seconds a client should wait before retrying. */
    public long retryAfterSeconds() {
        return Math.max(1, retryAfter.toSeconds());
    }

    /** Whether an outage is going on (a request failed and no probe has reached the database since). */
    public boolean inOutage() {
        return current.get() != null;
    }

    /** Records a request refused because of {@code e}; the first one of an outage logs it and starts probing. */
    public void refused(Throwable e) {
        Outage fresh = new Outage(System.nanoTime(), summary(e), new AtomicLong());
        if (current.compareAndSet(null, fresh)) {
            LOG.warnf("database unavailable (%s): answering 503 with Retry-After %d s until it is back",
                    fresh.cause(), retryAfterSeconds());
            scheduleProbe();
        }
        Outage o = current.get();
        if (o != null) {
            o.refused().incrementAndGet();
        }
    }

    private void scheduleProbe() {
        try {
            prober.schedule(this::probe, probeInterval.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException ignored) {
            // shutting down
        }
    }

    private void probe() {
        Outage o = current.get();
        if (o == null) {
            return;
        }
        boolean up;
        try (Connection c = ds.getConnection()) {
            up = c.isValid(2);
        } catch (SQLException | RuntimeException e) {
            up = false;
        }
        if (!up) {
            scheduleProbe();
            return;
        }
        if (current.compareAndSet(o, null)) {
            LOG.infof("database available again after %.1f s; %d request(s) were answered 503 meanwhile",
                    (System.nanoTime() - o.startNanos()) / 1e9, o.refused().get());
        }
    }

    /** The first SQL error of the chain with its SQLState (else the innermost message), on one line. */
    private static String summary(Throwable e) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        Throwable root = e;
        for (Throwable t = e; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getMessage() != null) {
                return firstLine(s.getMessage()) + (s.getSQLState() == null ? "" : " [SQLState " + s.getSQLState()
                        + "]");
            }
            root = t;
        }
        return firstLine(root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage());
    }

    private static String firstLine(String s) {
        return s.split("\n", 2)[0].strip();
    }
}
