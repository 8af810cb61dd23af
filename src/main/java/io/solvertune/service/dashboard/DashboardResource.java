package io.solvertune.service.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.service.configs.ConfigReader;
import io.solvertune.service.security.Caller;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Query;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Aggregate reads for the dashboard, each one query per section so the pages stay fast with thousands of configs and
 * hundreds of jobs. Visibility follows the jobs API: admins see every job and the workers, submitters their own jobs.
 */
@Path("/api/v1/dashboard")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "dashboard", description = "Aggregate views for the web dashboard (/dashboard/)")
public class DashboardResource {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Running jobs, recent failures and workers listed at most. */
    static final int MAX_RUNNING = 50;
    static final int MAX_FAILURES = 10;
    static final int MAX_WORKERS = 100;

    @Inject
    EntityManager em;

    @Inject
    Caller caller;

    @Inject
    ConfigReader configs;

    @ConfigProperty(name = "solvertune.dashboard.max-configs", defaultValue = "5000")
    int maxConfigs;

    @GET
    @Path("/overview")
    @RequiresRole(Role.SUBMITTER)
    @Transactional
    @Operation(summary = "Jobs and stages by state, workers and their leases, running jobs, recent failures",
            description = "Admins see every job and the workers holding leases; submitters their own jobs only.")
    public DashboardView.Overview overview() {
        Principal p = caller.require(Role.SUBMITTER);
        boolean all = p.has(Role.ADMIN);
        String vis = all ? "TRUE" : "j.created_by = :tok";

        Map<String, Long> jobs = counts(query("SELECT j.state, count(*) FROM jobs j WHERE " + vis
                + " GROUP BY j.state", all, p));
        Map<String, Long> stages = counts(query("SELECT s.state, count(*) FROM job_stages s JOIN jobs j ON j.id = "
                + "s.job_id WHERE " + vis + " GROUP BY s.state", all, p));

        List<DashboardView.Worker> workers = null;
        if (all) {
            workers = new ArrayList<>();
            for (Object[] r : rows(em.createNativeQuery("SELECT s.lease_owner, s.job_id, s.name, s.lease_expires_at, "
                    + "s.heartbeat_at, s.progress_done, s.progress_total FROM job_stages s WHERE s.state = 'RUNNING' "
                    + "ORDER BY s.lease_owner, s.job_id, s.seq LIMIT " + MAX_WORKERS))) {
                workers.add(new DashboardView.Worker((String) r[0], num(r[1]), (String) r[2], instant(r[3]),
                        instant(r[4]), num(r[5]), num(r[6])));
            }
        }

        List<DashboardView.RunningJob> running = new ArrayList<>();
        for (Object[] r : rows(query("SELECT j.id, j.state, j.model_name, j.created_by_name, j.created_at, "
                + "j.started_at, count(*) FILTER (WHERE s.state = 'SUCCEEDED'), count(s.name), "
                + "count(*) FILTER (WHERE s.state = 'RUNNING') FROM jobs j LEFT JOIN job_stages s ON s.job_id = j.id "
                + "WHERE j.state IN ('QUEUED', 'RUNNING') AND " + vis + " GROUP BY j.id ORDER BY j.id DESC LIMIT "
                + MAX_RUNNING, all, p))) {
            running.add(new DashboardView.RunningJob(num(r[0]), (String) r[1], (String) r[2], (String) r[3],
                    instant(r[4]), instant(r[5]), num(r[6]), num(r[7]), num(r[8])));
        }

        List<DashboardView.Failure> failures = new ArrayList<>();
        for (Object[] r : rows(query("SELECT j.id, j.model_name, j.finished_at, j.error FROM jobs j WHERE j.state = "
                + "'FAILED' AND " + vis + " ORDER BY j.id DESC LIMIT " + MAX_FAILURES, all, p))) {
            failures.add(new DashboardView.Failure(num(r[0]), (String) r[1], instant(r[2]), firstLine((String) r[3])));
        }
        return new DashboardView.Overview(p.role().id(), jobs, stages, workers, running, failures, Instant.now());
    }

