package io.solvertune.tuning.teacher;

import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.StepListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Teacher trajectories: high-accuracy reference solves from fixed seeds, batched per shard on the DJL device,
 * recording the state (and optionally the noise prediction) at a declared time grid. Work is split into shards that
 * are written atomically and skipped when a run is resumed; memory is bounded by one shard. The finished set is one
 * numpy-readable {@code trajectories.npz} plus its metadata {@code trajectories.json} (see {@link TrajectorySet}).
 */
public final class Teacher {
    static final String MANIFEST = "manifest.json";

    /** What to solve. {@code modelHash} identifies the model (spec + referenced files). */
    public record Request(Denoiser model, String modelHash, ScheduleSpec scheduleSpec, Guidance guidance, long[] seeds,
                          TeacherSettings settings) {
        public Request {
            if (seeds == null || seeds.length == 0) {
                throw new IllegalArgumentException("seeds: at least one seed is required");
            }
            long[] sorted = seeds.clone();
            Arrays.sort(sorted);
            for (int i = 1; i < sorted.length; i++) {
                if (sorted[i] == sorted[i - 1]) {
                    throw new IllegalArgumentException("seeds: seed " + sorted[i] + " appears twice");
                }
            }
        }
    }

    private Teacher() {
    }

    /**
     * Runs (or resumes) the teacher into {@code dir}; returns the finished set. A directory holding a run with other
     * settings, model or seeds is refused.
     */
    public static TrajectorySet run(Request req, Path dir, Progress progress) throws IOException {
        Files.createDirectories(dir);
        TeacherSettings st = req.settings();
        NoiseSchedule schedule = req.model().schedule();
        double tStart = st.tStart() != null ? st.tStart() : schedule.defaultTStart();
        double tEnd = st.tEnd() != null ? st.tEnd() : schedule.defaultTEnd();
        SamplerConfig cfg = st.samplerConfig(st.steps()).withTimeRange(tStart, tEnd);
        double[] grid = cfg.solver().create().grid(schedule, cfg, tStart, tEnd);
        int[] recordIdx = recordIndexes(grid.length - 1, st.recordEvery());
        double[] times = new double[recordIdx.length];
        for (int i = 0; i < recordIdx.length; i++) {
            times[i] = grid[recordIdx[i]];
        }
        long[] sampleShape = req.model().sampleShape();
        DataType dt = st.dtype().equals("float32") ? DataType.FLOAT32 : DataType.FLOAT64;
        String device = ai.djl.engine.Engine.getInstance().defaultDevice().toString();

        TrajectorySetMeta manifest = readManifest(dir);
        TrajectorySetMeta fresh = new TrajectorySetMeta(TrajectorySetMeta.FORMAT_VERSION, TrajectorySetMeta.KIND,
                req.modelHash(), req.scheduleSpec(), req.guidance(), st, req.seeds(), times, recordIdx, sampleShape,
                st.dtype(), device, CodeVersion.get(), st.recordModelOutput() ? PredictionType.NOISE.id() : null,
                null, null, List.of(), null, null, null);
        if (manifest == null) {
            manifest = fresh;
        } else {
            checkCompatible(manifest, fresh, dir);
            if (manifest.sha256() != null && Files.isRegularFile(dir.resolve(TrajectorySet.META))) {
                TrajectorySet done = TrajectorySet.open(dir);
                if (done.meta().sha256().equals(manifest.sha256())) {
                    progress.report("teacher", req.seeds().length, req.seeds().length, "already finished");
                    return done; // finished earlier: nothing to redo, the file keeps its checksum
                }
            }
        }
        List<TrajectorySetMeta.Shard> shards = new ArrayList<>(manifest.shards());
        int n = req.seeds().length;
        int shardCount = (n + st.shardSize() - 1) / st.shardSize();
        int per = perSample(sampleShape);
        for (int si = 0; si < shardCount; si++) {
            int from = si * st.shardSize();
            int to = Math.min(n, from + st.shardSize());
            TrajectorySetMeta.Shard done = find(shards, si);
            if (done != null && Files.isRegularFile(dir.resolve(done.file()))
                    && done.sha256().equals(Hashing.sha256(dir.resolve(done.file())))) {
                progress.report("teacher", to, n, "shard " + si + " already done");
                continue;
            }
            if (done != null) {
                shards.remove(done);
            }
            long[] seeds = Arrays.copyOfRange(req.seeds(), from, to);
            long t0 = System.nanoTime();
            ShardData data = solveShard(req, cfg, grid, recordIdx, seeds, per, dt, progress, from, n);
            String file = String.format("shard-%05d.npz", si);
            writeShard(dir.resolve(file), data, sampleShape, dt, st.recordModelOutput());
            double secs = (System.nanoTime() - t0) / 1e9;
            shards.add(new TrajectorySetMeta.Shard(si, from, to, file, Hashing.sha256(dir.resolve(file)), data.modelCalls, secs));
            shards.sort((a, b) -> Integer.compare(a.index(), b.index()));
            manifest = withShards(manifest, shards);
            writeManifest(dir, manifest);
            progress.report("teacher", to, n, String.format("shard %d/%d in %.1f s", si + 1, shardCount, secs));
        }
        // half-step self-check on the first seeds of shard 0 (a new tolerance re-judges the recorded figure)
        if (manifest.accuracy() != null && manifest.accuracy().tolerance() != st.accuracyTolerance()) {
            TrajectorySetMeta.Accuracy a = manifest.accuracy();
            manifest = withAccuracy(manifest, new TrajectorySetMeta.Accuracy(a.steps(), a.refinedSteps(), a.seedsChecked(),
                    a.relRmsDiff(), a.maxAbsDiff(), st.accuracyTolerance(), a.relRmsDiff() <= st.accuracyTolerance()));
            manifest = withTeacher(manifest, st);
            writeManifest(dir, manifest);
        }
        if (manifest.accuracy() == null) {
            TrajectorySetMeta.Accuracy acc = accuracyCheck(req, cfg, dir.resolve(find(shards, 0).file()), per, dt, progress);
            manifest = withAccuracy(manifest, acc);
            writeManifest(dir, manifest);
        }
        if (!manifest.accuracy().passed()) {
            throw new IllegalStateException(String.format(
                    "teacher accuracy: the half-step solve differs by a relative RMS of %.3g (tolerance %.3g); use more"
                            + " steps or a larger tolerance (results kept in %s)",
                    manifest.accuracy().relRmsDiff(), manifest.accuracy().tolerance(), dir));
        }
        long calls = 0;
        double secs = 0;
        for (TrajectorySetMeta.Shard s : shards) {
            calls += s.modelCalls();
            secs += s.seconds();
        }
        long sampleEvals = 0;
        for (TrajectorySetMeta.Shard s : shards) {
            sampleEvals += s.modelCalls() * (long) (s.to() - s.from()) * (req.guidance().needsPair() ? 2 : 1);
        }
        TrajectorySetMeta.Throughput tp = new TrajectorySetMeta.Throughput(calls, sampleEvals, secs,
                secs > 0 ? calls / secs : 0, secs > 0 ? sampleEvals / secs : 0);
        TrajectorySetMeta finalMeta = TrajectorySet.assemble(dir, manifest, tp, Instant.now().toString());
        writeManifest(dir, finalMeta);
        return TrajectorySet.open(dir);
    }

