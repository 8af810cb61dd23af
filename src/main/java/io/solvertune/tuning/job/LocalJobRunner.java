package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A small sequential engine for running a tuning job without the service: plans the spec, runs the stages in plan
 * order in this thread, each with a local {@link StageContext} over one work directory. Resumable: the executors'
 * checkpoints make a rerun over the same work directory skip every finished stage (and resume the one that was
 * interrupted), so an interrupted-and-resumed run gives the same candidates as an uninterrupted one.
 *
 * <p>It also runs a plan made elsewhere ({@link #run(long, JsonNode, List, Map, ResolvedModel, Path, Listener,
 * BooleanSupplier)}): the CLI's tuning commands ({@code teacher}, {@code fit}, {@code fit-ems}) are adapters that
 * build a small plan of the pipeline's stage kinds ({@link CommandPlans}) and run it here, so their checkpoints,
 * resume and artifacts are the stages' own. Such a plan may depend on outputs it does not compute (teacher sets the
 * user gives by directory), handed in as {@code given} outputs under the stage names the plan refers to.
 */
public final class LocalJobRunner {

    /** Where the runner reports. */
    public interface Listener {
        /** A stage starts ({@code index} of {@code total}, from 1). */
        default void stageStarted(PlannedStage stage, int index, int total) {
        }

        /** A stage finished after {@code seconds}. */
        default void stageFinished(PlannedStage stage, int index, int total, double seconds) {
        }

        /**
         * A stage finished with {@code output} (its typed output's JSON, {@link StageOutputs}); {@code reused}: its
         * checkpoint verified and it was not recomputed.
         */
        default void stageOutput(PlannedStage stage, JsonNode output, boolean reused, double seconds) {
        }

        default void progress(PlannedStage stage, long done, long total, String message) {
        }

        default void log(PlannedStage stage, String level, String message) {
        }
    }

    private final JobPlanner planner;
    private final Map<String, StageExecutor> executors;

    public LocalJobRunner(JobPlanner planner, Map<String, StageExecutor> executors) {
        this.planner = Objects.requireNonNull(planner);
        this.executors = Map.copyOf(executors);
    }

    /** The tuning job's planner and executors. */
    public static LocalJobRunner tuning() {
        return new LocalJobRunner(new TuningJobPlanner(), TuningStages.executors());
    }

    /**
     * Runs (or resumes) the job; returns the output of its last stage (for tuning jobs: the candidates).
     *
     * @param cancelled polled by the stages; when it becomes true the run stops with a CancellationException
     */
    public JsonNode run(long jobId, JsonNode spec, ResolvedModel model, Path workDir, Listener listener,
                        BooleanSupplier cancelled) throws Exception {
        return run(jobId, spec, planner.plan(spec), Map.of(), model, workDir, listener, cancelled);
    }

    /**
     * Runs (or resumes) {@code plan} (stages in a topological order); returns the output of its last stage.
     *
     * @param spec  what the stages see as {@link StageContext#jobSpec()} (they read only their own parameters)
     * @param given outputs of stages outside the plan, by the names the plan's stages depend on
     */
    public JsonNode run(long jobId, JsonNode spec, List<PlannedStage> plan, Map<String, JsonNode> given,
                        ResolvedModel model, Path workDir, Listener listener, BooleanSupplier cancelled)
            throws Exception {
        Files.createDirectories(workDir);
        Map<String, JsonNode> outputs = new HashMap<>(given);
        JsonNode last = null;
        for (int i = 0; i < plan.size(); i++) {
            PlannedStage stage = plan.get(i);
            StageExecutor ex = executors.get(stage.kind());
            if (ex == null) {
                throw new IllegalStateException("no executor for stage kind '" + stage.kind() + "'");
            }
            Map<String, JsonNode> deps = new LinkedHashMap<>();
            for (String d : stage.dependsOn()) {
                JsonNode o = outputs.get(d);
                if (o == null) {
                    throw new IllegalStateException(stage.name() + ": dependency " + d + " has not run");
                }
                deps.put(d, o);
            }
            listener.stageStarted(stage, i + 1, plan.size());
            long t0 = System.nanoTime();
            Context ctx = new Context(jobId, spec, stage, model, workDir, Map.copyOf(deps), listener, cancelled,
                    new boolean[1]);
            last = ex.execute(ctx);
            outputs.put(stage.name(), last);
            double seconds = (System.nanoTime() - t0) / 1e9;
            listener.stageFinished(stage, i + 1, plan.size(), seconds);
            listener.stageOutput(stage, last, ctx.reused()[0], seconds);
        }
        return last;
    }

    /**
     * The model of a spec's {@code model} field without the registry: a preset name, or a model spec file (relative
     * to {@code baseDir}); file references inside the spec are made absolute. Local runs have model id 0.
     */
    public static ResolvedModel resolveLocal(JsonNode modelField, Path baseDir) throws IOException {
        if (modelField == null || !modelField.isTextual()) {
            throw new IllegalArgumentException("model: a local run needs a preset name or a model spec file (model ids"
                    + " need the service's registry)");
        }
        String name = modelField.asText();
        if (Presets.ALL.stream().anyMatch(p -> p.name().equals(name))) {
            ModelSpec spec = Presets.load(name);
            return new ResolvedModel(0, name, ModelHash.of(spec, Presets.baseDir()), spec);
        }
        Path file = baseDir.resolve(name).toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model: '" + name + "' is neither a preset ("
                    + String.join(", ", Presets.ALL.stream().map(Presets.Preset::name).toList())
                    + ") nor a model spec file (" + file + ")");
        }
        ModelSpec spec = ModelSpec.read(file);
        Path dir = file.getParent();
        String hash = ModelHash.of(spec, dir);
        ObjectNode tree = ModelSpec.MAPPER.valueToTree(spec);
        JsonNode m = tree.get("model");
        if (m instanceof ObjectNode mo) {
            for (String f : List.of("npz", "dir", "file")) {
                if (mo.hasNonNull(f) && mo.get(f).isTextual() && !Path.of(mo.get(f).asText()).isAbsolute()) {
                    mo.put(f, dir.resolve(mo.get(f).asText()).normalize().toString());
                }
            }
        }
        return new ResolvedModel(0, file.getFileName().toString(), hash, ResolvedModel.specOf(tree));
    }

    /** The local stage context ({@code reused}: set when the stage reports its checkpoint verified). */
    private record Context(long jobId, JsonNode jobSpec, PlannedStage stage, ResolvedModel model, Path workDir,
                           Map<String, JsonNode> dependencyOutputs, Listener listener, BooleanSupplier stop,
                           boolean[] reused)
            implements StageContext {
        @Override
        public void reusedCheckpoint() {
            reused[0] = true;
        }

        @Override
        public void progress(long done, long total, String message) {
            listener.progress(stage, done, total, message);
        }

        @Override
        public boolean cancelled() {
            return stop.getAsBoolean();
        }

        @Override
        public void log(String level, String message) {
            listener.log(stage, level, message);
        }
    }
}
