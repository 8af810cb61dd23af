package io.solvertune.service.db;

import io.quarkus.logging.LoggingFilter;
import java.util.List;
import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * Keeps a database outage to the one line {@link DatabaseOutage} writes. Drops the warnings that libraries repeat for
 * every broken or refused connection:
 * <ul>
 *   <li>any record at WARN or below whose exception says the database cannot be reached;</li>
 *   <li>the pool's warnings ({@code io.agroal.pool}, message only) with the PostgreSQL driver's texts for a lost or
 *       refused connection;</li>
 *   <li>the transaction manager's failed rollback on a lost connection ({@code XAER_RMERR}).</li>
 * </ul>
 * Errors pass, and so does everything else. Installed on the console with
 * {@code quarkus.log.console.filter=database-outage}.
 */
@LoggingFilter(name = OutageLogFilter.NAME)
public final class OutageLogFilter implements Filter {

    /** The filter's name in {@code quarkus.log.*.filter}. */
    public static final String NAME = "database-outage";

    /** pgjdbc's messages for a connection that is gone or cannot be made. */
    private static final List<String> CONNECTION_LOST = List.of("This connection has been closed",
            "An I/O error occurred while sending to the backend", "The connection attempt failed",
            "Check that the hostname and port are correct");

    @Override
    public boolean isLoggable(LogRecord r) {
        if (r.getLevel().intValue() > Level.WARNING.intValue()) {
            return true;
        }
        if (r.getThrown() != null && DatabaseOutage.isUnavailable(r.getThrown())) {
            return false;
        }
        String logger = r.getLoggerName() == null ? "" : r.getLoggerName();
        String message = message(r);
        if (logger.startsWith("io.agroal.pool")) {
            return CONNECTION_LOST.stream().noneMatch(message::contains);
        }
        if (logger.startsWith("com.arjuna")) {
            return !(message.contains("ARJUNA016045") && message.contains("XAER_RMERR"));
        }
        return true;
    }

    private static String message(LogRecord r) {
        if (r instanceof org.jboss.logmanager.ExtLogRecord e) {
            String m = e.getFormattedMessage();
            return m == null ? "" : m;
        }
        return r.getMessage() == null ? "" : r.getMessage();
    }
}
