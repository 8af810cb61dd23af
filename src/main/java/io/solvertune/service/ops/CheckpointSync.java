package io.solvertune.service.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.service.artifacts.SharedArtifacts;
import io.solvertune.service.jobs.StageState;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.job.StageContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.jboss.logging.Logger;

/**
 * Checkpoints of running stages in the shared artifact store (table {@code stage_checkpoints}, migration V10), so that a
 * stage whose host died resumes on another host instead of starting from zero. While a stage runs, its directory
 * ({@code <job dir>/<stage>}) is stored as a tree at consistent points (every progress report and every
 * {@link StageContext#checkpointCommitted()}, on the stage's own thread, so no file is half written), at most once per
 * {@code interval} and only when its files changed (digests of unchanged files are not recomputed); temporaries of
 * atomic writes ({@code *.tmp}, {@code *.part}, {@code *.fetch}) are left out. Only the lease holder's upload is
 * recorded (the upsert checks {@code job_stages}), so a host that lost its lease cannot overwrite the new holder's
 * checkpoint. When the stage finishes, its final directory is recorded too (a host that dies between storing and
 * completing costs the next one nothing); a stage handed back on shutdown uploads its latest checkpoint first.
 *
 * <p>Before a stage runs, a checkpoint recorded for it that this host did not upload or fetch itself (a marker file
 * {@code <job dir>/.checkpoints/<stage>} names the tree) replaces the local directory, and the stage resumes from it
 * through its own checkpoint logic (teacher shards, EMS grid points, training checkpoints). Framework-free.
 */
public final class CheckpointSync {

    private static final Logger LOG = Logger.getLogger(CheckpointSync.class);

    /** Told of every recorded upload and every restore (metrics). */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void uploaded(int files, long bytes, long nanos) {
        }

