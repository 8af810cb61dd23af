package io.solvertune.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.solvertune.service.jobs.StageExecutorDecorator;
import io.solvertune.service.jobs.WorkerPool;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import io.solvertune.tuning.job.TuningStages;
import jakarta.inject.Singleton;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Meters of the stages this process runs, by wrapping every stage executor of the in-process workers: run time per
 * kind and outcome ({@code solvertune.stage.duration}), the attempt each run is ({@code solvertune.stage.attempts}),
 * workers configured and busy ({@code solvertune.workers}), and the teacher's throughput (trajectories and model calls
 * of finished teacher shards, with the seconds they took). Per process: aggregate them with {@code sum}.
 */
@Singleton
public class StageMetrics implements StageExecutorDecorator {

    /** How a stage run ended. */
    public enum Outcome { SUCCEEDED, FAILED, CANCELLED }

    private final MeterRegistry registry;
    private final AgroalDataSource ds;
    private final AtomicInteger busy = new AtomicInteger();
    private final Counter trajectories;
    private final Counter modelCalls;
    private final Timer teacherTime;
    private final AtomicReference<Double> lastRate = new AtomicReference<>(Double.NaN);

    public StageMetrics(MeterRegistry registry, AgroalDataSource ds, WorkerPool pool) {
        this.registry = registry;
        this.ds = ds;
        Gauge.builder("solvertune.workers", pool, p -> p.owners().size()).tag("state", "running")
                .description("Job workers running in this process").register(registry);
        Gauge.builder("solvertune.workers", busy, AtomicInteger::get).tag("state", "busy")
                .description("Job workers of this process running a stage").register(registry);
        trajectories = Counter.builder("solvertune.teacher.trajectories")
                .description("Teacher trajectories solved by finished teacher shards of this process")
                .register(registry);
        modelCalls = Counter.builder("solvertune.teacher.model.calls")
                .description("Model evaluations of finished teacher shards of this process").register(registry);
        teacherTime = Timer.builder("solvertune.teacher.shard.duration")
                .description("Run time of finished teacher shards (throughput = trajectories / seconds)")
                .register(registry);
        Gauge.builder("solvertune.teacher.trajectories.per.second", lastRate, AtomicReference::get)
                .description("Throughput of the last teacher shard this process finished").register(registry);
    }

    /** Created at startup, so the worker gauges exist (0) in a process that runs no workers too. */
    void onStart(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent e) {
        // constructing registered the meters
    }

    /** Wraps last (outermost): the time includes fetching inputs from and storing outputs in the artifact store. */
    @Override
    public int order() {
        return 1000;
    }

    @Override
    public StageExecutor decorate(String kind, StageExecutor executor) {
        return ctx -> run(kind, executor, ctx);
    }

    private JsonNode run(String kind, StageExecutor executor, StageContext ctx) throws Exception {
        attempt(ctx).ifPresent(a -> DistributionSummary.builder("solvertune.stage.attempts").tag("kind", kind)
                .description("Attempt number of each stage run (1 = first claim)").register(registry).record(a));
        busy.incrementAndGet();
        long t0 = System.nanoTime();
        Outcome outcome = Outcome.FAILED;
        try {
            JsonNode out = executor.execute(ctx);
            outcome = Outcome.SUCCEEDED;
            if (TuningStages.TEACHER.equals(kind)) {
                teacher(out, System.nanoTime() - t0);
            }
            return out;
        } catch (CancellationException e) {
            outcome = Outcome.CANCELLED;
            throw e;
        } finally {
            busy.decrementAndGet();
            Timer.builder("solvertune.stage.duration").tag("kind", kind)
                    .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
                    .description("Run time of stages in this process, by kind and outcome")
                    .publishPercentileHistogram().register(registry)
                    .record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    private void teacher(JsonNode out, long nanos) {
        if (out == null) {
            return;
        }
        long count = out.path("count").asLong(0);
        trajectories.increment(count);
        modelCalls.increment(out.path("modelCalls").asLong(0));
        teacherTime.record(nanos, TimeUnit.NANOSECONDS);
        if (nanos > 0) {
            lastRate.set(count / (nanos / 1e9));
        }
    }

    /** The attempt this run is (the claim counted it), if the database says. */
    private java.util.OptionalInt attempt(StageContext ctx) {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT attempts FROM job_stages WHERE job_id = ? AND name = ?")) {
            ps.setLong(1, ctx.jobId());
            ps.setString(2, ctx.stage().name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.OptionalInt.of(rs.getInt(1)) : java.util.OptionalInt.empty();
            }
        } catch (SQLException e) {
            return java.util.OptionalInt.empty();
        }
    }
}
