package io.solvertune.service.dashboard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.artifacts.ArtifactStore;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.service.configs.ConfigReader;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.eval.ImageGrid;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.job.ResolvedModel;
import io.solvertune.tuning.teacher.TeacherSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Sample grids of image models: for one (model, NFE, guidance), the teacher's samples, the best untuned baseline's and
 * every current tuned config's, side by side on the same seeds (rows) — the seeds of the publishing job's held-out
 * set, so the grid shows exactly what the held-out MSE was measured on. Each config runs its published document's
 * values (the same run {@code sample --config} and the Python client do); the teacher is the publishing job's held-out
 * teacher (DPM-Solver++ 3M, logSNR, its step count from the provenance). The PNG is stored content-addressed in the
 * artifact store (kind {@code sample-grid}) the first time it is asked for; later requests for the same configs are
 * answered from there.
 *
 * <p>A grid the pipeline stored is preferred: when the job that published the current best untuned baseline ran a
 * {@code sample-grids} stage for this guidance scale (image models), its PNG for this NFE (teacher | best untuned
 * baseline | every tuned result of that job, on its first held-out seeds, each run exactly as validated) is taken
 * from the job's work directory or, on another host, from the stage's tree in the shared artifact store, checked
 * against the sha256 the stage recorded and served from the artifact store ({@code source: "pipeline"}). Only where
 * no stored grid exists (configs published before the stage existed, jobs run with {@code sampleGrids.seeds: 0}) is
 * the grid rendered on request ({@code source: "rendered"}).
 */
@ApplicationScoped
public class SampleGrids {

    /** Rows of a grid (seeds). */
    public static final int SEEDS = 8;
    /** Tuned configs shown at most (columns after teacher and baseline). */
    public static final int MAX_TUNED = 6;
    /** Teacher steps at most (a grid is rendered within a request). */
    public static final int MAX_TEACHER_STEPS = 1000;
    static final String KIND = "sample-grid";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A rendered grid: its artifact, its columns (left to right) and rows (seeds). */
    public record Grid(String sha256, long sizeBytes, int nfe, double guidance, List<String> columns,
                       List<Long> columnConfigIds, List<Long> seeds, int teacherSteps, int tileWidth,
                       int tileHeight, String source, Long jobId) {
    }

    /** Where a grid came from. */
    public static final String PIPELINE = "pipeline";
    public static final String RENDERED = "rendered";

    /** Asked for a grid that cannot exist (not an image model, no configs at this NFE and guidance). */
    public static final class NoGrid extends RuntimeException {
        public NoGrid(String message) {
            super(message);
        }
    }

    @Inject
    EntityManager em;

    @Inject
    ArtifactStore artifacts;

    @Inject
    io.solvertune.service.jobs.JobEngine engine;

    @Inject
    io.solvertune.service.artifacts.SharedArtifacts shared;

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(SampleGrids.class);

    private final ConcurrentHashMap<String, CompletableFuture<Grid>> grids = new ConcurrentHashMap<>();