        default void restored(int files, long bytes, long nanos) {
        }
    }

    private final SharedArtifacts artifacts;
    private final DataSource ds;
    private final boolean upload;
    private final Duration interval;
    private Listener listener = Listener.NONE;

    /** Sets the listener (before use). */
    public CheckpointSync listener(Listener l) {
        this.listener = l;
        return this;
    }

    public CheckpointSync(SharedArtifacts artifacts, DataSource ds, boolean upload, Duration interval) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("solvertune.artifacts.checkpoints.interval: must be >= 0, got "
                    + interval);
        }
        this.artifacts = artifacts;
        this.ds = ds;
        this.upload = upload;
        this.interval = interval;
    }

    /** Whether a file belongs in a checkpoint (not a temporary of an atomic write or fetch). */
    static boolean include(Path file) {
        String n = file.getFileName().toString();
        return !(n.endsWith(".tmp") || n.endsWith(".part") || n.endsWith(".fetch"));
    }

    /** A recorded checkpoint. */
    record Recorded(String tree, int attempt, String uploadedBy, int files, long bytes, boolean fin) {
    }

    /** The checkpoint recorded for a stage, if any. */
    Recorded recorded(long jobId, String stage) throws IOException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT tree_sha256, "
                + "attempt, uploaded_by, files, size_bytes, final FROM stage_checkpoints WHERE job_id = ? AND stage = ?")) {
            ps.setLong(1, jobId);
            ps.setString(2, stage);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Recorded(rs.getString(1).trim(), rs.getInt(2), rs.getString(3), rs.getInt(4),
                        rs.getLong(5), rs.getBoolean(6)) : null;
            }
        } catch (SQLException e) {
            throw new IOException("stage_checkpoints: " + e.getMessage(), e);
        }
    }

    /**
     * Before a stage runs: fetches the checkpoint recorded for it unless this host's copy is that one, and returns
     * the context to run the stage with (it uploads the stage's checkpoints).
     *
     * @param jobDir the job's directory on this host; the stage's is {@code jobDir/<stage>}
     */
    public Run begin(StageContext ctx, Path jobDir) throws IOException {
        String stage = ctx.stage().name();
        Path dir = jobDir.resolve(stage);
        Path marker = jobDir.resolve(".checkpoints").resolve(stage);
        Recorded r = recorded(ctx.jobId(), stage);
        if (r != null) {
            String local = Files.isRegularFile(marker) ? Files.readString(marker, StandardCharsets.UTF_8) : null;
            if (!r.tree().equals(local)) {
                long t0 = System.nanoTime();
                // fetched beside the directory first: a failed fetch leaves this host's copy as it was
                Path fetched = dir.resolveSibling(dir.getFileName() + ".checkpoint-fetch");
                wipe(fetched);
                Files.createDirectories(fetched);
                List<String> written = artifacts.fetchTree(r.tree(), fetched);
                wipe(dir);
                Files.createDirectories(dir.getParent());
                Files.move(fetched, dir, StandardCopyOption.ATOMIC_MOVE);
                writeMarker(marker, r.tree());
                listener.restored(written.size(), r.bytes(), System.nanoTime() - t0);
                String msg = String.format(java.util.Locale.ROOT, "%s: resuming from the %scheckpoint uploaded by %s "
                        + "(attempt %d, %d file(s), %d bytes, fetched from %s in %d ms)", stage,
                        r.fin() ? "finished stage's " : "", r.uploadedBy(), r.attempt(), written.size(), r.bytes(),
                        artifacts.store().name(), (System.nanoTime() - t0) / 1_000_000);
                LOG.infof("job %d %s", ctx.jobId(), msg);
                ctx.log("INFO", msg);
            }
        }
        String[] lease = upload ? lease(ctx.jobId(), stage) : null;
        return new Run(ctx, dir, marker, lease == null ? null : lease[0], lease == null ? 0 : Integer.parseInt(lease[1]));
    }

    /** {owner, attempts} of the stage's lease, or null if it is not running under one. */
    private String[] lease(long jobId, String stage) throws IOException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT lease_owner, attempts "
                + "FROM job_stages WHERE job_id = ? AND name = ? AND state = ?")) {
            ps.setLong(1, jobId);
            ps.setString(2, stage);
            ps.setString(3, StageState.RUNNING.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(1) != null ? new String[] {rs.getString(1),
                        Integer.toString(rs.getInt(2))} : null;
            }
        } catch (SQLException e) {
            throw new IOException("job_stages: " + e.getMessage(), e);
        }
    }

    static void wipe(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void writeMarker(Path marker, String tree) throws IOException {
        Files.createDirectories(marker.getParent());
        Path tmp = marker.resolveSibling(marker.getFileName() + ".tmp"); // stage names may contain "/"
        Files.writeString(tmp, tree, StandardCharsets.UTF_8);
        Files.move(tmp, marker, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A stage's run: the context the stage sees, uploading its checkpoints at consistent points. */
    public final class Run extends StageContext.Forwarding {
        private final StageContext ctx;
        private final Path dir;
        private final Path marker;
        private final String owner;
        private final int attempt;
        private final Thread thread = Thread.currentThread();
        private final SharedArtifacts.DigestCache digests = new SharedArtifacts.DigestCache();
        private long last = System.nanoTime();
        private List<String> lastFiles = List.of();
        private boolean warned;
        private int uploads;

        Run(StageContext ctx, Path dir, Path marker, String owner, int attempt) {
            super(ctx);
            this.ctx = ctx;
            this.dir = dir;
            this.marker = marker;
            this.owner = owner;
            this.attempt = attempt;
        }

        /** Checkpoint uploads recorded by this run. */
        public int uploads() {
            return uploads;
        }

        /** Digests of the stage's files seen so far (the final store reuses them). */
        public SharedArtifacts.DigestCache digests() {
            return digests;
        }

        /** A consistent point: uploads if the interval passed and the files changed. */
        private void checkpoint() {
            if (owner == null || Thread.currentThread() != thread || ctx.cancelled()
                    || System.nanoTime() - last < interval.toNanos()) {
                return;
            }
            uploadIfChanged();
        }

        /** Uploads the latest checkpoint now (a stage handed back on shutdown). */
        public void flush() {
            if (owner != null) {
                uploadIfChanged();
            }
        }

        private void uploadIfChanged() {
            try {
                if (!Files.isDirectory(dir)) {
                    return;
                }
                List<String> files = fingerprint();
                if (files.equals(lastFiles)) {
                    return;
                }
                long t0 = System.nanoTime();
                SharedArtifacts.Tree tree = artifacts.putTree(dir, CheckpointSync::include, digests);
                last = System.nanoTime();
                lastFiles = files;
                if (record(tree, false)) {
                    uploads++;
                    listener.uploaded(tree.files(), tree.bytes(), System.nanoTime() - t0);
                    LOG.debugf("job %d stage %s: checkpoint uploaded (%d file(s), %d bytes, tree %s)", ctx.jobId(),
                            ctx.stage().name(), tree.files(), tree.bytes(), tree.sha256());
                }
            } catch (IOException | RuntimeException e) {
                last = System.nanoTime(); // try again after the interval, the stage goes on meanwhile
                LOG.warnf("job %d stage %s: checkpoint upload failed: %s", ctx.jobId(), ctx.stage().name(), e);
                if (!warned) {
                    warned = true;
                    ctx.log("WARN", ctx.stage().name() + ": checkpoint upload failed (" + e.getMessage()
                            + "); the stage goes on, another host would resume from an older checkpoint");
                }
            }
        }

        /** Paths, sizes and modification times of the checkpoint's files. */
        private List<String> fingerprint() throws IOException {
            List<String> out = new ArrayList<>();
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(Files::isRegularFile).filter(CheckpointSync::include).sorted().toList()) {
                    out.add(dir.relativize(p) + "\t" + Files.size(p) + "\t" + Files.getLastModifiedTime(p).toMillis());
                }
            }
            return out;
        }

        /** After the stage succeeded and its directory was stored as {@code tree}: records it as the last checkpoint. */
        public void finished(SharedArtifacts.Tree tree) throws IOException {
            if (owner != null) {
                record(tree, true);
            }
        }

        /** Records the tree if this worker still holds the lease; whether it did. */
        private boolean record(SharedArtifacts.Tree tree, boolean fin) throws IOException {
            int n;
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                    + "stage_checkpoints (job_id, stage, attempt, tree_sha256, files, size_bytes, final, uploaded_by) "
                    + "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM job_stages WHERE job_id = ? "
                    + "AND name = ? AND state = ? AND lease_owner = ?) ON CONFLICT (job_id, stage) DO UPDATE SET "
                    + "attempt = excluded.attempt, tree_sha256 = excluded.tree_sha256, files = excluded.files, "
                    + "size_bytes = excluded.size_bytes, final = excluded.final, uploaded_by = excluded.uploaded_by, "
                    + "created_at = now()")) {
                ps.setLong(1, ctx.jobId());
                ps.setString(2, ctx.stage().name());
                ps.setInt(3, attempt);
                ps.setString(4, tree.sha256());
                ps.setInt(5, tree.files());
                ps.setLong(6, tree.bytes());
                ps.setBoolean(7, fin);
                ps.setString(8, owner);
                ps.setLong(9, ctx.jobId());
                ps.setString(10, ctx.stage().name());
                ps.setString(11, StageState.RUNNING.name());
                ps.setString(12, owner);
                n = ps.executeUpdate();
            } catch (SQLException e) {
                throw new IOException("stage_checkpoints: " + e.getMessage(), e);
            }
            if (n > 0) {
                writeMarker(marker, tree.sha256());
            }
            return n > 0;
        }

        @Override
        public void progress(long done, long total, String message) {
            ctx.progress(done, total, message);
            checkpoint();
        }

        @Override
        public void checkpointCommitted() {
            checkpoint();
            ctx.checkpointCommitted();
        }
    }
}
