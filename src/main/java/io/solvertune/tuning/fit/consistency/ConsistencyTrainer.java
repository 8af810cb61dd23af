package io.solvertune.tuning.fit.consistency;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains ConsistencySolver's coefficient network by reinforcement learning on DJL, as the reference
 * ({@code train_ppo.py}) does, on a CPU budget: per iteration an NFE is drawn from [minNfe, maxNfe] (with explicit
 * grids, {@link #withGrids}: among the NFEs there that have one), {@code noises}
 * training noises are drawn, and for each noise {@code group} rollouts sample their coefficients from the policy (one
 * extra row per noise runs the neutral coefficients, plain DDIM, to report progress on a scale shared by every NFE).
 * The reward of a rollout is minus the MSE of its final state to the teacher's final state for the same noise; the
 * advantages are normalised within each group ({@code (r - mean)/std x advantageScale}, GRPO, no value network), every
 * step of a rollout gets its rollout's advantage, and the policy is updated by the PPO clipped objective with an
 * entropy bonus, through DJL autograd ({@link GradientCollector}), global-norm gradient clipping and Adam.
 *
 * <p>Deterministic given the seed: every iteration draws from its own generator derived from (seed, iteration), so a
 * run resumed from a checkpoint continues exactly as an uninterrupted one. A checkpoint (network, Adam moments,
 * reward curve, settings) is written atomically every {@code checkpointEvery} iterations and at the end.
 */
public final class ConsistencyTrainer {

    /**
     * One point of the reward curve: the iteration's mean reward (RL: of the sampled rollouts; DIRECT: minus the
     * loss) and the mean over its noises of each noise's MSE divided by plain DDIM's on the same noise and grid.
     */
    public record CurvePoint(int iteration, int nfe, double reward, double ratioToNeutral) {
    }

    /**
     * The saved training state; {@code selection} and {@code selected} only with {@link #withSelection} (absent from
     * the checkpoints of a run without it, and of runs before it existed).
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record Checkpoint(String settings, int iteration, double[][] params, double[][] adamM, double[][] adamV,
                             long adamT, List<CurvePoint> curve, double seconds, List<SelectionPoint> selection,
                             List<Snapshot> selected) {
    }

    /**
     * Scores a deterministic table on the selection rows (training rows the reward never sees): its mean final-state
     * MSE to the teacher. Must be deterministic, or a resumed run would choose another snapshot.
     */
    @FunctionalInterface
    public interface SelectionScorer {
        double score(CoefficientSet set, int nfe);
    }

    /**
     * Checkpoint selection: every {@code every} iterations (and after the last) the policy's deterministic table is
     * materialised at each of {@code nfes} in each of {@code modes} and scored on the selection rows; per NFE the
     * snapshot (and mode) with the lowest score is kept and published instead of the last iteration's.
     *
     * @param every  iterations between scored snapshots, >= 1, at most {@link #MAX_SNAPSHOTS} snapshots per run
     * @param nfes   the NFEs scored (each >= 2)
     * @param modes  inference modes scored per NFE (the lower kept)
     * @param rows   which rows the scorer uses (e.g. {@code "256:512"}), part of the settings a checkpoint must match
     * @param scorer the selection-row score
     */
    public record Selection(int every, int[] nfes, List<Policy.Inference> modes, String rows, SelectionScorer scorer) {
        public Selection {
            if (every < 1) {
                throw new IllegalArgumentException("selectEvery: must be >= 1, got " + every);
            }
            if (nfes == null || nfes.length == 0) {
                throw new IllegalArgumentException("selectEvery: no NFE to score the snapshots at");
            }
            for (int n : nfes) {
                if (n < 2) {
                    throw new IllegalArgumentException("selectEvery: NFE " + n + " has no learned coefficient");
                }
            }
            if (modes == null || modes.isEmpty() || scorer == null) {
                throw new IllegalArgumentException("selectEvery: modes and a scorer are required");
            }
            nfes = nfes.clone();
            modes = List.copyOf(modes);
        }
    }

    /** Most snapshots one run may score ({@code ceil(iterations / every)}). */
    public static final int MAX_SNAPSHOTS = 200;

    /** The snapshots a run of {@code iterations} scores at interval {@code every}. */
    public static int snapshots(int iterations, int every) {
        return (iterations + every - 1) / every;
    }

    /** One snapshot's selection-row score at one NFE in one inference mode. */
    public record SelectionPoint(int iteration, int nfe, String inference, double mse) {
    }

    /** The best snapshot so far at one NFE: its iteration, mode, selection-row score and network parameters. */
    public record Snapshot(int nfe, int iteration, String inference, double mse, double[][] params) {
    }

    /** How the network is trained. */
    public enum Mode {
        /** Reinforcement learning (GRPO advantages, PPO clip): needs no gradient of the model. */
        RL,
        /** Ablation: the deterministic coefficients' final-state MSE, differentiated through the unrolled solver and the
         * model by DJL autograd (only where the model is differentiable in DJL). */
        DIRECT
    }

    private final FitContext ctx;
    private final Mode mode;
    private final double[] teacherFinal;
    private final TrainerSettings st;
    private final Policy policy;
    private final PolicyNet net;
    private final Adam adam;
    private final List<CurvePoint> curve = new ArrayList<>();
    private int iteration;
    private double seconds;
    /** Checkpoint selection, or null (the last iteration's policy is the result). */
    private Selection selection;
    private final List<SelectionPoint> selectionCurve = new ArrayList<>();
    /** The best snapshot per NFE (in the order of {@code selection.nfes()}). */
    private final Map<Integer, Snapshot> selected = new java.util.TreeMap<>();
    /** Explicit grids by NFE ({@link #withGrids}), or null: the settings' spacing. */
    private java.util.TreeMap<Integer, double[]> grids;
    /** With {@link #grids}: the NFEs drawn per iteration (those with a grid in [minNfe, maxNfe]). */
    private int[] drawn;
    /** What the coefficients start from: the head is an offset added to the prior's coefficients. */
    private CoefficientPrior prior = CoefficientPrior.none();
    /** The perceptual reward term, or null (reward = -MSE). */
    private ClassifierReward classifierReward;
    /** The classifier's output for every training row's teacher final state (with {@link #classifierReward}). */
    private double[][] teacherFeatures;

    /**
     * @param ctx          the model, guidance, training noises (rows) and time range
     * @param teacherFinal the teacher's final state of every training row (row-major, {@code rows x perSample})
     * @param settings     hyperparameters
     */
    public ConsistencyTrainer(FitContext ctx, double[] teacherFinal, TrainerSettings settings) {
        this(ctx, teacherFinal, settings, Mode.RL);
    }

    /** A trainer of the given mode. */
    public ConsistencyTrainer(FitContext ctx, double[] teacherFinal, TrainerSettings settings, Mode mode) {
        this.ctx = ctx;
        this.mode = mode;
        this.st = settings;
        if (teacherFinal == null || teacherFinal.length != ctx.initial().length) {
            throw new IllegalArgumentException("teacher: expected " + ctx.initial().length + " final values (rows x "
                    + "perSample), got " + (teacherFinal == null ? "none" : teacherFinal.length));
        }
        if (st.noises() > ctx.rows()) {
            throw new IllegalArgumentException("noises: " + st.noises() + " noises per iteration but only "
                    + ctx.rows() + " training rows");
        }
        this.teacherFinal = teacherFinal.clone();
        this.policy = st.newPolicy();
        this.net = PolicyNet.init(st.inputs(), st.hidden(), policy.headSize(), policy.extra(), policy.extraInit(),
                st.seed());
        this.adam = Adam.zeros(net.params);
    }

    /**
     * Adds the classifier term to the reward ({@link ClassifierReward}: {@code -MSE + weight x cos} of the classifier's
     * outputs); RL only (the other trainers differentiate or search the MSE). Set it before {@link #resume}: it is part
     * of the settings a checkpoint must match.
     */
    public ConsistencyTrainer withClassifierReward(ClassifierReward reward) {
        if (mode != Mode.RL) {
            throw new IllegalArgumentException("classifierReward: only the RL trainer takes a classifier reward");
        }
        if (iteration > 0) {
            throw new IllegalStateException("classifierReward: set before training");
        }
        this.teacherFeatures = reward.features(teacherFinal, ctx.sampleShape(), ctx.rows());
        this.classifierReward = reward;
        return this;
    }

    /**
     * Starts the coefficients from {@code p} ({@link CoefficientPrior}): every step's coefficients are the prior's
     * (computed from the grid) plus the network's head, in training, in the tables and in the direct gradient; with
     * checkpoint selection the iteration-0 table (the prior solver itself) is scored too, so the published table is
     * never worse than the prior on the selection rows. Set it before {@link #resume}: it is part of the settings a
     * checkpoint must match.
     */
    public ConsistencyTrainer withPrior(CoefficientPrior p) {
        if (iteration > 0) {
            throw new IllegalStateException("prior: set before training");
        }
        p.check(st);
        this.prior = p;
        return this;
    }

    /** The prior the coefficients start from. */
    public CoefficientPrior prior() {
        return prior;
    }

    /**
     * Turns on checkpoint selection ({@link Selection}). Set it before {@link #resume}: it is part of the settings a
     * checkpoint must match.
     */
    public ConsistencyTrainer withSelection(Selection sel) {
        if (iteration > 0) {
            throw new IllegalStateException("selectEvery: set before training");
        }
        int n = snapshots(st.iterations(), sel.every());
        if (n > MAX_SNAPSHOTS) {
            throw new IllegalArgumentException("selectEvery: " + st.iterations() + " iterations every " + sel.every()
                    + " make " + n + " snapshots, at most " + MAX_SNAPSHOTS);
        }
        this.selection = sel;
        return this;
    }

    /**
     * Trains and materialises on explicit grids instead of the settings' spacing (e.g. learned timesteps): per NFE
     * {@code nfe + 1} times from the context's {@code tStart} to its {@code tEnd}, strictly decreasing (one step per
     * model call). Each iteration draws its NFE among those with a grid in [minNfe, maxNfe]; a table exists only at an
     * NFE with a grid, and its set carries the grid ({@code times}, spacing {@code explicit}). Set it before
     * {@link #resume}: the grids are part of the settings a checkpoint must match.
     */
    public ConsistencyTrainer withGrids(Map<Integer, double[]> byNfe) {
        if (iteration > 0) {
            throw new IllegalStateException("grids: set before training");
        }
        if (byNfe == null || byNfe.isEmpty()) {
            throw new IllegalArgumentException("grids: at least one NFE's grid is required");
        }
        java.util.TreeMap<Integer, double[]> g = new java.util.TreeMap<>();
        for (Map.Entry<Integer, double[]> e : byNfe.entrySet()) {
            int n = e.getKey();
            double[] t = e.getValue();
            if (n < 2 || n > 50) {
                throw new IllegalArgumentException("grids: NFE " + n + " must be in [2, 50]");
            }
            if (t == null || t.length != n + 1) {
                throw new IllegalArgumentException("grids: NFE " + n + " needs " + (n + 1) + " times (one step per "
                        + "model call), got " + (t == null ? "none" : t.length));
            }
            for (int i = 0; i <= n; i++) {
                if (!Double.isFinite(t[i]) || !(t[i] > 0) || i > 0 && !(t[i] < t[i - 1])) {
                    throw new IllegalArgumentException("grids: NFE " + n + ": times must be positive, finite and "
                            + "strictly decreasing; index " + i + " (" + t[i] + ") is not");
                }
            }
            if (!near(t[0], ctx.tStart()) || !near(t[n], ctx.tEnd())) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "grids: NFE %d: the grid runs from %.9g "
                        + "to %.9g, the training rows from %.9g to %.9g (a grid of another teacher?)", n, t[0], t[n],
                        ctx.tStart(), ctx.tEnd()));
            }
            g.put(n, t.clone());
        }
        int[] d = g.keySet().stream().mapToInt(Integer::intValue).filter(n -> n >= st.minNfe() && n <= st.maxNfe())
                .toArray();
        if (d.length == 0) {
            throw new IllegalArgumentException("grids: no grid's NFE " + g.keySet() + " lies in [minNfe, maxNfe] = ["
                    + st.minNfe() + ", " + st.maxNfe() + "]");
        }
        this.grids = g;
        this.drawn = d;
        return this;
    }

    private static boolean near(double a, double b) {
        return Math.abs(a - b) <= 1e-9 * Math.max(1.0, Math.abs(b));
    }

    /** The NFEs a table exists at with {@link #withGrids} (sorted), or null (any NFE of the spacing). */
    public int[] gridNfes() {
        return grids == null ? null : grids.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    /** The NFE of an iteration: uniform on [minNfe, maxNfe], or on the NFEs with a grid there. */
    private int drawNfe(SplittableRandom rng) {
        return drawn == null ? st.minNfe() + rng.nextInt(st.maxNfe() - st.minNfe() + 1)
                : drawn[rng.nextInt(drawn.length)];
    }

    /** The selection-row scores of every snapshot so far (empty without {@link #withSelection}). */
    public List<SelectionPoint> selectionCurve() {
        return List.copyOf(selectionCurve);
    }

    /** The selected snapshot at {@code nfe}, or null (no selection, or none scored). */
    public Snapshot selected(int nfe) {
        return selected.get(nfe);
    }

    /** Iterations done. */
    public int iteration() {
        return iteration;
    }

    /** The reward curve so far. */
    public List<CurvePoint> curve() {
        return List.copyOf(curve);
    }

    /** Training wall time so far (over every resumed part). */
    public double seconds() {
        return seconds;
    }

    public TrainerSettings settings() {
        return st;
    }

    /** Restores the state of {@code file} if it exists (its settings must equal these); returns whether it did. */
    public boolean resume(Path file) throws IOException {
        if (file == null || !Files.isRegularFile(file)) {
            return false;
        }
        Checkpoint c = Json.MAPPER.readValue(file.toFile(), Checkpoint.class);
        String mine = settingsKey();
        if (!mine.equals(c.settings())) {
            throw new IllegalArgumentException("checkpoint: " + file + " was written with other settings " + c.settings()
                    + ", not " + mine + " (use another checkpoint file, or the same settings)");
        }
        if (c.params().length != net.params.length) {
            throw new IllegalArgumentException("checkpoint: " + file + " holds another network");
        }
        for (int i = 0; i < net.params.length; i++) {
            if (c.params()[i].length != net.params[i].length) {
                throw new IllegalArgumentException("checkpoint: " + file + " holds another network");
            }
            System.arraycopy(c.params()[i], 0, net.params[i], 0, net.params[i].length);
            System.arraycopy(c.adamM()[i], 0, adam.m[i], 0, adam.m[i].length);
            System.arraycopy(c.adamV()[i], 0, adam.v[i], 0, adam.v[i].length);
        }
        adam.t = c.adamT();
        iteration = c.iteration();
        curve.clear();
        curve.addAll(c.curve());
        seconds = c.seconds();
        selectionCurve.clear();
        selected.clear();
        if (c.selection() != null) {
            selectionCurve.addAll(c.selection());
        }
        if (c.selected() != null) {
            for (Snapshot sn : c.selected()) {
                selected.put(sn.nfe(), sn);
            }
        }
        return true;
    }

    private String settingsKey() {
        Map<String, Object> k = new java.util.LinkedHashMap<>(st.asMap());
        k.put("mode", mode.name());
        if (classifierReward != null) {
            k.put("classifierReward", rewardSettings());
        }
        if (selection != null) {
            k.put("selection", selectionSettings());
        }
        if (grids != null) {
            Map<String, double[]> g = new java.util.LinkedHashMap<>();
            grids.forEach((n, t) -> g.put(Integer.toString(n), t));
            k.put("grids", g);
        }
        if (!prior.isNone()) {
            k.put("prior", prior.asMap());
        }
        return Json.canonical(k);
    }

    private Map<String, Object> rewardSettings() {
        Map<String, Object> r = new java.util.LinkedHashMap<>();
        r.put("classifier", classifierReward.id());
        r.put("weight", classifierReward.weight());
        r.put("features", "logits");
        return r;
    }

    private Map<String, Object> selectionSettings() {
        Map<String, Object> r = new java.util.LinkedHashMap<>();
        r.put("every", selection.every());
        r.put("nfe", selection.nfes());
        r.put("modes", selection.modes().stream().map(m -> m.name().toLowerCase(Locale.ROOT)).toList());
        r.put("rows", selection.rows());
        return r;
    }

    /** Writes the state atomically. */
    public void checkpoint(Path file) throws IOException {
        Checkpoint c = new Checkpoint(settingsKey(), iteration, net.params, adam.m, adam.v, adam.t, curve,
                seconds, selection == null ? null : selectionCurve,
                selection == null ? null : List.copyOf(selected.values()));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, Json.MAPPER.writeValueAsString(c));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Trains until {@code settings.iterations()} are done (or {@code stopAfter} more iterations, for tests that
     * simulate a kill), checkpointing to {@code checkpoint} (optional).
     */
    public void train(Path checkpoint, int stopAfter) throws IOException {
        int end = (int) Math.min(st.iterations(), (long) iteration + stopAfter);
        double running = Double.NaN;
        if (selection != null && !prior.isNone() && iteration == 0 && end > 0
                && selectionCurve.stream().noneMatch(sp -> sp.iteration() == 0)) {
            scoreSnapshot(); // the prior solver itself (the zero head)
        }
        while (iteration < end) {
            long t0 = System.nanoTime();
            CurvePoint p = mode == Mode.RL ? iterate(iteration) : iterateDirect(iteration);
            curve.add(p);
            iteration++;
            seconds += (System.nanoTime() - t0) / 1e9;
            running = Double.isNaN(running) ? p.ratioToNeutral() : 0.9 * running + 0.1 * p.ratioToNeutral();
            ctx.progress().report("consistency-train", iteration, st.iterations(), String.format(Locale.ROOT,
                    "NFE %d reward %.4g (MSE x%.3f DDIM's), running x%.3f, %.1f s", p.nfe(), p.reward(),
                    p.ratioToNeutral(), running, seconds));
            if (selection != null && (iteration % selection.every() == 0 || iteration == st.iterations())) {
                scoreSnapshot();
            }
            if (checkpoint != null && (iteration % st.checkpointEvery() == 0 || iteration == end)) {
                checkpoint(checkpoint);
            }
        }
    }

    /**
     * Scores the current policy's tables on the selection rows at every selection NFE and mode; keeps each NFE's
     * lowest (ties and NaN keep the earlier snapshot).
     */
    private void scoreSnapshot() {
        StringBuilder line = new StringBuilder();
        for (int nfe : selection.nfes()) {
            for (Policy.Inference mode : selection.modes()) {
                String name = mode.name().toLowerCase(Locale.ROOT);
                double mse = selection.scorer().score(coefficientSet(nfe, mode, null), nfe);
                selectionCurve.add(new SelectionPoint(iteration, nfe, name, mse));
                Snapshot best = selected.get(nfe);
                if (best == null ? !Double.isNaN(mse) : mse < best.mse()) {
                    selected.put(nfe, new Snapshot(nfe, iteration, name, mse, net.copy().params));
                }
            }
            Snapshot best = selected.get(nfe);
            line.append(String.format(Locale.ROOT, "%sNFE %d best %.4g @ %s", line.length() == 0 ? "" : ", ", nfe,
                    best == null ? Double.NaN : best.mse(), best == null ? "-" : best.iteration()));
        }
        ctx.progress().report("consistency-select", iteration, st.iterations(), "selection rows: " + line);
    }

    /** The generator of iteration {@code it}. */
    private SplittableRandom rng(int it) {
        return new SplittableRandom(st.seed() * 0x9E3779B97F4A7C15L + it * 0xBF58476D1CE4E5B9L + 1);
    }

    /** The grid of an {@code nfe}-step run. */
    public double[] grid(int nfe) {
        if (grids != null) {
            double[] t = grids.get(nfe);
            if (t == null) {
                throw new IllegalArgumentException("grids: no grid for NFE " + nfe + " (grids for NFE "
                        + grids.keySet() + ")");
            }
            return t.clone();
        }
        return st.spacing().times(ctx.model().schedule(), ctx.tStart(), ctx.tEnd(), nfe);
    }

    /** Network inputs of steps 1..nfe-1: the start and end times of the step mapped to [0, 1] (and NFE / maxNfe). */
    double[][] features(double[] grid) {
        int n = grid.length - 1;
        double span = ctx.tStart() - ctx.tEnd();
        double[][] f = new double[n - 1][st.inputs()];
        for (int i = 1; i < n; i++) {
            f[i - 1][0] = (grid[i] - ctx.tEnd()) / span;
            f[i - 1][1] = (grid[i + 1] - ctx.tEnd()) / span;
            if (st.nfeInput()) {
                f[i - 1][2] = n / (double) st.maxNfe();
            }
        }
        return f;
    }

    /** Free coefficients used at steps 1..nfe-1. */
    int[] used(int nfe) {
        int[] u = new int[nfe - 1];
        for (int i = 1; i < nfe; i++) {
            u[i - 1] = Consistency.columns(st.order(), i);
        }
        return u;
    }

    private CurvePoint iterate(int it) {
        SplittableRandom rng = rng(it);
        int nfe = drawNfe(rng);
        double[] grid = grid(nfe);
        double[][] feats = features(grid);
        int[] used = used(nfe);
        int[] rows = pick(rng, ctx.rows(), st.noises());
        int g = st.group();
        int per = ctx.perSample();
        int total = rows.length * (g + 1);
        try (NDManager m = NDManager.newBaseManager()) {
            double[][] head = net.head(m, feats);
            double[] extra = policy.extra() > 0 ? net.params[6] : null;
            Policy.Sampled s = policy.sample(head, extra, rows.length * g, used, rng);
            double[][] offsets = priorOffsets(grid);
            // rows: per noise, g sampled rollouts then one neutral (all-zero actions: plain DDIM)
            double[][][] actions = new double[total][][];
            double[] x0 = new double[total * per];
            double[] target = new double[total * per];
            long[] seeds = new long[total];
            for (int b = 0; b < rows.length; b++) {
                for (int r = 0; r <= g; r++) {
                    int row = b * (g + 1) + r;
                    actions[row] = r < g ? plus(offsets, s.actions()[b * g + r]) : new double[nfe - 1][policy.dims()];
                    System.arraycopy(ctx.initial(), rows[b] * per, x0, row * per, per);
                    System.arraycopy(teacherFinal, rows[b] * per, target, row * per, per);
                    seeds[row] = ctx.seeds()[rows[b]];
                }
            }
            double[][] finals = classifierReward == null ? null : new double[1][];
            double[] mse = rollout(m, grid, actions, x0, target, seeds, total, finals);
            double[] rew = new double[total];
            if (classifierReward == null) {
                for (int i = 0; i < total; i++) {
                    rew[i] = -mse[i];
                }
            } else {
                double[][] tf = new double[total][];
                for (int b = 0; b < rows.length; b++) {
                    for (int r = 0; r <= g; r++) {
                        tf[b * (g + 1) + r] = teacherFeatures[rows[b]];
                    }
                }
                rew = classifierReward.rewards(mse, finals[0], tf, ctx.sampleShape());
            }
            double[] adv = new double[rows.length * g];
            double reward = 0;
            double ratio = 0;
            for (int b = 0; b < rows.length; b++) {
                double mean = 0;
                double meanMse = 0;
                for (int r = 0; r < g; r++) {
                    mean += rew[b * (g + 1) + r];
                    meanMse += mse[b * (g + 1) + r];
                }
                mean /= g;
                meanMse /= g;
                double var = 0;
                for (int r = 0; r < g; r++) {
                    double d = rew[b * (g + 1) + r] - mean;
                    var += d * d;
                }
                double sd = Math.sqrt(var / (g - 1));
                for (int r = 0; r < g; r++) {
                    adv[b * g + r] = (rew[b * (g + 1) + r] - mean) / (sd + 1e-8) * st.advantageScale();
                }
                reward += mean;
                double neutral = mse[b * (g + 1) + g];
                ratio += meanMse / Math.max(neutral, 1e-300);
            }
            update(m, feats, used, s, adv);
            return new CurvePoint(it, nfe, reward / rows.length, ratio / rows.length);
        }
    }

    /**
     * One direct-gradient step: the deterministic (expected) coefficients of {@code noises} training rows' runs, the
     * mean final-state MSE to the teacher, its gradient through the unrolled solver and the model, Adam.
     */
    private CurvePoint iterateDirect(int it) {
        SplittableRandom rng = rng(it);
        int nfe = drawNfe(rng);
        double[] grid = grid(nfe);
        double[][] feats = features(grid);
        int[] rows = pick(rng, ctx.rows(), st.noises());
        int per = ctx.perSample();
        int b = rows.length;
        double[] x0 = new double[b * per];
        double[] target = new double[b * per];
        long[] seeds = new long[b];
        for (int r = 0; r < b; r++) {
            System.arraycopy(ctx.initial(), rows[r] * per, x0, r * per, per);
            System.arraycopy(teacherFinal, rows[r] * per, target, r * per, per);
            seeds[r] = ctx.seeds()[rows[r]];
        }
        int steps = nfe - 1;
        double[] flat = new double[steps * st.inputs()];
        for (int i = 0; i < steps; i++) {
            System.arraycopy(feats[i], 0, flat, i * st.inputs(), st.inputs());
        }
        long[] shape = shape(b);
        double loss;
        double[][] grads = new double[net.params.length][];
        try (NDManager m = NDManager.newBaseManager()) {
            ModelFunction fn = new ModelFunction(ctx.model(), ctx.guidance(),
                    ctx.guidance().rowLabels(seeds, ctx.model().numClasses()));
            double[] neutral;
            try (NDManager nm = m.newSubManager()) {
                NDArray xT = Nd.create(nm, x0, new Shape(shape), ctx.dtype());
                double[][][] zero = new double[b][steps][policy.dims()];
                neutral = Rollouts.mse(Rollouts.run(st.form(), st.order(), grid, fn, xT,
                        Rollouts.host(nm, zero, shape.length, ctx.dtype())), target);
            }
            double[] tuned;
            try (NDManager gm = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray[] p = net.arrays(gm, true);
                NDArray x = Nd.create(gm, flat, new Shape(steps, st.inputs()), DataType.FLOAT64);
                NDArray a = policy.expectedNd(gm, PolicyNet.forward(p, x));
                if (!prior.isNone()) {
                    double[][] off = priorOffsets(grid);
                    double[] flatOff = new double[steps * policy.dims()];
                    for (int i = 0; i < steps; i++) {
                        System.arraycopy(off[i], 0, flatOff, i * policy.dims(), policy.dims());
                    }
                    a = a.add(Nd.create(gm, flatOff, new Shape(steps, policy.dims()), DataType.FLOAT64));
                }
                NDArray xT = Nd.create(gm, x0, new Shape(shape), ctx.dtype());
                NDArray fin = Rollouts.run(st.form(), st.order(), grid, fn, xT, Rollouts.shared(a, ctx.dtype()));
                NDArray tgt = Nd.create(gm, target, new Shape(shape), ctx.dtype());
                NDArray l = fin.sub(tgt).square().mean().toType(DataType.FLOAT64, false);
                loss = l.getDouble();
                tuned = Rollouts.mse(fin, target);
                gc.backward(l);
                for (int i = 0; i < p.length; i++) {
                    // the Gaussian's log standard deviations take no part in the deterministic run
                    grads[i] = i == 6 ? new double[net.params[i].length] : Nd.toDoubles(p[i].getGradient());
                }
            }
            adam.step(net.params, grads, st.learningRate(), st.maxGradNorm());
            double ratio = 0;
            for (int r = 0; r < b; r++) {
                ratio += tuned[r] / Math.max(neutral[r], 1e-300);
            }
            // as the RL curve: the mean over the noises of each noise's MSE ratio to DDIM
            return new CurvePoint(it, nfe, -loss, ratio / b);
        }
    }

    /** Final-state MSE of every row to its target ({@code finals[0]}, if given: the final states). */
    private double[] rollout(NDManager m, double[] grid, double[][][] actions, double[] x0, double[] target,
                             long[] seeds, int total, double[][] finals) {
        long[] shape = shape(total);
        try (NDManager rm = m.newSubManager()) {
            NDArray xT = Nd.create(rm, x0, new Shape(shape), ctx.dtype());
            ModelFunction fn = new ModelFunction(ctx.model(), ctx.guidance(),
                    ctx.guidance().rowLabels(seeds, ctx.model().numClasses()));
            NDArray x = Rollouts.run(st.form(), st.order(), grid, fn, xT,
                    Rollouts.host(rm, actions, shape.length, ctx.dtype()));
            if (finals != null) {
                finals[0] = Nd.toDoubles(x);
            }
            return Rollouts.mse(x, target);
        }
    }

    long[] shape(int rows) {
        long[] shape = new long[ctx.sampleShape().length + 1];
        shape[0] = rows;
        System.arraycopy(ctx.sampleShape(), 0, shape, 1, ctx.sampleShape().length);
        return shape;
    }

    /** PPO epochs on one batch of rollouts. */
    private void update(NDManager m, double[][] feats, int[] used, Policy.Sampled s, double[] adv) {
        int rows = adv.length;
        int steps = used.length;
        double[] old = new double[rows * steps];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s.logProb()[r], 0, old, r * steps, steps);
        }
        double[] flat = new double[steps * st.inputs()];
        for (int i = 0; i < steps; i++) {
            System.arraycopy(feats[i], 0, flat, i * st.inputs(), st.inputs());
        }
        for (int epoch = 0; epoch < st.ppoEpochs(); epoch++) {
            double[][] grads = new double[net.params.length][];
            try (NDManager gm = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray[] p = net.arrays(gm, true);
                NDArray x = Nd.create(gm, flat, new Shape(steps, st.inputs()), DataType.FLOAT64);
                NDArray head = PolicyNet.forward(p, x);
                NDArray[] le = policy.logProbAndEntropy(gm, head, policy.extra() > 0 ? p[6] : null, s, used);
                NDArray a = Nd.create(gm, adv, new Shape(rows, 1), DataType.FLOAT64);
                NDArray ratio = le[0].sub(Nd.create(gm, old, new Shape(rows, steps), DataType.FLOAT64)).exp();
                NDArray surr = a.mul(ratio).minimum(a.mul(ratio.clip(1 - st.clip(), 1 + st.clip())));
                NDArray loss = surr.mean().neg().sub(le[1].mul(st.entropy()));
                gc.backward(loss);
                for (int i = 0; i < p.length; i++) {
                    grads[i] = Nd.toDoubles(p[i].getGradient());
                }
            }
            adam.step(net.params, grads, st.learningRate(), st.maxGradNorm());
        }
    }

    private static int[] pick(SplittableRandom rng, int n, int k) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(n - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return Arrays.copyOf(idx, k);
    }

    /** The deterministic coefficients {@code [steps][]} of an {@code nfe}-step run (row 0 empty). */
    public double[][] table(int nfe, Policy.Inference inference) {
        return table(net, nfe, inference);
    }

    private double[][] table(PolicyNet n, int nfe, Policy.Inference inference) {
        double[] grid = grid(nfe);
        double[][] values = new double[nfe][];
        values[0] = new double[0];
        if (nfe > 1) {
            try (NDManager m = NDManager.newBaseManager()) {
                double[][] a = plus(priorOffsets(grid), policy.deterministic(n.head(m, features(grid)), inference));
                for (int i = 1; i < nfe; i++) {
                    values[i] = Arrays.copyOf(a[i - 1], Consistency.columns(st.order(), i));
                }
            }
        }
        return values;
    }

    /** The prior's free coefficients of steps 1..nfe-1 on {@code grid}, {@code [nfe - 1][dims]} (zero without one). */
    double[][] priorOffsets(double[] grid) {
        return prior.offsets(st.form(), st.order(), ctx.model().schedule(), grid, policy.dims());
    }

    /** {@code p + q} elementwise ({@code q} itself when {@code p} is all zero: no prior). */
    private double[][] plus(double[][] p, double[][] q) {
        if (prior.isNone()) {
            return q;
        }
        double[][] r = new double[q.length][];
        for (int i = 0; i < q.length; i++) {
            r[i] = q[i].clone();
            for (int d = 0; d < r[i].length; d++) {
                r[i][d] += p[i][d];
            }
        }
        return r;
    }

    /** The runnable solver of the table at {@code nfe} (exact grid times). */
    public Consistency solver(int nfe, Policy.Inference inference) {
        return new Consistency(st.form(), st.order(), table(nfe, inference), grid(nfe));
    }

    /**
     * The materialised table at {@code nfe} as a coefficient set (unvalidated), with the trainer, policy,
     * hyperparameters and reward curve in its provenance.
     */
    public CoefficientSet coefficientSet(int nfe, Policy.Inference inference, Map<String, Object> extra) {
        return coefficientSet(net, nfe, inference, extra);
    }

    /**
     * The table the run publishes at {@code nfe}: with checkpoint selection the snapshot with the lowest
     * selection-row score (in its inference mode; {@code selectedIteration} and the selection-row score in the
     * provenance), else the last iteration's in {@code inference}.
     */
    public CoefficientSet selectedSet(int nfe, Policy.Inference inference, Map<String, Object> extra) {
        Snapshot sn = selection == null ? null : selected.get(nfe);
        if (sn == null) {
            return coefficientSet(nfe, inference, extra);
        }
        Map<String, Object> more = new java.util.LinkedHashMap<>();
        if (extra != null) {
            more.putAll(extra);
        }
        more.put("selectEvery", selection.every());
        more.put("selectedIteration", sn.iteration());
        more.put("selectionMse", sn.mse());
        PolicyNet n = new PolicyNet(net.in, net.hidden, net.out, net.extra, sn.params());
        return coefficientSet(n, nfe, inferenceOf(sn.inference()), more);
    }

    /** The mode of a snapshot. */
    public static Policy.Inference inferenceOf(String name) {
        return Policy.Inference.valueOf(name.toUpperCase(Locale.ROOT));
    }

    private CoefficientSet coefficientSet(PolicyNet n, int nfe, Policy.Inference inference, Map<String, Object> extra) {
        Map<String, Object> settings = new java.util.LinkedHashMap<>();
        settings.put("trainer", mode == Mode.RL ? "rl-grpo-ppo" : "direct-gradient-adam");
        settings.put("policyId", policy.id());
        settings.put("hyperparameters", st.asMap());
        settings.put("inference", inference.name().toLowerCase(Locale.ROOT));
        settings.put("iterationsDone", iteration);
        settings.put("rewardCurve", curve);
        if (classifierReward != null) {
            settings.put("classifierReward", rewardSettings());
        }
        if (!prior.isNone()) {
            Map<String, Object> pm = new java.util.LinkedHashMap<>(prior.asMap());
            pm.put("solver", io.solvertune.numerics.solver.consistency.MultistepPrior.solver(st.form(), prior.order())
                    .label());
            settings.put("prior", pm);
        }
        if (extra != null) {
            settings.putAll(extra);
        }
        CoefficientSet.FitReport report = new CoefficientSet.FitReport(ctx.rows(), null, null, null, seconds,
                List.of());
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.CONSISTENCY,
                st.form().base(st.order()), grids != null ? new io.solvertune.numerics.schedule.TimestepSpacing.Explicit(
                        grid(nfe)) : st.spacing(), nfe, nfe, grid(nfe), Consistency.columnNames(st.order()),
                table(n, nfe, inference), report, null, ctx.provenanceWith(settings));
    }

    /** Network parameters (a copy), for tests and the ablations. */
    double[][] params() {
        return net.copy().params;
    }

    PolicyNet net() {
        return net;
    }

    Policy policy() {
        return policy;
    }

    FitContext context() {
        return ctx;
    }

    double[] teacherFinal() {
        return teacherFinal;
    }

    NoiseSchedule schedule() {
        return ctx.model().schedule();
    }
}