    /** Grid indexes recorded: 0, k, 2k, ... and always the last. */
    static int[] recordIndexes(int steps, int every) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < steps; i += every) {
            idx.add(i);
        }
        idx.add(steps);
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    public static int perSample(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return Math.toIntExact(p);
    }

    /** Host-side results of one shard. */
    record ShardData(long[] seeds, double[] x, double[] modelOut, long modelCalls) {
    }

    private static ShardData solveShard(Request req, SamplerConfig cfg, double[] grid, int[] recordIdx, long[] seeds,
                                        int per, DataType dt, Progress progress, int done, int total) {
        int r = recordIdx.length;
        int b = seeds.length;
        NoiseSchedule schedule = req.model().schedule();
        double scale = Seeds.noiseScale(schedule, grid[0]);
        double[] noise = Seeds.initialNoise(seeds, per, scale);
        boolean wantOut = req.settings().recordModelOutput();
        double[] x = new double[b * r * per];
        double[] out = wantOut ? new double[b * r * per] : null;
        Map<Integer, Integer> slot = new LinkedHashMap<>();
        for (int i = 0; i < r; i++) {
            slot.put(recordIdx[i], i);
        }
        ModelFunction fn = new ModelFunction(req.model(), req.guidance(),
                req.guidance().rowLabels(seeds, req.model().numClasses()));
        int steps = grid.length - 1;
        try (NDManager m = NDManager.newBaseManager()) {
            long[] shape = new long[req.model().sampleShape().length + 1];
            shape[0] = b;
            System.arraycopy(req.model().sampleShape(), 0, shape, 1, shape.length - 1);
            NDArray xT = Nd.create(m, noise, new Shape(shape), dt);
            PredictionType historyType = cfg.solver().create().historyType();
            StepListener rec = new StepListener() {
                @Override
                public void onStart(double[] g, NDArray x0) {
                    store(x, 0, Nd.toDoubles(x0), b, r, per);
                }

                @Override
                public void onStep(int index, double s, double t, NDArray xt, NDArray modelAtS) {
                    Integer k = slot.get(index + 1);
                    if (k != null) {
                        store(x, k, Nd.toDoubles(xt), b, r, per);
                    }
                    Integer ks = slot.get(index);
                    if (wantOut && ks != null && modelAtS != null) {
                        store(out, ks, toNoise(Nd.toDoubles(modelAtS), x, ks, historyType, schedule, s, b, r, per), b, r, per);
                    }
                    if ((index + 1) % 50 == 0 || index + 1 == steps) {
                        progress.report("teacher", done, total, "step " + (index + 1) + "/" + steps);
                    }
                }
            };
            SampleResult res = Sampler.sample(cfg, fn, xT, rec);
            if (wantOut) {
                // the final recorded time has no model call in the solve: one more evaluation
                try (NDArray eps = fn.eval(res.x(), grid[steps], PredictionType.NOISE)) {
                    store(out, r - 1, Nd.toDoubles(eps), b, r, per);
                }
            }
            res.x().close();
            return new ShardData(seeds, x, out, fn.nfe());
        }
    }

    /** eps = (x - alpha x0) / sigma on the host when the solver integrated the data prediction. */
    private static double[] toNoise(double[] m, double[] states, int slot, PredictionType type, NoiseSchedule s,
                                    double t, int b, int r, int per) {
        if (type == PredictionType.NOISE) {
            return m;
        }
        double a = s.alpha(t);
        double sg = s.sigma(t);
        double[] eps = new double[m.length];
        for (int i = 0; i < b; i++) {
            int base = (i * r + slot) * per;
            for (int j = 0; j < per; j++) {
                eps[i * per + j] = (states[base + j] - a * m[i * per + j]) / sg;
            }
        }
        return eps;
    }

    /** Puts batch values [b, per] into the seed-major buffer [b, r, per] at time slot k. */
    private static void store(double[] buf, int k, double[] v, int b, int r, int per) {
        for (int i = 0; i < b; i++) {
            System.arraycopy(v, i * per, buf, (i * r + k) * per, per);
        }
    }

    private static void writeShard(Path file, ShardData d, long[] sampleShape, DataType dt, boolean withOut)
            throws IOException {
        int b = d.seeds().length;
        int r = d.x().length / (b * perSample(sampleShape));
        long[] shape = new long[sampleShape.length + 2];
        shape[0] = b;
        shape[1] = r;
        System.arraycopy(sampleShape, 0, shape, 2, sampleShape.length);
        NpyArray.NpyDtype nd = dt == DataType.FLOAT32 ? NpyArray.NpyDtype.FLOAT32 : NpyArray.NpyDtype.FLOAT64;
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("seeds", NpyArray.ofLongs(d.seeds(), b));
        arrays.put("x", new NpyArray(shape, nd, d.x(), null));
        if (withOut) {
            arrays.put("model_out", new NpyArray(shape, nd, d.modelOut(), null));
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Npy.writeNpz(tmp, arrays, false);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static TrajectorySetMeta.Accuracy accuracyCheck(Request req, SamplerConfig cfg, Path shard0, int per,
                                                            DataType dt, Progress progress) throws IOException {
        TeacherSettings st = req.settings();
        Map<String, NpyArray> s0 = Npy.readNpz(shard0);
        long[] seeds0 = s0.get("seeds").longs();
        int k = Math.min(st.accuracySeeds(), seeds0.length);
        if (k == 0) {
            return new TrajectorySetMeta.Accuracy(st.steps(), 2 * st.steps(), 0, Double.NaN, Double.NaN,
                    st.accuracyTolerance(), true);
        }
        long[] seeds = Arrays.copyOf(seeds0, k);
        progress.report("teacher-check", 0, 1, "half-step check on " + k + " seeds (" + 2 * st.steps() + " steps)");
        SamplerConfig fine = st.samplerConfig(2 * st.steps()).withTimeRange(cfg.tStart(), cfg.tEnd());
        double[] fineGrid = fine.solver().create().grid(req.model().schedule(), fine, cfg.tStart(), cfg.tEnd());
        ShardData d = solveShard(req, fine, fineGrid, new int[] {0, fineGrid.length - 1}, seeds, per, dt,
                Progress.NONE, 0, 1);
        double[] coarse = s0.get("x").doubles();
        int r = (int) s0.get("x").shape()[1];
        double se = 0;
        double ss = 0;
        double maxAbs = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < per; j++) {
                double a = coarse[(i * r + r - 1) * per + j];
                double f = d.x()[(i * 2 + 1) * per + j];
                se += (a - f) * (a - f);
                ss += f * f;
                maxAbs = Math.max(maxAbs, Math.abs(a - f));
            }
        }
        double rel = Math.sqrt(se / Math.max(ss, 1e-300));
        progress.report("teacher-check", 1, 1, String.format("relative RMS difference %.3g", rel));
        return new TrajectorySetMeta.Accuracy(st.steps(), 2 * st.steps(), k, rel, maxAbs, st.accuracyTolerance(),
                rel <= st.accuracyTolerance());
    }

    private static TrajectorySetMeta.Shard find(List<TrajectorySetMeta.Shard> shards, int index) {
        for (TrajectorySetMeta.Shard s : shards) {
            if (s.index() == index) {
                return s;
            }
        }
        return null;
    }

    static TrajectorySetMeta readManifest(Path dir) throws IOException {
        Path f = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        return Json.MAPPER.readValue(f.toFile(), TrajectorySetMeta.class);
    }

    static void writeManifest(Path dir, TrajectorySetMeta meta) throws IOException {
        Path tmp = dir.resolve(MANIFEST + ".tmp");
        Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), meta);
        Files.move(tmp, dir.resolve(MANIFEST), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void checkCompatible(TrajectorySetMeta old, TrajectorySetMeta fresh, Path dir) {
        List<String> diffs = new ArrayList<>();
        if (!java.util.Objects.equals(old.modelHash(), fresh.modelHash())) {
            diffs.add("model hash");
        }
        if (!Arrays.equals(old.seeds(), fresh.seeds())) {
            diffs.add("seeds");
        }
        if (!Arrays.equals(old.times(), fresh.times())) {
            diffs.add("recorded times");
        }
        // the tolerance only judges the half-step check, it does not change the trajectories
        if (!Json.canonical(old.teacher().withAccuracy(1, old.teacher().accuracySeeds()))
                .equals(Json.canonical(fresh.teacher().withAccuracy(1, fresh.teacher().accuracySeeds())))) {
            diffs.add("teacher settings");
        }
        if (!Json.canonical(old.guidance()).equals(Json.canonical(fresh.guidance()))) {
            diffs.add("guidance");
        }
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException(dir + " holds a teacher run with different " + String.join(", ", diffs)
                    + "; use another directory");
        }
    }

    private static TrajectorySetMeta withShards(TrajectorySetMeta m, List<TrajectorySetMeta.Shard> shards) {
        return new TrajectorySetMeta(m.formatVersion(), m.kind(), m.modelHash(), m.schedule(), m.guidance(), m.teacher(),
                m.seeds(), m.times(), m.gridIndexes(), m.sampleShape(), m.dtype(), m.device(), m.codeVersion(),
                m.modelOutputType(), m.accuracy(), m.throughput(), List.copyOf(shards), m.file(), m.sha256(), m.createdAt());
    }

    private static TrajectorySetMeta withTeacher(TrajectorySetMeta m, TeacherSettings t) {
        return new TrajectorySetMeta(m.formatVersion(), m.kind(), m.modelHash(), m.schedule(), m.guidance(), t,
                m.seeds(), m.times(), m.gridIndexes(), m.sampleShape(), m.dtype(), m.device(), m.codeVersion(),
                m.modelOutputType(), m.accuracy(), m.throughput(), m.shards(), m.file(), m.sha256(), m.createdAt());
    }

    private static TrajectorySetMeta withAccuracy(TrajectorySetMeta m, TrajectorySetMeta.Accuracy a) {
        return new TrajectorySetMeta(m.formatVersion(), m.kind(), m.modelHash(), m.schedule(), m.guidance(), m.teacher(),
                m.seeds(), m.times(), m.gridIndexes(), m.sampleShape(), m.dtype(), m.device(), m.codeVersion(),
                m.modelOutputType(), a, m.throughput(), m.shards(), m.file(), m.sha256(), m.createdAt());
    }
}
