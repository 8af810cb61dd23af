package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.tuning.MethodId;
import io.solvertune.tuning.eval.SpacingName;
import io.solvertune.tuning.fit.MethodCatalog;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A tuning job as submitted (JSON, examples under {@code tuning-jobs/}). Parsing is strict: an unknown field, a wrong
 * type or an out-of-range value is an {@link IllegalArgumentException} whose message starts with the field path
 * ({@code "seeds.heldOut: must be >= 2"}).
 *
 * <pre>{@code
 * {"model": "gmm-sd-d32",                       // registry id (number) or name/preset (string)
 *  "methods": ["dpmsolver-v3", "dc", "iia-ddim"],
 *  "nfe": [5, 6, 8, 10], "guidance": [1, 7.5],
 *  "spacings": ["time_uniform", "logSNR", "time_quadratic", "karras"],   // optional: grids tried (default all)
 *  "classLabel": 3,                              // optional: one class; default per-seed classes (seed mod classes)
 *  "teacher": {"steps": 500, "recordEvery": 5, "tolerance": 1e-4, "checkSeeds": 16, "dtype": "float64"},
 *  "seeds": {"train": 512, "heldOut": 1024, "trainBase": 0, "heldOutBase": 1000000, "shardSize": 64,
 *            "fitRows": 256, "coefficientFitRows": 128},
 *  "ems": {"source": "teacher", "samples": 1024, "lMethod": "auto"},
 *  "consistency": {"iterations": 200, "policy": "gaussian", "minNfe": 4, "maxNfe": 10, ...},  // consistency-solver
 *  "batch": 64,
 *  "sampleGrids": {"seeds": 8},                  // image models: grids on the first 8 held-out seeds (0: none)
 *  "timesteps": "learned"}                       // optional: or {"mode": "learned", "evaluations": 200, ...}
 * }</pre>
 *
 * <p>Protocol (that of {@code tuning-jobs/benchmarks/*.sh}): training teacher rows {@code [0, fitRows)} are what the
 * fits see (coefficient methods the first {@code coefficientFitRows} of them, DPM-Solver-v3 statistics all of them);
 * rows {@code [fitRows, train)} choose the variant of every method and the best untuned baseline per NFE; every choice
 * is then scored on the held-out seeds, which are disjoint from the training seeds. A verdict is only worth
 * publishing with enough held-out seeds: the issue asks for at least {@value #PUBLISHABLE_HELD_OUT} (the default);
 * smaller counts are accepted for tests and quick looks.
 *
 * @param model      the registry model: {@code "name"} or id (the engine resolves it into a {@link ResolvedModel})
 * @param methods    {@code dpmsolver-v3}, {@code consistency-solver} and/or the {@link MethodCatalog} methods
 * @param nfe        model evaluations per sample, each in 1..50
 * @param guidance   classifier-free guidance scales (> 0)
 * @param spacings   timestep spacings tried by the baselines and the methods
 * @param classLabel one class for every row, or {@code null}: per-seed classes on a conditional model
 * @param batch      rows per sampling batch
 * @param consistency ConsistencySolver's training settings (null unless {@code consistency-solver} is requested)
 * @param sampleGrids the sample grids of image models
 * @param timesteps  learned timesteps ({@code "timesteps": "learned"}), or null: the named spacings only
 */
public record TuningJobSpec(JsonNode model, List<MethodId> methods, List<Integer> nfe, List<Double> guidance,
                            List<SpacingName> spacings, Integer classLabel, Teacher teacher, Seeds seeds, Ems ems,
                            int batch, ConsistencyTraining consistency,
                            SampleGrids sampleGrids, Timesteps timesteps) {

    /** Held-out seeds a publishable verdict needs (issue 5). */
    public static final int PUBLISHABLE_HELD_OUT = 1000;
    /** The DPM-Solver-v3 method's id ({@link MethodId#DPMSOLVER_V3}; kept for code that names it as a string). */
    public static final String DPM_SOLVER_V3 = MethodId.DPMSOLVER_V3.id();
    /** The ConsistencySolver method's id ({@link MethodId#CONSISTENCY_SOLVER}; trained by RL in its own stage). */
    public static final String CONSISTENCY_SOLVER = MethodId.CONSISTENCY_SOLVER.id();
    /**
     * Most rollouts ({@code iterations x noises x (group + 1)}) one ConsistencySolver training may run: each field has
     * its own bound, this bounds their product (the default settings run 13,600).
     */
    public static final long MAX_CONSISTENCY_ROLLOUTS = 10_000_000L;
    /** Spacings tried when the spec names none. */
    public static final List<SpacingName> ALL_SPACINGS = SpacingName.ALL;

    /**
     * Teacher settings: DPM-Solver++ 3M on a logSNR grid (as the benchmark scripts).
     *
     * @param steps       solver steps (default 500)
     * @param recordEvery the training teacher records every k-th grid point (default 5: K = 100 recorded intervals,
     *                    also the DPM-Solver-v3 statistics grid); the held-out teacher records only the end points
     * @param tolerance   half-step check tolerance, relative RMS of the final states (default 1e-4)
     * @param checkSeeds  seeds of the half-step check (default 16, on the first training and held-out shard)
     * @param dtype       float64 | float32, or null: the model's
     */
    public record Teacher(int steps, int recordEvery, double tolerance, int checkSeeds, Dtype dtype) {
    }

    /**
     * Seed counts and ranges.
     *
     * @param train              training seeds {@code trainBase, trainBase + 1, ...} (default 512)
     * @param heldOut            held-out seeds {@code heldOutBase, ...} (default 1024)
     * @param trainBase          first training seed (default 0)
     * @param heldOutBase        first held-out seed (default 1000000); the ranges must not overlap
     * @param shardSize          seeds per teacher stage (default 64)
     * @param fitRows            training rows the fits may use (default half of {@code train})
     * @param coefficientFitRows rows of those the coefficient methods fit on (default min(128, fitRows))
     */
    public record Seeds(int train, int heldOut, long trainBase, long heldOutBase, int shardSize, int fitRows,
                        int coefficientFitRows) {
    }

    /**
     * DPM-Solver-v3 statistics.
     *
     * @param source  teacher (the guided teacher's own states on the fit rows; default) | data (noised data samples,
     *                the paper)
     * @param samples data samples for source data (default 1024)
     * @param lMethod auto (exact for analytic mixtures, finite differences for TorchScript, else vjp) | exact | vjp | fd
     */
    public record Ems(EmsSource source, int samples, String lMethod) {
    }

    /**
     * Sample grids (teacher | best untuned baseline | every tuned result, per NFE) rendered by the pipeline for image
     * models, on the first {@code seeds} held-out seeds (default 8, at most {@value #MAX_GRID_SEEDS}; 0: no grid
     * stage).
     */
    public record SampleGrids(int seeds) {
    }

    /** Rows (seeds) of a sample grid at most. */
    public static final int MAX_GRID_SEEDS = 32;

    /**
     * Learned timesteps ({@code "timesteps": "learned"} or an object with {@code "mode": "learned"}): per NFE the grid
     * of the best untuned baseline's solver (and of the next best distinct untuned solvers, {@code variants}) is
     * learned on the first {@code seeds.coefficientFitRows} training rows by CMA-ES from its own spacing and the GITS
     * grid, and every coefficient method is also fitted on learned grids ({@code <method>+timesteps}); with
     * {@code dpmsolver-v3}, its chosen snapped setting's times are learned off the statistics grid
     * ({@code dpmsolver-v3+timesteps}); with {@code consistency-solver}, ConsistencySolver is also trained on the
     * learned grids ({@code consistency-solver+timesteps}).
     *
     * @param evaluations  CMA-ES loss evaluations per grid (default 200; each costs rows x NFE model calls)
     * @param variants     untuned solvers whose grids are learned per NFE (default 1: the best untuned baseline's)
     * @param sigma        CMA-ES initial step size in log step sizes (default 0.3)
     * @param population   CMA-ES population (default 0: {@code 4 + 3 ln(steps)})
     * @param seed         CMA-ES seed (default 0)
     * @param gitsPoints   intervals of the GITS teacher grid (default 60; 0: no GITS start)
     * @param gitsRows     fit rows the GITS costs are computed on (default min(32, coefficientFitRows))
     * @param teacherSteps fine steps of the GITS teacher solve (default 500)
     */
    public record Timesteps(int evaluations, int variants, double sigma, int population, long seed, int gitsPoints,
                            int gitsRows, int teacherSteps) {
        /** Largest {@code evaluations}. */
        public static final int MAX_EVALUATIONS = 10_000;
        /** Largest {@code variants}. */
        public static final int MAX_VARIANTS = 8;
        /** Largest {@code sigma}. */
        public static final double MAX_SIGMA = 10;
        /** Largest {@code population}. */
        public static final int MAX_POPULATION = 1000;
    }

    public TuningJobSpec {
        methods = List.copyOf(methods);
        nfe = List.copyOf(nfe);
        guidance = List.copyOf(guidance);
        spacings = List.copyOf(spacings);
    }

    /** The coefficient methods of the spec (the methods of kind COEFFICIENTS), in spec order. */
    public List<MethodId> coefficientMethods() {
        return methods.stream().filter(m -> m.kind() == MethodId.Kind.COEFFICIENTS).toList();
    }

    /** Whether ConsistencySolver is requested. */
    public boolean wantsConsistency() {
        return methods.contains(MethodId.CONSISTENCY_SOLVER);
    }

    /** Whether timesteps are learned. */
    public boolean learnsTimesteps() {
        return timesteps != null;
    }

    /** Whether DPM-Solver-v3 is requested. */
    public boolean wantsDpmSolverV3() {
        return methods.contains(MethodId.DPMSOLVER_V3);
    }

    public int[] nfeArray() {
        return nfe.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The spacings as objects (Karras with rho 7, as the baselines). */
    public List<TimestepSpacing> spacingObjects() {
        return spacings.stream().map(SpacingName::spacing).toList();
    }

    /** Whether the held-out seed count supports publishable verdicts. */
    public boolean publishableHeldOut() {
        return seeds.heldOut() >= PUBLISHABLE_HELD_OUT;
    }

    /** Parses and checks a spec against the {@link JobLimits#DEFAULTS}. */
    public static TuningJobSpec parse(JsonNode spec) {
        return parse(spec, JobLimits.DEFAULTS);
    }

    /**
     * Parses and checks a spec. Every invalid field is reported, not only the first: the
     * {@link InvalidSpecException} lists them all (at most {@value Errors#MAX} of them), each with its field path.
     */
    public static TuningJobSpec parse(JsonNode spec, JobLimits limits) {
        return parse(spec, limits, null);
    }

    /**
     * Parses and checks a spec submitted for {@code model} (null: not known): {@code classLabel} must then be one of
     * the model's classes, and {@code consistency.trainer: direct} needs a model differentiable in DJL (not a
     * TorchScript network).
     */
    public static TuningJobSpec parse(JsonNode spec, JobLimits limits, JobPlanner.Model model) {
        Errors err = new Errors();
        if (spec == null || !spec.isObject()) {
            err.add("spec", "expected a JSON object");
            throw err.exception();
        }
        Obj root = new Obj(spec, "", err);
        root.only("model", "methods", "nfe", "guidance", "spacings", "classLabel", "teacher", "seeds", "ems", "batch",
                "consistency", "sampleGrids", "timesteps");
        JsonNode modelRef = root.node.get("model");
        if (modelRef == null || modelRef.isNull()) {
            err.add("model", "required");
        } else if (!(modelRef.isTextual() && !modelRef.asText().isBlank())
                && !(modelRef.isIntegralNumber() && modelRef.canConvertToLong() && modelRef.asLong() > 0)) {
            err.add("model", "expected a model name (string) or id (positive integer)");
        }

        Set<MethodId> known = new LinkedHashSet<>();
        known.add(MethodId.DPMSOLVER_V3);
        known.add(MethodId.CONSISTENCY_SOLVER);
        known.addAll(MethodCatalog.ids());
        List<MethodId> methods = root.list("methods", known.size(), (v, f) -> {
            if (!v.isTextual()) {
                err.add(f, "expected a string, got " + v);
                return null;
            }
            String m = v.asText();
            MethodId id = MethodId.of(m);
            if (!known.contains(id)) {
                err.add(f, "unknown method '" + m + "' (known: " + String.join(", ", MethodId.ids(List.copyOf(known)))
                        + ")");
                return null;
            }
            return id;
        }, "at least one method is required");

        List<Integer> nfe = root.list("nfe", limits.maxNfeValues(), (v, f) -> {
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1 || v.intValue() > JobLimits.MAX_NFE) {
                err.add(f, "expected an integer in 1.." + JobLimits.MAX_NFE + ", got " + v);
                return null;
            }
            return v.intValue();
        }, "at least one NFE is required");

        List<Double> guidance = root.list("guidance", limits.maxGuidanceValues(), (v, f) -> {
            double g = v.isNumber() ? v.asDouble() : Double.NaN;
            if (!(g >= JobLimits.MIN_GUIDANCE && g <= limits.maxGuidance())) {
                err.add(f, "expected a number in [" + JobLimits.MIN_GUIDANCE + ", " + limits.maxGuidance()
                        + "], got " + v);
                return null;
            }
            return g;
        }, "at least one guidance scale is required");

        List<SpacingName> spacings = !root.has("spacings") ? ALL_SPACINGS : root.list("spacings",
                ALL_SPACINGS.size(), (v, f) -> {
                    SpacingName s = v.isTextual() ? SpacingName.find(v.asText()) : null;
                    if (s == null) {
                        err.add(f, (v.isTextual() ? "unknown spacing '" + v.asText() + "'" : "expected a string, got "
                                + v) + " (known: " + ALL_SPACINGS.stream().map(SpacingName::id)
                                .collect(java.util.stream.Collectors.joining(", ")) + ")");
                        return null;
                    }
                    return s;
                }, "at least one spacing is required");
        Integer classLabel = root.has("classLabel") ? root.integer("classLabel", 0, Integer.MAX_VALUE, 0) : null;
        if (classLabel != null && root.ok("classLabel") && model != null) {
            if (model.numClasses() <= 0) {
                err.add("classLabel", "model '" + model.name() + "' is unconditional (it has no classes)");
            } else if (classLabel >= model.numClasses()) {
                err.add("classLabel", "model '" + model.name() + "' has " + model.numClasses() + " classes (0.."
                        + (model.numClasses() - 1) + "), got " + classLabel);
            }
        }

        Obj t = root.object("teacher");
        t.only("steps", "recordEvery", "tolerance", "checkSeeds", "dtype");
        int steps = t.integer("steps", 2, limits.maxTeacherSteps(), 500);
        boolean stepsOk = t.ok("steps");
        int recordEvery = t.integer("recordEvery", 1, steps, Math.min(5, steps));
        double tol = t.number("tolerance", 1e-4);
        if (!(tol > 0) || !Double.isFinite(tol)) {
            err.add("teacher.tolerance", "must be a finite number > 0, got " + tol);
        }
        int checkSeeds = t.integer("checkSeeds", 0, limits.maxSeeds(), 16);
        String dtypeName = t.string("dtype", null);
        Dtype dtype = dtypeName == null ? null : Dtype.of(dtypeName);
        if (dtypeName != null && dtype == null) {
            err.add("teacher.dtype", "expected float32 or float64, got '" + dtypeName + "'");
        }
        Teacher teacher = new Teacher(steps, recordEvery, tol, checkSeeds, dtype);

        Obj s = root.object("seeds");
        s.only("train", "heldOut", "trainBase", "heldOutBase", "shardSize", "fitRows", "coefficientFitRows");
        int train = s.integer("train", 4, limits.maxSeeds(), 512);
        int heldOut = s.integer("heldOut", 2, limits.maxSeeds(), 1024);
        boolean countsOk = s.ok("train") && s.ok("heldOut");
        if (countsOk && (long) train + heldOut > limits.maxSeeds()) {
            err.add("seeds", "train + heldOut = " + ((long) train + heldOut) + " seeds, at most "
                    + limits.maxSeeds() + " per job");
        }
        long trainBase = s.longValue("trainBase", 0);
        long heldOutBase = s.longValue("heldOutBase", 1_000_000);
        boolean rangesOk = s.ok("trainBase") && s.ok("heldOutBase") && countsOk;
        if (rangesOk && !fits(trainBase, train)) {
            err.add("seeds.trainBase", "the training seeds " + trainBase + ".. would pass the largest seed "
                    + Long.MAX_VALUE);
            rangesOk = false;
        }
        if (rangesOk && !fits(heldOutBase, heldOut)) {
            err.add("seeds.heldOutBase", "the held-out seeds " + heldOutBase + ".. would pass the largest seed "
                    + Long.MAX_VALUE);
            rangesOk = false;
        }
        if (rangesOk && trainBase < heldOutBase + heldOut && heldOutBase < trainBase + train) {
            err.add("seeds.heldOutBase", "held-out seeds " + heldOutBase + ".." + (heldOutBase + heldOut - 1)
                    + " overlap the training seeds " + trainBase + ".." + (trainBase + train - 1));
        }
        int shardSize = s.integer("shardSize", 1, limits.maxSeeds(), 64);
        if (countsOk && s.ok("shardSize")) {
            int most = Math.max(train, heldOut);
            if (shards(most, shardSize) > limits.maxShardsPerSplit()) {
                err.add("seeds.shardSize", most + " seeds in shards of " + shardSize + " make "
                        + shards(most, shardSize) + " teacher stages, at most " + limits.maxShardsPerSplit()
                        + " per split: use shardSize >= " + shards(most, limits.maxShardsPerSplit()));
            }
        }
        int fitRows = s.integer("fitRows", 2, Math.max(2, train - 2), train / 2);
        int coeffRows = s.integer("coefficientFitRows", 1, Math.max(1, fitRows), Math.min(128, fitRows));
        Seeds seeds = new Seeds(train, heldOut, trainBase, heldOutBase, shardSize, fitRows, coeffRows);

        Obj e = root.object("ems");
        e.only("source", "samples", "lMethod");
        String sourceName = e.string("source", EmsSource.TEACHER.id());
        EmsSource source = EmsSource.of(sourceName);
        if (source == null) {
            err.add("ems.source", "expected teacher or data, got '" + sourceName + "'");
            source = EmsSource.TEACHER;
        }
        int samples = e.integer("samples", 2, limits.maxSeeds(), 1024);
        String lMethod = e.string("lMethod", "auto").toLowerCase(Locale.ROOT);
        if (!List.of("auto", "exact", "vjp", "fd").contains(lMethod)) {
            err.add("ems.lMethod", "expected auto, exact, vjp or fd, got '" + lMethod + "'");
        }
        boolean v3 = methods != null && methods.contains(MethodId.DPMSOLVER_V3);
        if (v3 && stepsOk && t.ok("recordEvery") && steps / recordEvery < 2) {
            err.add("teacher.recordEvery", "dpmsolver-v3 needs at least 2 recorded intervals (steps / recordEvery),"
                    + " got " + steps / recordEvery);
        } else if (v3 && stepsOk && t.ok("recordEvery") && source == EmsSource.TEACHER && steps % recordEvery != 0) {
            err.add("teacher.recordEvery", "must divide teacher.steps (" + steps + ") so that the training teacher "
                    + "records the DPM-Solver-v3 logSNR grid");
        }
        Ems ems = new Ems(source, samples, lMethod);
        int batch = root.integer("batch", 1, limits.maxBatch(), 64);
        boolean wantsConsistency = methods != null && methods.contains(MethodId.CONSISTENCY_SOLVER);
        ConsistencyTraining consistency = null;
        if (wantsConsistency) {
            consistency = ConsistencyTraining.parse(root.object("consistency"), nfe, spacings, fitRows, coeffRows);
            if (model != null && model.torchScript() && !err.has("consistency.trainer")
                    && consistency.trainer() == io.solvertune.tuning.fit.consistency.ConsistencyAblations.Trainer.DIRECT) {
                err.add("consistency.trainer", ConsistencyTraining.DIRECT_NEEDS_DJL + " (model '" + model.name()
                        + "' is a TorchScript network)");
            }
        } else if (root.has("consistency") && methods != null) {
            err.add("consistency", "set, but " + CONSISTENCY_SOLVER + " is not among the methods");
        }
        Obj sg = root.object("sampleGrids");
        sg.only("seeds");
        SampleGrids sampleGrids = new SampleGrids(sg.integer("seeds", 0, MAX_GRID_SEEDS, 8));
        Timesteps timesteps = timesteps(root, err, coeffRows, limits);
        if (err.isEmpty()) {
            TuningJobSpec parsed = new TuningJobSpec(modelRef, methods, nfe, guidance, spacings, classLabel, teacher,
                    seeds, ems, batch, consistency, sampleGrids, timesteps);
            long stages = parsed.plannedStages();
            if (stages > limits.maxStages()) {
                err.add(parsed.guidance().size() > 1 ? "guidance" : "seeds.shardSize", "the plan would have "
                        + stages + " stages (" + parsed.guidance().size() + " guidance scale(s) x "
                        + (stages - 1) / parsed.guidance().size() + " stages, + publish), at most "
                        + limits.maxStages() + ": use fewer guidance scales, methods or larger shards");
                throw err.exception();
            }
            return parsed;
        }
        throw err.exception();
    }

    /** {@code "timesteps"}: absent or "off" (null), "learned", or an object. */
    private static Timesteps timesteps(Obj root, Errors err, int rows, JobLimits limits) {
        if (!root.has("timesteps")) {
            return null;
        }
        JsonNode v = root.node.get("timesteps");
        if (v.isTextual()) {
            return switch (v.asText()) {
                case "off" -> null;
                case "learned" -> new Timesteps(200, 1, 0.3, 0, 0, 60, Math.min(32, rows), 500);
                default -> {
                    err.add("timesteps", "expected \"learned\", \"off\" or an object, got '" + v.asText() + "'");
                    yield null;
                }
            };
        }
        if (!v.isObject()) {
            err.add("timesteps", "expected \"learned\", \"off\" or an object, got " + v);
            return null;
        }
        Obj t = root.object("timesteps");
        t.only("mode", "evaluations", "variants", "sigma", "population", "seed", "gitsPoints", "gitsRows",
                "teacherSteps");
        String mode = t.string("mode", "learned");
        if (!mode.equals("learned") && !mode.equals("off")) {
            err.add("timesteps.mode", "expected learned or off, got '" + mode + "'");
        }
        int evaluations = t.integer("evaluations", 1, Timesteps.MAX_EVALUATIONS, 200);
        int variants = t.integer("variants", 1, Timesteps.MAX_VARIANTS, 1);
        double sigma = t.number("sigma", 0.3);
        if (t.ok("sigma") && !(sigma > 0 && sigma <= Timesteps.MAX_SIGMA)) {
            err.add("timesteps.sigma", "must be in (0, " + Timesteps.MAX_SIGMA + "], got " + sigma);
        }
        int population = t.integer("population", 0, Timesteps.MAX_POPULATION, 0);
        long seed = t.longValue("seed", 0);
        int points = t.integer("gitsPoints", 0, io.solvertune.tuning.fit.timesteps.GitsInitialiser.Settings.MAX_POINTS,
                60);
        if (t.ok("gitsPoints") && points == 1) {
            err.add("timesteps.gitsPoints", "must be 0 (no GITS start) or at least 2, got 1");
        }
        int gitsRows = t.integer("gitsRows", 1, Math.max(1, rows), Math.min(32, Math.max(1, rows)));
        int teacherSteps = t.integer("teacherSteps", 1, limits.maxTeacherSteps(), 500);
        if (t.ok("teacherSteps") && t.ok("gitsPoints") && points > 0 && teacherSteps < points) {
            err.add("timesteps.teacherSteps", "must be at least gitsPoints (" + points + "), got " + teacherSteps);
        }
        return "off".equals(mode) ? null : new Timesteps(evaluations, variants, sigma, population, seed, points,
                gitsRows, teacherSteps);
    }

    /**
     * The number of stages {@link TuningJobPlanner} makes of this spec: per guidance scale the teacher shards of both
     * splits, two merges, the baseline, one fit per coefficient method, two DPM-Solver-v3 stages, one
     * ConsistencySolver training and the sample grids, with learned timesteps one {@code timesteps} stage, one more
     * fit per coefficient method and (with DPM-Solver-v3) one {@code timesteps-dpmsolver-v3} stage; then publish.
     */
    public long plannedStages() {
        long perGuidance = shards(seeds.train(), seeds.shardSize()) + shards(seeds.heldOut(), seeds.shardSize()) + 2
                + 1 + coefficientMethods().size() + (wantsDpmSolverV3() ? 2 : 0) + (wantsConsistency() ? 1 : 0)
                + (sampleGrids.seeds() > 0 ? 1 : 0) + (learnsTimesteps() ? 1 + coefficientMethods().size() : 0)
                + (learnsTimesteps() && wantsDpmSolverV3() ? 1 : 0)
                + (learnsTimesteps() && wantsConsistency() ? 1 : 0);
        return guidance.size() * perGuidance + 1;
    }

    private static long shards(long seeds, long shardSize) {
        return (seeds + shardSize - 1) / shardSize;
    }

    /** Whether seeds {@code base .. base + count - 1} are all representable. */
    private static boolean fits(long base, int count) {
        try {
            Math.addExact(base, (long) count);
            return true;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    /** The errors of one parse: every field is read even after an error, so that all of them are reported. */
    static final class Errors {
        /** Errors reported at most; a spec with more is summarised. */
        static final int MAX = 50;
        private final List<InvalidSpecException.FieldError> list = new ArrayList<>();
        private final Set<String> fields = new LinkedHashSet<>();
        private int dropped;

        void add(String field, String message) {
            fields.add(field);
            if (list.size() < MAX) {
                list.add(new InvalidSpecException.FieldError(field, message));
            } else {
                dropped++;
            }
        }

        /** Whether {@code field} or something inside it was reported. */
        boolean has(String field) {
            for (String f : fields) {
                if (f.equals(field) || f.startsWith(field + ".") || f.startsWith(field + "[")) {
                    return true;
                }
            }
            return false;
        }

        boolean isEmpty() {
            return list.isEmpty();
        }

        InvalidSpecException exception() {
            List<InvalidSpecException.FieldError> out = new ArrayList<>(list);
            if (dropped > 0) {
                out.add(new InvalidSpecException.FieldError("spec", dropped + " more error(s) not shown"));
            }
            return new InvalidSpecException(out);
        }
    }

    /** A JSON object with its field path, for strict typed reads that record errors and return defaults. */
    record Obj(JsonNode node, String path, Errors err) {

        String field(String name) {
            return path.isEmpty() ? name : path + "." + name;
        }

        /** Whether the field was read without error (absent counts as fine). */
        boolean ok(String name) {
            return !err.has(field(name));
        }

        void only(String... names) {
            Set<String> allowed = Set.of(names);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!allowed.contains(f)) {
                    err.add(field(f), "unknown field (known: " + String.join(", ", names) + ")");
                }
            }
        }

        boolean has(String name) {
            return node.has(name) && !node.get(name).isNull();
        }

        /** The nested object (an empty one if absent or not an object; the latter is an error). */
        Obj object(String name) {
            JsonNode v = node.get(name);
            if (v != null && !v.isNull() && !v.isObject()) {
                err.add(field(name), "expected a JSON object");
            }
            return new Obj(v != null && v.isObject() ? v
                    : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode(), field(name), err);
        }

        /**
         * A required, non-empty array of at most {@code max} unique elements, each read by {@code element} (which
         * reports its own errors and returns null for a bad element).
         *
         * @return the good elements, or null when the field itself is missing or not an array
         */
        <T> List<T> list(String name, int max, java.util.function.BiFunction<JsonNode, String, T> element,
                         String emptyMessage) {
            String f = field(name);
            JsonNode a = node.get(name);
            if (a == null || a.isNull()) {
                err.add(f, "required");
                return null;
            }
            if (!a.isArray()) {
                err.add(f, "expected a JSON array");
                return null;
            }
            if (a.isEmpty()) {
                err.add(f, emptyMessage);
                return null;
            }
            if (a.size() > max) {
                err.add(f, "at most " + max + " values, got " + a.size());
                return null;
            }
            List<T> out = new ArrayList<>();
            Set<T> seen = new LinkedHashSet<>();
            for (int i = 0; i < a.size(); i++) {
                T v = element.apply(a.get(i), f + "[" + i + "]");
                if (v != null) {
                    if (!seen.add(v)) {
                        err.add(f + "[" + i + "]", v + " appears twice");
                    }
                    out.add(v);
                }
            }
            return out;
        }

        int integer(String name, int min, int max, int dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                err.add(field(name), "expected an integer in " + min + ".." + max + ", got " + v);
                return dflt;
            }
            int i = v.intValue();
            if (i < min || i > max) {
                err.add(field(name), "must be in " + min + ".." + max + ", got " + i);
                return dflt;
            }
            return i;
        }

        long longValue(String name, long dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                err.add(field(name), "expected a non-negative integer of at most " + Long.MAX_VALUE + ", got " + v);
                return dflt;
            }
            return v.longValue();
        }

        double number(String name, double dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isNumber()) {
                err.add(field(name), "expected a number, got " + v);
                return dflt;
            }
            return v.asDouble();
        }

        boolean bool(String name, boolean dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isBoolean()) {
                err.add(field(name), "expected true or false, got " + v);
                return dflt;
            }
            return v.booleanValue();
        }

        /** A number in {@code [min, max]} (an open end where {@code minOpen} / {@code maxOpen}). */
        double number(String name, double min, boolean minOpen, double max, boolean maxOpen, double dflt) {
            if (!has(name)) {
                return dflt;
            }
            double d = number(name, dflt);
            if (!ok(name)) {
                return dflt;
            }
            boolean lowOk = minOpen ? d > min : d >= min;
            boolean highOk = maxOpen ? d < max : d <= max;
            if (!lowOk || !highOk || !Double.isFinite(d)) {
                err.add(field(name), "must be in " + (minOpen ? "(" : "[") + min + ", " + max + (maxOpen ? ")" : "]")
                        + ", got " + node.get(name));
                return dflt;
            }
            return d;
        }

        String string(String name, String dflt) {
            if (!has(name)) {
                return dflt;
            }
            JsonNode v = node.get(name);
            if (!v.isTextual()) {
                err.add(field(name), "expected a string, got " + v);
                return dflt;
            }
            return v.asText();
        }
    }
}