    /** The grid of the model's current configs at (nfe, guidance), rendered and stored on first use. */
    public Grid grid(ConfigReader.ModelRef model, int nfe, double guidance) {
        ModelSpec spec = ResolvedModel.specOf(model.spec());
        int[] declared = QuarkusTransaction.requiringNew().call(() ->
                ModelEntity.<ModelEntity>findByIdOptional(model.id()).map(e -> e.inputShape).orElse(new int[0]));
        long[] shape = java.util.Arrays.stream(declared).asLongStream().toArray();
        if (!ImageGrid.isImage(shape)) {
            throw new NoGrid("model '" + model.name() + "' has samples of shape " + java.util.Arrays.toString(shape)
                    + ", not images ([1|3, H, W]): no sample grid");
        }
        List<Object[]> rows = currentConfigs(model.id(), nfe, guidance);
        Object[] baseline = rows.stream().filter(r -> "baseline".equals(r[1])).findFirst().orElseThrow(() ->
                new NoGrid("model '" + model.name() + "' has no best untuned baseline at nfe " + nfe + ", guidance "
                        + guidance));
        Long job = baseline[3] == null ? null : ((Number) baseline[3]).longValue();
        if (job != null) {
            java.util.Optional<Grid> stored = stored(model, job, nfe, guidance, shape);
            if (stored.isPresent()) {
                return stored.get();
            }
        }
        List<Object[]> tuned = rows.stream().filter(r -> !"baseline".equals(r[1])).limit(MAX_TUNED).toList();
        StringBuilder key = new StringBuilder(model.id() + "/" + nfe + "/" + guidance + "/" + baseline[0]);
        tuned.forEach(r -> key.append(',').append(r[0]));
        CompletableFuture<Grid> mine = new CompletableFuture<>();
        CompletableFuture<Grid> f = grids.putIfAbsent(key.toString(), mine);
        if (f == null) {
            try {
                mine.complete(render(model, spec, shape, nfe, guidance, baseline, tuned));
            } catch (RuntimeException | Error e) {
                grids.remove(key.toString());
                mine.completeExceptionally(e);
            }
            f = mine;
        }
        try {
            Grid g = f.get();
            if (artifacts.path(g.sha256()).isPresent()) {
                return g;
            }
            grids.remove(key.toString(), f); // the file went away: render again
            return grid(model, nfe, guidance);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** A config's model, NFE, guidance and publishing job. */
    public record ConfigRef(long id, long modelId, int nfe, double guidance, Long jobId) {
    }

    /** The config with this id, or empty. */
    @SuppressWarnings("unchecked")
    public java.util.Optional<ConfigRef> config(long id) {
        List<Object[]> rows = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT c.model_id, "
                + "c.nfe, c.guidance, c.job_id FROM solver_configs c WHERE c.id = :id").setParameter("id", id)
                .getResultList());
        if (rows.isEmpty()) {
            return java.util.Optional.empty();
        }
        Object[] r = rows.get(0);
        return java.util.Optional.of(new ConfigRef(id, ((Number) r[0]).longValue(), ((Number) r[1]).intValue(),
                ((Number) r[2]).doubleValue(), r[3] == null ? null : ((Number) r[3]).longValue()));
    }

    /**
     * The grid of a config: the one its publishing job stored at its NFE and guidance (the config is a column of it),
     * else the grid of the model's current configs there ({@link #grid}).
     */
    public Grid grid(ConfigReader.ModelRef model, ConfigRef config) {
        if (config.jobId() != null) {
            long[] shape = QuarkusTransaction.requiringNew().call(() -> ModelEntity.<ModelEntity>findByIdOptional(
                    model.id()).map(e -> java.util.Arrays.stream(e.inputShape).asLongStream().toArray())
                    .orElse(new long[0]));
            if (ImageGrid.isImage(shape)) {
                java.util.Optional<Grid> stored = stored(model, config.jobId(), config.nfe(), config.guidance(), shape);
                if (stored.isPresent()) {
                    return stored.get();
                }
            }
        }
        return grid(model, config.nfe(), config.guidance());
    }