    @GET
    @Path("/models/{model}/configs")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Transactional
    @Operation(summary = "A model's current configs with metrics and aliases",
            description = "Every config a latest or stable alias or a recommendation points at (at most "
                    + "solvertune.dashboard.max-configs), ordered by NFE, method and id, with its metrics "
                    + "(held-out MSE ± s.e., verdicts) and flags for latest, stable and recommended.")
    public DashboardView.ModelConfigs modelConfigs(@PathParam("model") String model) {
        ConfigReader.ModelRef m = configs.model(model);
        caller.requireRead(m.anonymousRead());
        List<DashboardView.Config> out = new ArrayList<>();
        List<Object[]> rows = rows(em.createNativeQuery("SELECT c.id, c.method, c.solver, c.solver_options::text, "
                + "c.nfe, c.guidance, c.spacing, c.version, c.held_out_mse, c.metrics::text, c.job_id, c.created_at, "
                + "coalesce(bool_or(a.alias = 'latest'), false), coalesce(bool_or(a.alias = 'stable'), false), "
                + "EXISTS (SELECT 1 FROM config_recommendations r WHERE r.config_id = c.id) "
                + "FROM solver_configs c LEFT JOIN config_aliases a ON a.config_id = c.id WHERE c.model_id = :m "
                + "GROUP BY c.id HAVING count(a.id) > 0 OR EXISTS (SELECT 1 FROM config_recommendations r "
                + "WHERE r.config_id = c.id) ORDER BY c.nfe, c.method, c.id LIMIT :lim")
                .setParameter("m", m.id()).setParameter("lim", maxConfigs + 1));
        boolean truncated = rows.size() > maxConfigs;
        for (Object[] r : truncated ? rows.subList(0, maxConfigs) : rows) {
            out.add(new DashboardView.Config(num(r[0]), (String) r[1], (String) r[2], json((String) r[3]),
                    (int) num(r[4]), ((Number) r[5]).doubleValue(), (String) r[6], (int) num(r[7]),
                    r[8] == null ? null : ((Number) r[8]).doubleValue(), json((String) r[9]), num(r[10]),
                    instant(r[11]), (Boolean) r[12], (Boolean) r[13], (Boolean) r[14]));
        }
        long versions = num(em.createNativeQuery("SELECT count(*) FROM solver_configs WHERE model_id = :m")
                .setParameter("m", m.id()).getSingleResult());
        List<Double> guidances = new ArrayList<>();
        for (Object g : em.createNativeQuery("SELECT DISTINCT guidance FROM solver_configs WHERE model_id = :m "
                + "ORDER BY guidance").setParameter("m", m.id()).getResultList()) {
            guidances.add(((Number) g).doubleValue());
        }
        return new DashboardView.ModelConfigs(m.id(), m.name(), guidances, out, versions, truncated);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private Query query(String sql, boolean all, Principal p) {
        Query q = em.createNativeQuery(sql);
        if (!all) {
            q.setParameter("tok", p.tokenId());
        }
        return q;
    }

    @SuppressWarnings("unchecked")
    private static List<Object[]> rows(Query q) {
        return q.getResultList();
    }

    private static Map<String, Long> counts(Query q) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (Object[] r : rows(q)) {
            m.put((String) r[0], num(r[1]));
        }
        return m;
    }

    static String firstLine(String error) {
        if (error == null) {
            return null;
        }
        String s = error.strip();
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl).strip();
        return line.length() > 500 ? line.substring(0, 500) + "…" : line;
    }

    private static long num(Object o) {
        return o == null ? 0 : ((Number) o).longValue();
    }

    private static JsonNode json(String s) {
        if (s == null) {
            return null;
        }
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Instant instant(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof Instant i) {
            return i;
        }
        if (o instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        if (o instanceof Timestamp t) {
            return t.toInstant();
        }
        throw new IllegalStateException("unexpected timestamp type " + o.getClass().getName());
    }
}
