package io.solvertune.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.solvertune.service.artifacts.ArtifactBackend;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.jobs.JobEngine;
import io.solvertune.service.jobs.JobFinisher;
import io.solvertune.service.jobs.StageExecutorDecorator;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Routes every stage's inputs and outputs through the shared artifact store, so workers on hosts without a common file
 * system can run one job: after a stage succeeds its directory ({@code <work-dir>/job-<id>/<stage>}) is stored as a
 * tree and recorded in {@code stage_artifacts} (V9); before a stage runs, and before a job is finished (published), the
 * directories of the job's succeeded stages that this host lacks are fetched into its work directory. The stages
 * themselves keep reading and writing local files. A running stage's checkpoints go to the store too
 * ({@link CheckpointSync}), so a stage whose host died resumes on another one. {@code solvertune.artifacts.sync=false}
 * turns it all off (one host or a shared file system).
 */
@Singleton
public class ArtifactSync implements StageExecutorDecorator {

    private static final Logger LOG = Logger.getLogger(ArtifactSync.class);

    private final SharedArtifacts artifacts;
    private final DataSource ds;
    private final Path workRoot;
    private final boolean enabled;
    private final CheckpointSync checkpoints;

    @Inject
    public ArtifactSync(SharedArtifacts artifacts, AgroalDataSource ds, JobEngine engine, ArtifactBackend.Config config,
                        MeterRegistry registry,
                        @ConfigProperty(name = "solvertune.artifacts.sync", defaultValue = "true") boolean enabled) {
        this(artifacts, ds, engine.workDir(), enabled, new CheckpointSync(artifacts, ds,
                config.checkpoints().upload(), config.checkpoints().interval()).listener(meters(registry)));
    }

    /**
     * {@code solvertune.checkpoint.uploads} (timer: recorded uploads of running stages' checkpoints and their time),
     * {@code solvertune.checkpoint.uploaded.bytes} (size of the uploaded checkpoints, unchanged files included:
     * what a resuming host fetches), {@code solvertune.checkpoint.restores} (stages that resumed from a fetched
     * checkpoint). Per process.
     */
    static CheckpointSync.Listener meters(MeterRegistry registry) {
        Timer uploads = Timer.builder("solvertune.checkpoint.uploads")
                .description("Uploads of running stages' checkpoints to the artifact store (this process)")
                .register(registry);
        Counter bytes = Counter.builder("solvertune.checkpoint.uploaded.bytes")
                .description("Size of the checkpoints this process uploaded").register(registry);
        Counter restores = Counter.builder("solvertune.checkpoint.restores")
                .description("Stages this process resumed from a checkpoint another host uploaded").register(registry);
        return new CheckpointSync.Listener() {
            @Override
            public void uploaded(int files, long size, long nanos) {
                uploads.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
                bytes.increment(size);
            }

            @Override
            public void restored(int files, long size, long nanos) {
                restores.increment();
            }
        };
    }

    /** One host's view: its work root and its cache (in {@code artifacts}); tests build several. */
    public ArtifactSync(SharedArtifacts artifacts, DataSource ds, Path workRoot, boolean enabled,
                        CheckpointSync checkpoints) {
        this.artifacts = artifacts;
        this.ds = ds;
        this.workRoot = workRoot.toAbsolutePath();
        this.enabled = enabled;
        this.checkpoints = checkpoints;
    }

    /** Between the device (innermost) and the metrics (outermost). */
    @Override
    public int order() {
        return 0;
    }

    @Override
    public StageExecutor decorate(String kind, StageExecutor executor) {
        if (!enabled) {
            return executor;
        }
        return ctx -> {
            materialise(ctx.jobId());
            CheckpointSync.Run run = checkpoints.begin(ctx, jobDir(ctx.jobId()));
            JsonNode out;
            try {
                out = executor.execute(run);
            } catch (CancellationException e) {
                run.flush(); // handed back (shutdown): the next host starts from the latest checkpoint
                throw e;
            }
            SharedArtifacts.Tree tree = store(ctx, run.digests());
            if (tree != null) {
                run.finished(tree);
            }
            return out;
        };
    }

    @Override
    public JobFinisher decorateFinisher(JobFinisher finisher) {
        if (!enabled) {
            return finisher;
        }
        return (jobId, modelId, kind, output) -> {
            try {
                materialise(jobId);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return finisher.finish(jobId, modelId, kind, output);
        };
    }

    private Path jobDir(long jobId) {
        return workRoot.resolve("job-" + jobId);
    }

    /** Stores the stage's directory (if it wrote one) and records it; the stored tree, or null. */
    SharedArtifacts.Tree store(StageContext ctx, SharedArtifacts.DigestCache digests) throws IOException {
        Path dir = jobDir(ctx.jobId()).resolve(ctx.stage().name());
        if (!Files.isDirectory(dir)) {
            return null;
        }
        long t0 = System.nanoTime();
        SharedArtifacts.Tree stored = artifacts.putTree(dir, p -> true, digests);
        String tree = stored.sha256();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                + "stage_artifacts (job_id, stage, tree_sha256) VALUES (?, ?, ?) ON CONFLICT (job_id, stage) "
                + "DO UPDATE SET tree_sha256 = excluded.tree_sha256, created_at = now()")) {
            ps.setLong(1, ctx.jobId());
            ps.setString(2, ctx.stage().name());
            ps.setString(3, tree);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IOException("stage_artifacts: " + e.getMessage(), e);
        }
        marker(ctx.jobId(), ctx.stage().name(), tree);
        LOG.debugf("job %d stage %s: directory stored as tree %s in %d ms", ctx.jobId(), ctx.stage().name(), tree,
                (System.nanoTime() - t0) / 1_000_000);
        return stored;
    }

    /** Fetches the directories of the job's succeeded stages that this host does not have yet. */
    void materialise(long jobId) throws IOException {
        Map<String, String> trees = new LinkedHashMap<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT a.stage, "
                + "a.tree_sha256 FROM stage_artifacts a JOIN job_stages s ON s.job_id = a.job_id AND s.name = a.stage "
                + "WHERE a.job_id = ? AND s.state = 'SUCCEEDED' ORDER BY s.seq")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    trees.put(rs.getString(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new IOException("stage_artifacts: " + e.getMessage(), e);
        }
        for (Map.Entry<String, String> t : trees.entrySet()) {
            Path marker = markerFile(jobId, t.getKey());
            if (Files.isRegularFile(marker) && Files.readString(marker, StandardCharsets.UTF_8).equals(t.getValue())) {
                continue; // this host wrote or fetched exactly that tree
            }
            var written = artifacts.fetchTree(t.getValue(), jobDir(jobId).resolve(t.getKey()));
            marker(jobId, t.getKey(), t.getValue());
            LOG.infof("job %d: fetched stage %s from the artifact store (%s, %d file(s))", jobId, t.getKey(),
                    artifacts.store().name(), written.size());
        }
    }

    private Path markerFile(long jobId, String stage) {
        return jobDir(jobId).resolve(".trees").resolve(stage);
    }

    private void marker(long jobId, String stage, String tree) throws IOException {
        Path m = markerFile(jobId, stage);
        Files.createDirectories(m.getParent());
        Path tmp = m.resolveSibling(m.getFileName() + ".tmp"); // stage names may contain "/" (g3/teacher-000)
        Files.writeString(tmp, tree, StandardCharsets.UTF_8);
        Files.move(tmp, m, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