    /** Current (latest, stable or recommended) configs: id, method, document; baselines first, then by MSE. */
    @SuppressWarnings("unchecked")
    List<Object[]> currentConfigs(long modelId, int nfe, double guidance) {
        return QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT c.id, c.method, c.document, "
                + "c.job_id "
                + "FROM solver_configs c WHERE c.model_id = :m AND c.nfe = :n AND c.guidance = :g AND (EXISTS (SELECT "
                + "1 FROM config_aliases a WHERE a.config_id = c.id AND a.alias = 'latest') OR EXISTS (SELECT 1 FROM "
                + "config_recommendations r WHERE r.config_id = c.id)) ORDER BY (c.method <> 'baseline'), "
                + "c.held_out_mse NULLS LAST, c.id").setParameter("m", modelId).setParameter("n", nfe)
                .setParameter("g", guidance).getResultList());
    }

    private Grid render(ConfigReader.ModelRef model, ModelSpec spec, long[] shape, int nfe, double guidance,
                        Object[] baseline, List<Object[]> tuned) {
        long t0 = System.nanoTime();
        try {
            JsonNode base = JSON.readTree((String) baseline[2]);
            JsonNode prov = base.path("provenance");
            long first = prov.path("seeds").path("heldOut").path("first").asLong(1_000_000L);
            int steps = Math.min(MAX_TEACHER_STEPS, prov.path("teacher").path("heldOut").path("steps").asInt(500));
            long[] seeds = new long[SEEDS];
            for (int i = 0; i < SEEDS; i++) {
                seeds[i] = first + i;
            }
            NoiseSchedule schedule = spec.schedule().build();
            SamplerConfig baseRun = samplerConfig(base.get("values"));
            double tStart = baseRun.tStart();
            double tEnd = baseRun.tEnd();
            int per = 1;
            for (long d : shape) {
                per *= (int) d;
            }
            double[] noise = Seeds.initialNoise(seeds, per, Seeds.noiseScale(schedule, tStart));
            long[] batch = new long[shape.length + 1];
            batch[0] = SEEDS;
            System.arraycopy(shape, 0, batch, 1, shape.length);

            List<String> labels = new ArrayList<>();
            List<Long> ids = new ArrayList<>();
            List<SamplerConfig> runs = new ArrayList<>();
            labels.add(String.format(Locale.ROOT, "teacher (DPM-Solver++ 3M, %d steps)", steps));
            ids.add(null);
            runs.add(TeacherSettings.defaults().withSteps(steps, steps).samplerConfig(steps).withTimeRange(tStart, tEnd));
            labels.add("best untuned baseline: config " + baseline[0] + " (" + base.path("solver").asText() + ")");
            ids.add(((Number) baseline[0]).longValue());
            runs.add(baseRun);
            for (Object[] t : tuned) {
                JsonNode doc = JSON.readTree((String) t[2]);
                labels.add(doc.path("method").asText() + ": config " + t[0]);
                ids.add(((Number) t[0]).longValue());
                runs.add(samplerConfig(doc.get("values")));
            }
            List<double[]> columns = new ArrayList<>();
            try (Denoiser d = spec.build(Presets.baseDir()); NDManager m = NDManager.newBaseManager()) {
                Guidance g = d.numClasses() > 0 ? Guidance.perSeed(guidance) : new Guidance(null, guidance);
                for (SamplerConfig run : runs) {
                    try (NDManager sm = m.newSubManager()) {
                        NDArray xT = Nd.create(sm, noise, new Shape(batch), spec.dataType());
                        SampleResult r = Sampler.sample(run, new ModelFunction(d, g, g.rowLabels(seeds, d.numClasses())),
                                xT);
                        columns.add(Nd.toDoubles(r.x()));
                    }
                }
            }
            Path tmp = Files.createTempFile("sample-grid-", ".png");
            try {
                ImageGrid.write(tmp, columns, SEEDS, shape, 2);
                ArtifactStore.Stored s = artifacts.put(tmp, KIND);
                LOG.infof("sample grid of model %d at nfe %d, guidance %s: %d columns x %d seeds, teacher %d steps, "
                        + "rendered in %.1f s (sha256 %s)", model.id(), nfe, guidance, columns.size(), SEEDS, steps,
                        (System.nanoTime() - t0) / 1e9, s.sha256().substring(0, 12));
                List<Long> seedList = new ArrayList<>();
                for (long sd : seeds) {
                    seedList.add(sd);
                }
                return new Grid(s.sha256(), s.sizeBytes(), nfe, guidance, labels, ids, seedList, steps,
                        (int) shape[2], (int) shape[1], RENDERED, null);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The grid job {@code jobId}'s {@code sample-grids} stage stored for (nfe, guidance), put into the artifact store
     * (once per job, stage and NFE), or empty if the job has none.
     */
    java.util.Optional<Grid> stored(ConfigReader.ModelRef model, long jobId, int nfe, double guidance, long[] shape) {
        String stage = io.solvertune.tuning.job.TuningJobPlanner.guidanceLabel(guidance) + "/"
                + io.solvertune.tuning.job.StageKind.SAMPLE_GRIDS.id();
        String key = "job " + jobId + "/" + stage + "/" + nfe;
        CompletableFuture<Grid> known = grids.get(key);
        if (known != null && known.isDone() && !known.isCompletedExceptionally()
                && artifacts.path(known.join().sha256()).isPresent()) {
            return java.util.Optional.of(known.join());
        }
        @SuppressWarnings("unchecked")
        List<Object> out = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT s.output::text "
                + "FROM job_stages s WHERE s.job_id = :j AND s.name = :n AND s.state = 'SUCCEEDED'")
                .setParameter("j", jobId).setParameter("n", stage).getResultList());
        if (out.isEmpty() || out.get(0) == null) {
            return java.util.Optional.empty();
        }
        try {
            JsonNode o = JSON.readTree((String) out.get(0));
            for (JsonNode g : o.path("grids")) {
                if (g.path("nfe").asInt() != nfe) {
                    continue;
                }
                String file = g.path("file").asText();
                String sha = g.path("sha256").asText();
                Path png;
                try {
                    png = storedFile(jobId, stage, file, sha);
                } catch (java.nio.file.NoSuchFileException gone) {
                    LOG.warnf("sample grid of job %d at nfe %d: %s; rendering one instead", jobId, nfe,
                            gone.getMessage());
                    return java.util.Optional.empty();
                }
                ArtifactStore.Stored s = artifacts.put(png, KIND);
                if (!s.sha256().equals(sha)) {
                    throw new IllegalStateException("job " + jobId + " " + file + ": sha256 " + s.sha256()
                            + " differs from the recorded " + sha);
                }
                Map<String, Long> ids = jobConfigs(jobId, nfe, guidance);
                List<String> labels = new ArrayList<>();
                List<Long> columnIds = new ArrayList<>();
                for (JsonNode c : g.path("columns")) {
                    String method = c.path("method").asText();
                    String config = c.path("config").asText();
                    Long id = "teacher".equals(method) ? null : ids.get(method);
                    labels.add(switch (method) {
                        case "teacher" -> "teacher (" + config + ")";
                        case "baseline" -> "best untuned baseline: " + config + (id == null ? "" : ", config " + id);
                        default -> method + ": " + config + (id == null ? "" : ", config " + id);
                    });
                    columnIds.add(id);
                }
                List<Long> seeds = new ArrayList<>();
                o.path("seeds").forEach(x -> seeds.add(x.asLong()));
                Grid grid = new Grid(s.sha256(), s.sizeBytes(), nfe, guidance, labels, columnIds, seeds,
                        o.path("teacherSteps").asInt(), (int) shape[2], (int) shape[1], PIPELINE, jobId);
                grids.put(key, CompletableFuture.completedFuture(grid));
                LOG.debugf("sample grid of model %d at nfe %d, guidance %s: stored by job %d (%s)", model.id(), nfe,
                        guidance, jobId, file);
                return java.util.Optional.of(grid);
            }
            return java.util.Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The PNG a stage recorded: from this host's work directory if it is there with the recorded sha256, else from
     * the stage's tree in the shared artifact store.
     */
    private Path storedFile(long jobId, String stage, String file, String sha) throws IOException {
        Path local = engine.workDir().resolve("job-" + jobId).resolve(file).normalize();
        if (local.startsWith(engine.workDir().toAbsolutePath().normalize()) && Files.isRegularFile(local)
                && io.solvertune.tuning.Hashing.sha256(local).equals(sha)) {
            return local;
        }
        @SuppressWarnings("unchecked")
        List<Object> tree = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT tree_sha256 FROM "
                + "stage_artifacts WHERE job_id = :j AND stage = :s").setParameter("j", jobId).setParameter("s", stage)
                .getResultList());
        if (tree.isEmpty()) {
            throw new java.nio.file.NoSuchFileException("job " + jobId + " " + file + ": neither in the work directory "
                    + "nor in the shared artifact store");
        }
        JsonNode manifest = JSON.readTree(shared.fetch((String) tree.get(0)).toFile());
        String rel = file.startsWith(stage + "/") ? file.substring(stage.length() + 1) : file;
        for (JsonNode f : manifest.path("files")) {
            if (rel.equals(f.path("path").asText()) && sha.equals(f.path("sha256").asText())) {
                return shared.fetch(sha);
            }
        }
        throw new java.nio.file.NoSuchFileException("job " + jobId + " " + file + ": not in the stage's stored tree");
    }

    /** The configs job {@code jobId} published at (nfe, guidance), by method (the first of each). */
    @SuppressWarnings("unchecked")
    private Map<String, Long> jobConfigs(long jobId, int nfe, double guidance) {
        List<Object[]> rows = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT c.method, c.id "
                + "FROM solver_configs c WHERE c.job_id = :j AND c.nfe = :n AND c.guidance = :g ORDER BY c.id")
                .setParameter("j", jobId).setParameter("n", nfe).setParameter("g", guidance).getResultList());
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (Object[] r : rows) {
            out.putIfAbsent((String) r[0], ((Number) r[1]).longValue());
        }
        return out;
    }

    /** The run a published config's values stand for (what {@code sample --config} and the Python client do). */
    static SamplerConfig samplerConfig(JsonNode values) {
        return ConfigValues.parse(values).samplerConfig();
    }

    static String sha(String s) {
        return CanonicalJson.sha256(s);
    }
}
