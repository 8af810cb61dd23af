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
 * The one repository that writes the job tables ({@code jobs}, {@code job_stages}, {@code job_logs}) over plain JDBC:
 * insert a planned job, cancel, retry (the API's side, {@link JobService} calls them), claim, heartbeat, complete,
 * fail, reclaim and finish (the workers' side). Plain JDBC because claims need {@code FOR UPDATE SKIP LOCKED} and
 * worker processes run without Quarkus; PostgreSQL is the only coordination point.
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
    public static final List<String> TERMINAL = JobState.TERMINAL.stream().map(JobState::name).toList();

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

    /** A planned job to store: who submitted it for which model, its spec and stages. */
    public record NewJob(String idempotencyKey, long createdBy, String createdByName, long modelId, String modelName,
                         JsonNode spec, List<io.solvertune.tuning.job.PlannedStage> plan, int maxAttempts) {
    }

    /**
     * Inserts a job and its stages (READY without dependencies, else PENDING) in one transaction.
     *
     * @param beforeStages runs with the new id before any stage exists (nothing can be claimed yet)
     * @return the job id, or null when a job with the same (creator, idempotency key) exists
     */
    public Long insert(NewJob job, java.util.function.LongConsumer beforeStages) {
        return tx("submit a job", c -> {
            long jobId;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jobs (idempotency_key, created_by, "
                    + "created_by_name, model_id, model_name, spec) VALUES (?, ?, ?, ?, ?, ?::jsonb) "
                    + "ON CONFLICT (created_by, idempotency_key) DO NOTHING RETURNING id")) {
                ps.setString(1, job.idempotencyKey());
                ps.setLong(2, job.createdBy());
                ps.setString(3, job.createdByName());
                ps.setLong(4, job.modelId());
                ps.setString(5, job.modelName());
                ps.setString(6, write(job.spec()));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null; // a concurrent request with the same key won
                    }
                    jobId = rs.getLong(1);
                }
            }
            beforeStages.accept(jobId);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_stages (job_id, name, seq, kind, "
                    + "depends_on, params, state, max_attempts) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?)")) {
                int seq = 0;
                for (io.solvertune.tuning.job.PlannedStage s : job.plan()) {
                    ps.setLong(1, jobId);
                    ps.setString(2, s.name());
                    ps.setInt(3, seq++);
                    ps.setString(4, s.kind());
                    ps.setArray(5, c.createArrayOf("text", s.dependsOn().toArray()));
                    ps.setString(6, s.params() == null ? "{}" : write(s.params()));
                    ps.setString(7, StageState.initial(!s.dependsOn().isEmpty()).name());
                    ps.setInt(8, job.maxAttempts());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            log(c, jobId, null, "INFO", "submitted by " + job.createdByName() + ": " + job.plan().size()
                    + " stages");
            return jobId;
        });
    }

    /**
     * Cancels a QUEUED or RUNNING job: its unfinished stages become CANCELLED (a running stage notices through its
     * heartbeat).
     *
     * @return false when the job had finished already
     */
    public boolean cancel(long jobId, String logLine) {
        return tx("cancel a job", c -> {
            lockJob(c, jobId);
            int changed = update(c, "UPDATE jobs SET state = ?, finished_at = now(), updated_at = now() "
                    + "WHERE id = ? AND state IN (?, ?)", JobState.CANCELLED.name(), jobId, JobState.QUEUED.name(),
                    JobState.RUNNING.name());
            if (changed == 1) {
                update(c, "UPDATE job_stages SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
                        + "finished_at = coalesce(finished_at, now()) WHERE job_id = ? AND state IN (?, ?, ?)",
                        StageState.CANCELLED.name(), jobId, StageState.PENDING.name(), StageState.READY.name(),
                        StageState.RUNNING.name());
                log(c, jobId, null, "INFO", logLine);
            }
            return changed == 1;
        });
    }

    /**
     * Queues a FAILED or CANCELLED job again: its failed and cancelled stages start over (attempts reset), the
     * SUCCEEDED ones are kept.
     *
     * @return false when the job was neither FAILED nor CANCELLED
     */
    public boolean retry(long jobId, String logLine) {
        return tx("retry a job", c -> {
            lockJob(c, jobId);
            int changed = update(c, "UPDATE jobs SET state = ?, error = NULL, result = NULL, finished_at = NULL, "
                    + "updated_at = now() WHERE id = ? AND state IN (?, ?)", JobState.QUEUED.name(), jobId,
                    JobState.FAILED.name(), JobState.CANCELLED.name());
            if (changed == 1) {
                update(c, "UPDATE job_stages SET state = ?, attempts = 0, lease_owner = NULL, "
                        + "lease_expires_at = NULL, error = NULL, started_at = NULL, finished_at = NULL, "
                        + "progress_done = 0, progress_total = 0, progress_message = NULL, output = NULL "
                        + "WHERE job_id = ? AND state <> ?", StageState.PENDING.name(), jobId,
                        StageState.SUCCEEDED.name());
                promoteReady(c, jobId);
                log(c, jobId, null, "INFO", logLine);
            }
            return changed == 1;
        });
    }

    /** Claims the first READY stage of an active job (job id, then plan order), or returns empty. */
    public Optional<ClaimedStage> claim(String owner) {
        return tx("claim a stage", c -> {
            long jobId;
            String name;
            try (PreparedStatement ps = c.prepareStatement("SELECT s.job_id, s.name FROM job_stages s "
                    + "WHERE s.state = " + q(StageState.READY) + " AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = s.job_id "
                    + "AND j.state IN (" + q(JobState.QUEUED) + ", " + q(JobState.RUNNING) + ")) ORDER BY s.job_id, s.seq LIMIT 1 "
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
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET state = " + q(StageState.RUNNING) + ", "
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
            update(c, "UPDATE jobs SET state = " + q(JobState.RUNNING) + ", started_at = coalesce(started_at, now()), updated_at = now() "
                    + "WHERE id = ? AND state = " + q(JobState.QUEUED), jobId);
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
                    + "progress_message = ? WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = " + q(StageState.RUNNING))) {
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
            try (PreparedStatement ps = c.prepareStatement("UPDATE job_stages SET state = " + q(StageState.SUCCEEDED) + ", "
                    + "output = ?::jsonb, finished_at = now(), lease_expires_at = NULL, error = NULL, "
                    + "progress_done = CASE WHEN progress_total > 0 THEN progress_total ELSE progress_done END "
                    + "WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = " + q(StageState.RUNNING))) {
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
                    + "attempts < max_attempts THEN " + q(StageState.READY) + " ELSE " + q(StageState.FAILED) + " END, error = ?, lease_owner = NULL, "
                    + "lease_expires_at = NULL, finished_at = now() "
                    + "WHERE job_id = ? AND name = ? AND lease_owner = ? AND state = " + q(StageState.RUNNING) + " RETURNING state")) {
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
            if (StageState.FAILED.name().equals(state)) {
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
            int n = update(c, "UPDATE job_stages SET state = " + q(StageState.READY) + ", attempts = greatest(attempts - 1, 0), "
                    + "lease_owner = NULL, lease_expires_at = NULL WHERE job_id = ? AND name = ? AND lease_owner = ? "
                    + "AND state = " + q(StageState.RUNNING), jobId, stage, owner);
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
                    + "WHERE state = " + q(StageState.RUNNING) + " AND lease_expires_at < now() FOR UPDATE SKIP LOCKED) "
                    + "UPDATE job_stages s SET state = CASE WHEN s.attempts >= s.max_attempts THEN " + q(StageState.FAILED) + " "
                    + "ELSE " + q(StageState.READY) + " END, error = 'lease of ' || coalesce(s.lease_owner, '?') || ' expired during "
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
                if (StageState.FAILED.name().equals(r[2])) {
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
                    + "j.state = " + q(JobState.RUNNING) + " AND NOT EXISTS (SELECT 1 FROM job_stages s WHERE s.job_id = j.id AND "
                    + "s.state <> " + q(StageState.SUCCEEDED) + ") ORDER BY j.id LIMIT 1 FOR UPDATE SKIP LOCKED");
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
                update(c, "UPDATE job_stages SET state = " + q(StageState.FAILED) + ", error = ? WHERE job_id = ? AND name = ?",
                        e.getMessage(), jobId, lastName);
                log(c, jobId, lastName, "ERROR", "could not finish the job: " + e.getMessage());
                failJob(c, jobId, "stage " + lastName + ": " + e.getMessage());
                return true;
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE jobs SET state = " + q(JobState.SUCCEEDED) + ", result = ?::jsonb, "
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
        update(c, "UPDATE job_stages s SET state = " + q(StageState.READY) + " WHERE s.job_id = ? AND s.state = " + q(StageState.PENDING) + " AND NOT EXISTS "
                + "(SELECT 1 FROM job_stages d WHERE d.job_id = s.job_id AND d.name = ANY (s.depends_on) "
                + "AND d.state <> " + q(StageState.SUCCEEDED) + ")", jobId);
    }

    /** The job FAILS; its stages that have not finished are CANCELLED (a retry runs them again). */
    static void failJob(Connection c, long jobId, String error) throws SQLException {
        update(c, "UPDATE jobs SET state = " + q(JobState.FAILED) + ", error = ?, finished_at = now(), updated_at = now() "
                + "WHERE id = ? AND state IN (" + q(JobState.QUEUED) + ", " + q(JobState.RUNNING) + ")", error, jobId);
        update(c, "UPDATE job_stages SET state = " + q(StageState.CANCELLED) + ", lease_owner = NULL, lease_expires_at = NULL, "
                + "finished_at = coalesce(finished_at, now()) WHERE job_id = ? AND state IN (" + q(StageState.PENDING) + ", " + q(StageState.READY) + ", "
                + q(StageState.RUNNING) + ")", jobId);
    }

    static void log(Connection c, long jobId, String stage, String level, String message) throws SQLException {
        update(c, "INSERT INTO job_logs (job_id, stage, level, message) VALUES (?, ?, ?, ?)", jobId, stage, level,
                message);
    }

    /** A state as an SQL literal ({@code 'RUNNING'}): the enum's name, so a misspelt state does not compile. */
    static String q(Enum<?> state) {
        return "'" + state.name() + "'";
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
