package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.limits.Limits;
import io.solvertune.tuning.job.InvalidSpecException;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.Role;
import io.solvertune.tuning.job.JobPlanner;
import io.solvertune.tuning.job.PlannedStage;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.ServiceUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import static io.solvertune.service.jobs.JobStore.q;

/**
 * Submission, status, cancel, retry and logs of tuning jobs (the API side of the job tables; workers use
 * {@link JobStore}).
 *
 * <p>Who sees which jobs: a job is visible to the token that submitted it and to admin tokens; to everybody else it
 * does not exist (404). Cancel and retry follow the same rule.
 */
@Singleton
public class JobService {

    /** Largest page of the job list. */
    public static final int MAX_PAGE = 200;

    private final JobEngine engine;
    private final JobStore store;
    private final Instance<JobPlanner> planners;
    private final Limits limits;

    public JobService(JobEngine engine, Instance<JobPlanner> planners, Limits limits) {
        this.engine = engine;
        this.store = engine.store();
        this.planners = planners;
        this.limits = limits;
    }

    /** The outcome of a submission: the job, and whether this request created it. */
    public record Submission(JobView job, boolean created) {
    }

    /**
     * Plans and stores a job in one transaction. The same idempotency key (per token) returns the job created first;
     * with a different spec it is refused with 422.
     */
    public Submission submit(Principal who, String idempotencyKey, JsonNode spec) {
        String key = idempotencyKey == null || idempotencyKey.isBlank() ? UUID.randomUUID().toString()
                : idempotencyKey.strip();
        if (key.length() > 200) {
            throw InvalidRequestException.field("Idempotency-Key", "at most 200 characters");
        }
        if (key.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw InvalidRequestException.field("Idempotency-Key", "must not contain control characters");
        }
        if (spec == null || !spec.isObject()) {
            throw InvalidRequestException.field("spec", "expected a JSON object (the job spec)");
        }
        Optional<Submission> existing = existing(who, key, spec);
        if (existing.isPresent()) {
            return existing.get();
        }
        if (!planners.isResolvable()) {
            throw new ServiceUnavailableException(planners.isUnsatisfied() ? "no job planner installed"
                    : "several job planners installed; the service needs exactly one");
        }
        JobPlanner.Model model = resolveModel(spec.get("model"));
        List<PlannedStage> plan;
        try {
            plan = planners.get().plan(spec, model);
        } catch (InvalidSpecException e) {
            throw new InvalidRequestException(e.getMessage(), e.errors().stream()
                    .map(f -> new Problem.FieldError(f.field(), f.message())).toList());
        }
        checkPlan(plan);
        Long id = store.insert(new JobStore.NewJob(key, who.tokenId(), who.name(), model.id(), model.name(), spec,
                plan, engine.maxAttempts()), this::clearStaleWorkDir);
        if (id == null) {
            return existing(who, key, spec).orElseThrow(() -> new IllegalStateException("lost idempotent job"));
        }
        return new Submission(find(id, who).orElseThrow(), true);
    }

