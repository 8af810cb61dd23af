package io.solvertune.service.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The workers' side of the job tables over plain JDBC: claim, heartbeat, complete, fail, reclaim and finish. Shared by
 * the in-process workers and by worker processes without Quarkus; PostgreSQL is the only coordination point.
 *
 * <p>Every state change is one short transaction. Leases use the database clock. A worker changes a stage it runs
 * only while it still holds its lease ({@code WHERE lease_owner = me AND state = 'RUNNING'}): a stage that was
 * reclaimed, cancelled or retried meanwhile is left alone, and the worker drops its result.
 *
 * <p>Every method throws {@link JobStoreException} when the database fails; callers retry.
 */
public final class JobStore {

    /** What a heartbeat learned. */
    public enum Lease { HELD, LOST }

    /** Terminal job states. */
    public static final List<String> TERMINAL = List.of("SUCCEEDED", "FAILED", "CANCELLED");

    private final DataSource ds;
    private final ObjectMapper json;
    private final long leaseMillis;

    public JobStore(DataSource ds, ObjectMapper json, Duration lease) {
        this.ds = ds;
        this.json = json;
        this.leaseMillis = lease.toMillis();
    }

    public Duration lease() {
        return Duration.ofMillis(leaseMillis);
    }

    /** Claims the first READY stage of an active job (job id, then plan order), or returns empty. */
    public Optional<ClaimedStage> claim(String owner) {
        return tx("claim a stage", c -> {
            long jobId;
            String name;
            try (PreparedStatement ps = c.prepareStatement("SELECT s.job_id, s.name FROM job_stages s "
                    + "WHERE s.state = 'READY' AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = s.job_id "
                    + "AND j.state IN ('QUEUED', 'RUNNING')) ORDER BY s.job_id, s.seq LIMIT 1 "
                    + "FOR UPDATE OF s SKIP LOCKED"); ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                jobId = rs.getLong(1);
                name = rs.getString(2);
            }
            String kind;
            JsonNode params;
            List<String> deps;
            int attempt;
            int max;
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET state = 'RUNNING', "
                    + "attempts = attempts + 1, lease_owner = ?, lease_expires_at = now() + ? * interval '1 millisecond', "
                    + "heartbeat_at = now(), started_at = now(), finished_at = NULL, error = NULL, progress_done = 0, "
                    + "progress_total = 0, progress_message = NULL WHERE job_id = ? AND name = ? "
                    + "RETURNING kind, params::text, depends_on, attempts, max_attempts")) {
                ps.setString(1, owner);
                ps.setLong(2, leaseMillis);
                ps.setLong(3, jobId);
                ps.setString(4, name);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    kind = rs.getString(1);
                    params = parse(rs.getString(2));
                    deps = strings(rs.getArray(3));
                    attempt = rs.getInt(4);
                    max = rs.getInt(5);
                }
            }
            update(c, "UPDATE jobs SET state = 'RUNNING', started_at = coalesce(started_at, now()), updated_at = now() "
                    + "WHERE id = ? AND state = 'QUEUED'", jobId);
            JsonNode spec;
            Long modelId;
            try (PreparedStatement ps = c.prepareStatement("SELECT spec::text, model_id FROM jobs WHERE id = ?")) {
                ps.setLong(1, jobId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    spec = parse(rs.getString(1));
                    long m = rs.getLong(2);
                    modelId = rs.wasNull() ? null : m;
                }
            }
            Map<String, JsonNode> outputs = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT name, output::text FROM job_stages "
                    + "WHERE job_id = ? AND name = ANY (?) ORDER BY seq")) {
                ps.setLong(1, jobId);
                ps.setArray(2, c.createArrayOf("text", deps.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        outputs.put(rs.getString(1), parse(rs.getString(2)));
                    }
                }
            }
            log(c, jobId, name, "INFO", "claimed by " + owner + " (attempt " + attempt + " of " + max + ")");
            return Optional.of(new ClaimedStage(jobId, new PlannedStage(name, kind, deps, params), spec, modelId,
                    attempt, max, outputs));
        });
    }

    /** Renews the lease and stores the stage's progress; {@link Lease#LOST} once it was reclaimed or cancelled. */
    public Lease heartbeat(String owner, long jobId, String stage, long done, long total, String message) {
        return tx("heartbeat", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET lease_expires_at = now() + "
                    + "? * interval '1 millisecond', heartbeat_at = now(), progress_done = ?, progress_total = ?, "
                    + "progress_message = ? WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = 'RUNNING'")) {
                ps.setLong(1, leaseMillis);
                ps.setLong(2, done);
                ps.setLong(3, total);
                ps.setString(4, message);
                ps.setLong(5, jobId);
                ps.setString(6, stage);
                ps.setString(7, owner);
                return ps.executeUpdate() == 1 ? Lease.HELD : Lease.LOST;
            }
        });
    }

    /**
     * Stores a stage's output and marks it SUCCEEDED, then makes the stages whose dependencies all succeeded READY.
     *
     * @return false if this worker no longer held the lease (nothing changed)
     */
    public boolean complete(String owner, long jobId, String stage, JsonNode output) {
        return tx("complete a stage", c -> {
            lockJob(c, jobId);
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET state = 'SUCCEEDED', "
                    + "output = ?::jsonb, finished_at = now(), lease_expires_at = NULL, error = NULL, "
                    + "progress_done = CASE WHEN progress_total > 0 THEN progress_total ELSE progress_done END "
                    + "WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = 'RUNNING'")) {
                ps.setString(1, write(output));
                ps.setLong(2, jobId);
                ps.setString(3, stage);
                ps.setString(4, owner);
                if (ps.executeUpdate() != 1) {
                    return false;
                }
            }
            promoteReady(c, jobId);
            update(c, "UPDATE jobs SET updated_at = now() WHERE id = ?", jobId);
            log(c, jobId, stage, "INFO", "succeeded");
            return true;
        });
    }

    /**
     * Records a failed run of a stage this worker holds. Another attempt follows (READY) while attempts remain and
     * {@code retryable}; otherwise the stage and its job FAIL.
     *
     * @return false if this worker no longer held the lease (nothing changed)
     */
    public boolean fail(String owner, long jobId, String stage, String error, boolean retryable) {
        return tx("fail a stage", c -> {
            lockJob(c, jobId);
            String state;
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET state = CASE WHEN ? AND "
                    + "attempts < max_attempts THEN 'READY' ELSE 'FAILED' END, error = ?, lease_owner = NULL, "
                    + "lease_expires_at = NULL, finished_at = now() "
                    + "WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = 'RUNNING' RETURNING state")) {
                ps.setBoolean(1, retryable);
                ps.setString(2, error);
                ps.setLong(3, jobId);
                ps.setString(4, stage);
                ps.setString(5, owner);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    state = rs.getString(1);
                }
            }
            if ("FAILED".equals(state)) {
                log(c, jobId, stage, "ERROR", "failed: " + error);
                failJob(c, jobId, "stage " + stage + ": " + error);
            } else {
                log(c, jobId, stage, "WARN", "failed, will run again: " + error);
            }
            return true;
        });
    }

    /**
     * Hands a stage back because this worker is shutting down: READY again at once (no waiting for the lease to
     * expire), and the interrupted run does not use up an attempt.
     *
     * @return false if this worker no longer held the lease (nothing changed)
     */
    public boolean release(String owner, long jobId, String stage) {
        return tx("release a stage", c -> {
            lockJob(c, jobId);
            int n = update(c, "UPDATE job_stages SET state = 'READY', attempts = greatest(attempts - 1, 0), "
                    + "lease_owner = NULL, lease_expires_at = NULL WHERE job_id = ? AND name = ? AND lease_owner = ? "
                    + "AND state = 'RUNNING'", jobId, stage, owner);
            if (n == 1) {
                log(c, jobId, stage, "INFO", "handed back by " + owner + " (worker shutting down)");
            }
            return n == 1;
        });
    }

    /**
     * Takes back the stages whose lease expired (their worker died or lost the database): READY again for the next
     * claim, or FAILED with their job once {@code max_attempts} claims were used.
     *
     * @return the number of stages taken back
     */
    public int reclaimExpired() {
        return tx("reclaim expired leases", c -> {
            List<Object[]> changed = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("WITH expired AS (SELECT job_id, name FROM job_stages "
                    + "WHERE state = 'RUNNING' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED) "
                    + "UPDATE job_stages s SET state = CASE WHEN s.attempts >= s.max_attempts THEN 'FAILED' "
                    + "ELSE 'READY' END, error = 'lease of ' || coalesce(s.lease_owner, '?') || ' expired during "
                    + "attempt ' || s.attempts || ' (worker lost)', lease_owner = NULL, lease_expires_at = NULL, "
                    + "finished_at = CASE WHEN s.attempts >= s.max_attempts THEN now() END "
                    + "FROM expired e WHERE s.job_id = e.job_id AND s.name = e.name "
                    + "RETURNING s.job_id, s.name, s.state, s.error"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    changed.add(new Object[] {rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                }
            }
            for (Object[] r : changed) {
                long jobId = (Long) r[0];
                String stage = (String) r[1];
                String error = (String) r[3];
                if ("FAILED".equals(r[2])) {
                    log(c, jobId, stage, "ERROR", error + "; no attempts left");
                    failJob(c, jobId, "stage " + stage + ": " + error + "; no attempts left");
                } else {
                    log(c, jobId, stage, "WARN", error + "; stage reclaimed");
                }
            }
            return changed.size();
        });
    }

    /**
     * Finishes one RUNNING job whose stages all succeeded: computes its result with {@code finisher} (publishing)
     * while holding the job row, then marks it SUCCEEDED. A job whose finisher refuses the output fails.
     *
     * @return whether a job was finished (call again until false)
     */
    public boolean finishOne(JobFinisher finisher) {
        return tx("finish a job", c -> {
            long jobId;
            Long modelId;
            try (PreparedStatement ps = c.prepareStatement("SELECT j.id, j.model_id FROM jobs j WHERE "
                    + "j.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND "
                    + "s.state <> 'SUCCEEDED') ORDER BY j.id LIMIT 1 FOR UPDATE SKIP LOCKED");
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                jobId = rs.getLong(1);
                long m = rs.getLong(2);
                modelId = rs.wasNull() ? null : m;
            }
            String lastName;
            String lastKind;
            JsonNode lastOutput;
            try (PreparedStatement ps = c.prepareStatement("SELECT name, kind, output::text FROM job_stages "
                    + "WHERE job_id = ? ORDER BY seq DESC LIMIT 1")) {
                ps.setLong(1, jobId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    lastName = rs.getString(1);
                    lastKind = rs.getString(2);
                    lastOutput = parse(rs.getString(3));
                }
            }
            JsonNode result;
            try {
                result = finisher.finish(jobId, modelId, lastKind, lastOutput);
            } catch (IllegalArgumentException e) {
                update(c, "UPDATE job_stages SET state = 'FAILED', error = ? WHERE job_id = ? AND name = ?",
                        e.getMessage(), jobId, lastName);
                log(c, jobId, lastName, "ERROR", "could not finish the job: " + e.getMessage());
                failJob(c, jobId, "stage " + lastName + ": " + e.getMessage());
                return true;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET state = 'SUCCEEDED', result = ?::jsonb, "
                    + "error = NULL, finished_at = now(), updated_at = now() WHERE id = ?")) {
                ps.setString(1, write(result));
                ps.setLong(2, jobId);
                ps.executeUpdate();
            }
            log(c, jobId, null, "INFO", "job succeeded");
            return true;
        });
    }

    /** The registered model a job tunes, as the numerics see it; empty if it no longer exists. */
    public Optional<ResolvedModel> model(long modelId) {
        return tx("load a model", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, name, content_hash, spec::text FROM models WHERE id = ?")) {
                ps.setLong(1, modelId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new ResolvedModel(rs.getLong(1), rs.getString(2), rs.getString(3),
                            ResolvedModel.specOf(parse(rs.getString(4)))));
                }
            }
        });
    }

    /** Appends a line to a job's log. */
    public void log(long jobId, String stage, String level, String message) {
        tx("write a log line", c -> {
            log(c, jobId, stage, level, message);
            return null;
        });
    }

    // ---- shared SQL (also used by the service within its own transactions) -----------------------------------------

    /**
     * Locks the job row: state changes of one job's stages that look at each other (completion and promotion of the
     * dependants, failure, cancel, retry) are serialised, else two stages finishing at once could each miss the
     * other's success and leave their dependant PENDING forever.
     */
    static void lockJob(Connection c, long jobId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
            ps.setLong(1, jobId);
            ps.executeQuery().close();
        }
    }

    /** PENDING stages of the job whose dependencies all SUCCEEDED become READY. */
    static void promoteReady(Connection c, long jobId) throws SQLException {
        update(c, "UPDATE job_stages s SET state = 'READY' WHERE s.job_id = ? AND s.state = 'PENDING' AND NOT EXISTS "
                + "(SELECT 1 FROM job_stages d WHERE d.job_id = s.job_id AND d.name = ANY (s.depends_on) "
                + "AND d.state <> 'SUCCEEDED')", jobId);
    }

    /** The job FAILS; its stages that have not finished are CANCELLED (a retry runs them again). */
    static void failJob(Connection c, long jobId, String error) throws SQLException {
        update(c, "UPDATE jobs SET state = 'FAILED', error = ?, finished_at = now(), updated_at = now() "
                + "WHERE id = ? AND state IN ('QUEUED', 'RUNNING')", error, jobId);
        update(c, "UPDATE job_stages SET state = 'CANCELLED', lease_owner = NULL, lease_expires_at = NULL, "
                + "finished_at = coalesce(finished_at, now()) WHERE job_id = ? AND state IN ('PENDING', 'READY', "
                + "'RUNNING')", jobId);
    }

    static void log(Connection c, long jobId, String stage, String level, String message) throws SQLException {
        update(c, "INSERT INTO job_logs (job_id, stage, level, message) VALUES (?, ?, ?, ?)", jobId, stage, level,
                message);
    }

    static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }

    static List<String> strings(Array a) throws SQLException {
        return a == null ? List.of() : Arrays.asList((String[]) a.getArray());
    }

    JsonNode parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("invalid JSON in the database: " + e.getMessage(), e);
        }
    }

    String write(JsonNode node) {
        try {
            return node == null ? null : json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Work inside one transaction. */
    @FunctionalInterface
    public interface TxWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs read-only {@code work} on a connection without transaction demarcation (also inside a caller's JTA
     * transaction, whose connection may not be committed here).
     */
    public <T> T read(String what, TxWork<T> work) {
        try (Connection c = ds.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new JobStoreException("database error while trying to " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code work} in one transaction (rolled back on any exception), again up to twice more after a deadlock
     * or serialization failure; database errors become {@link JobStoreException}.
     */
    public <T> T tx(String what, TxWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return once(work);
            } catch (SQLException e) {
                boolean retryable = "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
                if (!retryable || attempt >= 3) {
                    throw new JobStoreException("database error while trying to " + what + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private <T> T once(TxWork<T> work) throws SQLException {
        try (Connection c = ds.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T t = work.run(c);
                c.commit();
                return t;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is probably gone; the pool discards it
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(auto);
                } catch (SQLException ignored) {
                    // as above
                }
            }
        }
    }
}
