package io.solvertune.service.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.agroal.api.AgroalDataSource;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.job.ResolvedModel;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Models, published configs and job rows for the dashboard tests and the dashboard benchmark. */
final class DashboardFixtures {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong JOBS = new AtomicLong(System.currentTimeMillis() % 1_000_000_000L * 1000 + 7);
    static final String[] METHODS = {"baseline", "dc", "dode", "dode-teacher", "iia-ddim", "iia-edm", "biia-edm",
        "dpmsolver-v3", "dc-final", "iia-dpmsolver++2m"};
    static final String[] SPACINGS = {"logSNR", "time_uniform", "time_quadratic", "karras", "logSNR"};

    private DashboardFixtures() {
    }

    /** A registered gmm-sd-d32 preset model row with this name (made directly, without the test run). */
    static long model(String name, String description) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = new ModelEntity();
            m.name = name;
            m.description = description;
            m.kind = "analytic";
            m.preset = "gmm-sd-d32";
            m.spec = JSON.readTree("{\"preset\": \"gmm-sd-d32\"}");
            m.contentHash = CanonicalJson.sha256(name);
            m.schedule = JSON.valueToTree(ResolvedModel.specOf(m.spec).schedule());
            m.predictionType = "noise";
            m.persist();
            return m.id;
        });
    }

    /**
     * Publishes {@code methods × nfes × guidances × variants} configs of the model in one publish: held-out MSE
     * falling with NFE (method-dependent factor) with a standard error, verdicts and ratios in the metrics, so the
     * error-vs-NFE plot and the verdict table have everything to draw. Returns the config ids.
     */
    static List<Long> publish(ConfigPublisher publisher, long modelId, int methods, int[] nfes, double[] guidances,
                              int variants) {
        return publish(publisher, JOBS.incrementAndGet(), modelId, methods, nfes, guidances, variants);
    }

    /** {@link #publish(ConfigPublisher, long, int, int[], double[], int)} as job {@code jobId}. */
    static List<Long> publish(ConfigPublisher publisher, long jobId, long modelId, int methods, int[] nfes,
                              double[] guidances, int variants) {
        NoiseSchedule s = QuarkusTransaction.requiringNew().call(() ->
                ResolvedModel.specOf(ModelEntity.<ModelEntity>findById(modelId).spec).schedule().build());
        List<ConfigCandidate> cs = new ArrayList<>();
        for (int mi = 0; mi < methods; mi++) {
            for (int nfe : nfes) {
                for (double g : guidances) {
                    for (int v = 0; v < variants; v++) {
                        TimestepSpacing sp = v % 2 == 0 ? new TimestepSpacing.LogSnr()
                                : new TimestepSpacing.TimeUniform();
                        ConfigValues values = ConfigValues.ofBaseline(Candidate.of(DpmSolver.plusPlusMultistep(2), sp),
                                nfe, sp.times(s, s.defaultTStart(), s.defaultTEnd(), nfe));
                        double base = 0.5 * Math.pow(nfe, -2.0 - 0.15 * mi) * (1 + 0.1 * g);
                        double mse = base * (1 + 0.07 * v);
                        ObjectNode metrics = JsonNodeFactory.instance.objectNode().put("heldOutMse", mse)
                                .put("heldOutStdErr", mse * 0.08).put("heldOutSeeds", 1024)
                                .put("baseMse", base * 1.6).put("baseStdErr", base * 0.1)
                                .put("ratioToBase", mse / (base * 1.6)).put("vsBase", "BEATS")
                                .put("baselineMse", 0.5 * Math.pow(nfe, -2.0) * (1 + 0.1 * g))
                                .put("vsBaseline", mi == 0 ? "TIE" : "BEATS");
                        ObjectNode prov = JsonNodeFactory.instance.objectNode().put("codeVersion", "dashboard-test");
                        // as the publish stage writes them: the held-out teacher's steps and the held-out seeds
                        prov.putObject("teacher").set("heldOut", Json.MAPPER.valueToTree(
                                io.solvertune.tuning.teacher.TeacherSettings.defaults().withSteps(100, 100)));
                        prov.putObject("seeds").putObject("heldOut").put("first", 1_000_000).put("count", 1024);
                        cs.add(new ConfigCandidate(modelId, METHODS[mi % METHODS.length], "dpmsolver++",
                                JSON.valueToTree(Map.of("method", "multistep", "order", "2", "variant", v)), nfe, g,
                                sp.id(), s.defaultTStart(), s.defaultTEnd(), values, typed(metrics),
                                typed(prov, ConfigProvenance.class), true, mse));
                    }
                }
            }
        }
        return publisher.publish(jobId, cs);
    }

    /**
     * Publishes one DC-Solver config (UniPC bh2 order 3, logSNR) whose coefficient set carries a fit report (residual
     * per step before and after) and a reward curve in its provenance settings, the shape a learned solver's trainer
     * writes ({iteration, nfe, reward, ratioToNeutral}). Returns its id.
     */
    static long publishFitted(ConfigPublisher publisher, long modelId, int nfe, int iterations) {
        NoiseSchedule s = QuarkusTransaction.requiringNew().call(() ->
                ResolvedModel.specOf(ModelEntity.<ModelEntity>findById(modelId).spec).schedule().build());
        TimestepSpacing sp = new TimestepSpacing.LogSnr();
        double[][] values = new double[nfe][];
        double[] after = new double[nfe];
        double[] before = new double[nfe];
        for (int i = 0; i < nfe; i++) {
            values[i] = new double[] {i < 2 ? 1.0 : 1.0 + 0.01 * (i % 3)}; // UniPC order 3 warms up on steps 1-2
            before[i] = 1e-3 * (i + 1);
            after[i] = before[i] * 0.4;
        }
        List<Map<String, Object>> curve = new ArrayList<>();
        for (int it = 0; it < iterations; it++) {
            curve.add(Map.of("iteration", it, "nfe", nfe, "reward", -0.02 * Math.exp(-it / 30.0) - 0.004,
                    "ratioToNeutral", 0.55 + 0.45 * Math.exp(-it / 30.0)));
        }
        io.solvertune.tuning.fit.CoefficientSet set = new io.solvertune.tuning.fit.CoefficientSet(
                io.solvertune.tuning.fit.CoefficientSet.FORMAT_VERSION, io.solvertune.tuning.fit.CoefficientSet.Method.DC,
                new io.solvertune.numerics.solver.unipc.UniPc(io.solvertune.numerics.model.PredictionType.DATA,
                        io.solvertune.numerics.solver.unipc.UniPc.Variant.BH2, 3), sp, nfe, nfe,
                sp.times(s, s.defaultTStart(), s.defaultTEnd(), nfe), List.of("ratio"), values,
                new io.solvertune.tuning.fit.CoefficientSet.FitReport(128, after, before, new int[nfe], 1.5, List.of()),
                null, new io.solvertune.tuning.fit.CoefficientSet.Provenance(null, null, null, null, null,
                        "dashboard-test", null, Map.of("trainer", "dashboard-test", "rewardCurve", curve)));
        ObjectNode metrics = JsonNodeFactory.instance.objectNode().put("heldOutMse", 1e-4)
                .put("heldOutStdErr", 1e-5).put("heldOutSeeds", 1024).put("heldOutMedian", 8e-5)
                .put("heldOutP99", 4e-4).put("vsBase", "BEATS").put("ratioToBase", 0.5);
        return publisher.publish(JOBS.incrementAndGet(), List.of(new ConfigCandidate(modelId, "dc", "unipc",
                JSON.valueToTree(Map.of("prediction", "data", "variant", "bh2", "order", "3")), nfe, 1.0, sp.id(),
                s.defaultTStart(), s.defaultTEnd(), ConfigValues.of(set), typed(metrics),
                ConfigProvenance.codeVersion("dashboard-test"), true, 1e-4))).get(0);
    }

    private static ConfigMetrics typed(ObjectNode metrics) {
        return typed(metrics, ConfigMetrics.class);
    }

    private static <T> T typed(ObjectNode n, Class<T> type) {
        try {
            return Json.MAPPER.treeToValue(n, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Inserts finished, failed and running jobs with stages straight into the tables (overview load). */
    static void jobs(AgroalDataSource ds, long tokenId, String tokenName, String model, int count, int stagesPerJob)
            throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement job = c.prepareStatement("INSERT INTO jobs (idempotency_key, created_by, "
                     + "created_by_name, model_name, spec, state, error, started_at, finished_at) VALUES (?, ?, ?, ?, "
                     + "'{}'::jsonb, ?, ?, now() - interval '1 hour', CASE WHEN ? IN ('SUCCEEDED', 'FAILED') THEN "
                     + "now() ELSE NULL END) RETURNING id");
             PreparedStatement stage = c.prepareStatement("INSERT INTO job_stages (job_id, name, seq, kind, "
                     + "depends_on, state, attempts, max_attempts, lease_owner, lease_expires_at, heartbeat_at, "
                     + "progress_done, progress_total) VALUES (?, ?, ?, 'teacher-shard', ?, ?, 1, 3, ?, "
                     + "CASE WHEN ? = 'RUNNING' THEN now() + interval '1 hour' END, now(), ?, 100)")) {
            for (int j = 0; j < count; j++) {
                String state = j % 10 == 0 ? "FAILED" : j % 25 == 1 ? "RUNNING" : "SUCCEEDED";
                job.setString(1, "bench-" + System.nanoTime() + "-" + j);
                job.setLong(2, tokenId);
                job.setString(3, tokenName);
                job.setString(4, model);
                job.setString(5, state);
                job.setString(6, state.equals("FAILED") ? "stage g7.5/fit-dc failed: fit diverged at step 3\n\tat ..."
                        : null);
                job.setString(7, state);
                long id;
                try (var rs = job.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
                for (int k = 0; k < stagesPerJob; k++) {
                    String st = state.equals("SUCCEEDED") ? "SUCCEEDED" : state.equals("FAILED")
                            ? (k == stagesPerJob / 2 ? "FAILED" : k < stagesPerJob / 2 ? "SUCCEEDED" : "CANCELLED")
                            : (k < 3 ? "SUCCEEDED" : k == 3 ? "RUNNING" : "PENDING");
                    stage.setLong(1, id);
                    stage.setString(2, "stage-" + k);
                    stage.setInt(3, k);
                    stage.setArray(4, c.createArrayOf("text", k == 0 ? new String[0] : new String[] {"stage-" + (k - 1)}));
                    stage.setString(5, st);
                    stage.setString(6, st.equals("RUNNING") ? "bench-host:1:worker-" + j : null);
                    stage.setString(7, st);
                    stage.setLong(8, st.equals("SUCCEEDED") ? 100 : 40);
                    stage.addBatch();
                }
                stage.executeBatch();
            }
        }
    }
}