    /**
     * A new job's directory cannot hold anything of its own yet: whatever is there belongs to an earlier database's
     * job with the same id (e.g. after the database was reset) and would be taken for checkpoints. Best effort:
     * workers that do not share this file system never see it anyway.
     */
    private void clearStaleWorkDir(long jobId) {
        java.nio.file.Path dir = engine.workDir().resolve("job-" + jobId);
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(dir)) {
            for (java.nio.file.Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(f);
            }
        } catch (java.io.IOException e) {
            org.jboss.logging.Logger.getLogger(JobService.class).warnf("could not clear the stale work directory %s: %s",
                    dir, e.getMessage());
        }
    }

    private Optional<Submission> existing(Principal who, String key, JsonNode spec) {
        Object[] row = store.tx("look up an idempotency key", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, spec = ?::jsonb FROM jobs "
                    + "WHERE created_by = ? AND idempotency_key = ?")) {
                ps.setString(1, store.write(spec));
                ps.setLong(2, who.tokenId());
                ps.setString(3, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new Object[] {rs.getLong(1), rs.getBoolean(2)} : null;
                }
            }
        });
        if (row == null) {
            return Optional.empty();
        }
        if (!(Boolean) row[1]) {
            throw new ClientErrorException("Idempotency-Key '" + key + "' was already used for job " + row[0]
                    + " with a different spec", 422);
        }
        return Optional.of(new Submission(find((Long) row[0], who).orElseThrow(), false));
    }

    /** The registered sample shape (models.input_shape), or null if none is recorded. */
    private static long[] sampleShape(java.sql.Array a) throws java.sql.SQLException {
        if (a == null) {
            return null;
        }
        Object[] dims = (Object[]) a.getArray();
        if (dims.length == 0) {
            return null;
        }
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = ((Number) dims[i]).longValue();
        }
        return out;
    }

    /** The registered model a spec names (its id or name), or a 400 naming {@code model}. */
    private JobPlanner.Model resolveModel(JsonNode ref) {
        if (ref == null || ref.isNull()) {
            throw InvalidRequestException.field("model", "required: the id or name of a registered model");
        }
        if (!(ref.isIntegralNumber() && ref.canConvertToLong()) && !ref.isTextual()) {
            throw InvalidRequestException.field("model", "expected a model id (integer) or name (string)");
        }
        JobPlanner.Model row = store.tx("look up a model", c -> {
            String sql = ref.isIntegralNumber()
                    ? "SELECT id, name, num_classes, input_shape, kind FROM models WHERE id = ?"
                    : "SELECT id, name, num_classes, input_shape, kind FROM models WHERE name = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (ref.isIntegralNumber()) {
                    ps.setLong(1, ref.asLong());
                } else {
                    ps.setString(1, ref.asText());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new JobPlanner.Model(rs.getLong(1), rs.getString(2), rs.getInt(3),
                            sampleShape(rs.getArray(4)), rs.getString(5)) : null;
                }
            }
        });
        if (row == null) {
            throw InvalidRequestException.field("model", "no registered model " + ref);
        }
        return row;
    }

    /**
     * A plan the engine can run: at most {@code solvertune.limits.job.max-stages} stages (whatever the planner), unique
     * names, dependencies on earlier stages, an executor for every kind.
     */
    private void checkPlan(List<PlannedStage> plan) {
        if (plan == null || plan.isEmpty()) {
            throw new IllegalStateException("the job planner returned no stages");
        }
        int max = limits.job().maxStages();
        if (plan.size() > max) {
            throw InvalidRequestException.field("spec", "the plan has " + plan.size() + " stages, at most " + max
                    + " are accepted (solvertune.limits.job.max-stages)");
        }
        Set<String> seen = new HashSet<>();
        for (PlannedStage s : plan) {
            if (s.name() == null || s.name().isBlank() || s.name().length() > 200 || !seen.add(s.name())) {
                throw new IllegalStateException("the job planner returned a blank, too long or repeated stage name: "
                        + s.name());
            }
            for (String d : s.dependsOn()) {
                if (!seen.contains(d) || d.equals(s.name())) {
                    throw new IllegalStateException("the job planner's stage " + s.name() + " depends on " + d
                            + ", which is not an earlier stage");
                }
            }
            if (engine.executors().forKind(s.kind()).isEmpty()) {
                throw new ServiceUnavailableException("no executor installed for stage kind '" + s.kind() + "'");
            }
        }
    }

    // ---- reads ----------------------------------------------------------------------------------------------------

    /** The job with its first page of stages, if the caller may see it. */
    public Optional<JobView> find(long id, Principal who) {
        return find(id, who, 0, limits.events().jobViewStages());
    }

    /**
     * The job with {@code limit} of its stages from plan position {@code offset} on, if the caller may see it; the
     * progress always counts every stage.
     */
    public Optional<JobView> find(long id, Principal who, int offset, int limit) {
        int max = limits.events().jobViewStages();
        if (offset < 0) {
            throw InvalidRequestException.field("stageOffset", "must not be negative");
        }
        if (limit < 1 || limit > max) {
            throw InvalidRequestException.field("stageLimit", "between 1 and " + max);
        }
        return store.<Optional<JobView>>tx("read a job", c -> {
            Optional<JobView> head = jobs(c, "WHERE id = ?" + visibility(who), List.of(id), 1, true);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            JobView v = head.get();
            JobView.Progress p = progress(c, List.of(v)).get(v.id());
            List<JobView.StageView> page = stages(c, v.id(), offset, limit + 1);
            String next = null;
            if (page.size() > limit) {
                page = page.subList(0, limit);
                next = "/api/v1/jobs/" + v.id() + "?stageOffset=" + (offset + limit) + "&stageLimit=" + limit;
            }
            return Optional.of(new JobView(v.id(), v.state(), v.model(), v.createdBy(), v.idempotencyKey(),
                    v.createdAt(), v.startedAt(), v.finishedAt(), p, v.error(), v.spec(), List.copyOf(page), next,
                    v.result()));
        });
    }

    /** Stages in a page of {@code GET /jobs/{id}} by default (and at most). */
    public int stagePage() {
        return limits.events().jobViewStages();
    }

    /** A job the caller may see, or 404. */
    public JobView get(long id, Principal who) {
        return find(id, who).orElseThrow(() -> notFound(id));
    }

    /** A job the caller may see with one page of its stages, or 404. */
    public JobView get(long id, Principal who, int stageOffset, int stageLimit) {
        return find(id, who, stageOffset, stageLimit).orElseThrow(() -> notFound(id));
    }

    /** Whether the caller may see the job (without reading its stages). */
    public boolean visible(long id, Principal who) {
        return store.tx("read a job", c -> jobs(c, "WHERE id = ?" + visibility(who), List.of(id), 1, false)
                .isPresent());
    }

    /**
     * What an event stream shows of a job: its head (no spec, no stages) with progress and result, and every stage
     * (at most {@code solvertune.limits.job.max-stages} of them) — or empty if the caller may not see it.
     */
    public Optional<Map.Entry<JobView, List<JobView.StageView>>> snapshot(long id, Principal who) {
        return store.tx("read a job", c -> {
            Optional<JobView> head = jobs(c, "WHERE id = ?" + visibility(who), List.of(id), 1, true);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            JobView v = head.get();
            JobView h = new JobView(v.id(), v.state(), v.model(), v.createdBy(), v.idempotencyKey(), v.createdAt(),
                    v.startedAt(), v.finishedAt(), progress(c, List.of(v)).get(v.id()), v.error(), null, null, null,
                    v.result());
            return Optional.of(Map.entry(h, stages(c, v.id(), 0, Integer.MAX_VALUE)));
        });
    }

    /** Jobs the caller may see, newest first, optionally of one state. */
    public JobView.Page list(Principal who, String state, int limit, Long before) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw InvalidRequestException.field("limit", "between 1 and " + MAX_PAGE);
        }
        String st = null;
        if (state != null && !state.isBlank()) {
            st = state.strip().toUpperCase(Locale.ROOT);
            if (JobState.of(st) == null) {
                throw InvalidRequestException.field("state", "one of " + java.util.Arrays.stream(JobState.values())
                        .map(JobState::name).collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        List<Object> args = new ArrayList<>();
        StringBuilder where = new StringBuilder("WHERE true");
        if (st != null) {
            where.append(" AND state = ?");
            args.add(st);
        }
        if (before != null) {
            where.append(" AND id < ?");
            args.add(before);
        }
        where.append(visibility(who));
        List<JobView> items = store.tx("list jobs", c -> {
            List<JobView> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(SELECT_JOB + where + " ORDER BY id DESC LIMIT ?")) {
                int i = 1;
                for (Object a : args) {
                    ps.setObject(i++, a);
                }
                ps.setInt(i, limit + 1);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(job(rs, false));
                    }
                }
            }
            Map<Long, JobView.Progress> progress = progress(c, out);
            return out.stream().map(v -> v.withProgress(progress.get(v.id()))).toList();
        });
        if (items.size() <= limit) {
            return new JobView.Page(items, null, null);
        }
        List<JobView> page = items.subList(0, limit);
        long next = page.get(page.size() - 1).id();
        String url = "/api/v1/jobs?limit=" + limit + "&before=" + next + (st == null ? "" : "&state=" + st);
        return new JobView.Page(List.copyOf(page), next, url);
    }

    /** Lines of a job's log after line id {@code after}. */
    public JobView.Log logs(long id, Principal who, long after, int limit) {
        get(id, who);
        if (limit < 1 || limit > 10_000) {
            throw InvalidRequestException.field("limit", "between 1 and 10000");
        }
        return store.tx("read a job log", c -> {
            List<JobView.LogLine> lines = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, ts, level, stage, message FROM job_logs "
                    + "WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?")) {
                ps.setLong(1, id);
                ps.setLong(2, after);
                ps.setInt(3, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        lines.add(new JobView.LogLine(rs.getLong(1), instant(rs.getTimestamp(2)), rs.getString(3),
                                rs.getString(4), rs.getString(5)));
                    }
                }
            }
            return new JobView.Log(lines, lines.isEmpty() ? after : lines.get(lines.size() - 1).id());
        });
    }

    // ---- control --------------------------------------------------------------------------------------------------

    /**
     * Cancels a QUEUED or RUNNING job: its unfinished stages become CANCELLED; a running stage notices through its
     * heartbeat ({@code StageContext.cancelled()}). Cancelling a finished job changes nothing (409).
     */
    public JobView cancel(long id, Principal who) {
        get(id, who);
        boolean n = store.cancel(id, "cancelled by " + who.name());
        if (!n) {
            throw new ClientErrorException("job " + id + " is already finished", 409);
        }
        return get(id, who);
    }

    /**
     * Runs a FAILED or CANCELLED job again: its failed and cancelled stages start over (attempts reset), the
     * SUCCEEDED ones are kept.
     */
    public JobView retry(long id, Principal who) {
        get(id, who);
        boolean n = store.retry(id, "retried by " + who.name());
        if (!n) {
            throw new ClientErrorException("only FAILED or CANCELLED jobs can be retried", 409);
        }
        return get(id, who);
    }

    /** The QUEUED or RUNNING jobs of a model (ids ascending). */
    public List<Long> activeJobsOf(long modelId) {
        return store.read("find a model's active jobs", c -> {
            List<Long> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM jobs WHERE model_id = ? "
                    + "AND state IN (" + q(JobState.QUEUED) + ", " + q(JobState.RUNNING) + ") ORDER BY id")) {
                ps.setLong(1, modelId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
            return ids;
        });
    }

    public static NotFoundException notFound(long id) {
        return new NotFoundException("no job " + id);
    }

    // ---- row mapping ----------------------------------------------------------------------------------------------

    private static final String SELECT_JOB = "SELECT id, state, model_id, model_name, created_by_name, "
            + "idempotency_key, created_at, started_at, finished_at, error, spec::text, result::text FROM jobs ";

    private static String visibility(Principal who) {
        return who.has(Role.ADMIN) ? "" : " AND created_by = " + who.tokenId();
    }

    private Optional<JobView> jobs(Connection c, String where, List<Object> args, int limit, boolean full)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT_JOB + where + " LIMIT " + limit)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(job(rs, full)) : Optional.empty();
            }
        }
    }

    private JobView job(ResultSet rs, boolean full) throws SQLException {
        long modelId = rs.getLong(3);
        Long mid = rs.wasNull() ? null : modelId;
        return new JobView(rs.getLong(1), rs.getString(2), new JobView.ModelRef(mid, rs.getString(4)),
                rs.getString(5), rs.getString(6), instant(rs.getTimestamp(7)), instant(rs.getTimestamp(8)),
                instant(rs.getTimestamp(9)), null, rs.getString(10), full ? store.parse(rs.getString(11)) : null,
                null, null, full ? store.parse(rs.getString(12)) : null);
    }

    /** {@code limit} stages of a job from plan position {@code offset} on. */
    private List<JobView.StageView> stages(Connection c, long jobId, int offset, int limit) throws SQLException {
        List<JobView.StageView> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, kind, depends_on, state, attempts, max_attempts, "
                + "lease_owner, progress_done, progress_total, progress_message, started_at, finished_at, "
                + "lease_expires_at, error FROM job_stages WHERE job_id = ? ORDER BY seq OFFSET ? LIMIT ?")) {
            ps.setLong(1, jobId);
            ps.setInt(2, offset);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new JobView.StageView(rs.getString(1), rs.getString(2), JobStore.strings(rs.getArray(3)),
                            rs.getString(4), rs.getInt(5), rs.getInt(6), rs.getString(7), rs.getLong(8),
                            rs.getLong(9), rs.getString(10), instant(rs.getTimestamp(11)),
                            instant(rs.getTimestamp(12)), instant(rs.getTimestamp(13)), rs.getString(14)));
                }
            }
        }
        return out;
    }

    /**
     * Overall progress of each job, counted in the database (a job's stages are not loaded for it): succeeded stages
     * count 1, running ones done/total; ETA from the rate since the start.
     */
    private static Map<Long, JobView.Progress> progress(Connection c, List<JobView> jobs) throws SQLException {
        Map<Long, JobView.Progress> out = new HashMap<>();
        if (jobs.isEmpty()) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT job_id, count(*), "
                + "count(*) FILTER (WHERE state = " + q(StageState.SUCCEEDED) + "), "
                + "coalesce(sum(CASE WHEN state = " + q(StageState.RUNNING) + " AND progress_total > 0 "
                + "THEN least(1.0, progress_done::float8 / progress_total) END), 0), "
                + "(array_agg(name ORDER BY seq) FILTER (WHERE state = " + q(StageState.RUNNING) + "))[1:" + JobView.Progress.MAX_RUNNING
                + "] FROM job_stages WHERE job_id = ANY (?) GROUP BY job_id")) {
            ps.setArray(1, c.createArrayOf("bigint", jobs.stream().map(JobView::id).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    JobView job = jobs.stream().filter(j -> j.id() == id).findFirst().orElseThrow();
                    out.put(id, progress(job, rs.getInt(2), rs.getInt(3), rs.getDouble(4),
                            JobStore.strings(rs.getArray(5))));
                }
            }
        }
        for (JobView j : jobs) {
            out.putIfAbsent(j.id(), progress(j, 0, 0, 0, List.of()));
        }
        return out;
    }

    static JobView.Progress progress(JobView job, int total, int succeeded, double runningDone, List<String> running) {
        double fraction = total == 0 ? 0 : (succeeded + runningDone) / total;
        Long eta = null;
        JobState state = JobState.of(job.state());
        if (state != null && state.active() && job.startedAt() != null
                && fraction > 0 && fraction < 1) {
            double elapsed = Duration.between(job.startedAt(), Instant.now()).toMillis() / 1000.0;
            eta = Math.round(elapsed * (1 - fraction) / fraction);
        }
        return new JobView.Progress(succeeded, total, fraction, eta, running);
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
