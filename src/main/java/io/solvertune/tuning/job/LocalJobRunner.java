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
        List<PlannedStage> plan = planner.plan(spec);
        Files.createDirectories(workDir);
        Map<String, JsonNode> outputs = new HashMap<>();
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
            last = ex.execute(new Context(jobId, spec, stage, model, workDir, Map.copyOf(deps), listener, cancelled));
            outputs.put(stage.name(), last);
            listener.stageFinished(stage, i + 1, plan.size(), (System.nanoTime() - t0) / 1e9);
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

    /** The local stage context. */
    private record Context(long jobId, JsonNode jobSpec, PlannedStage stage, ResolvedModel model, Path workDir,
                           Map<String, JsonNode> dependencyOutputs, Listener listener, BooleanSupplier stop)
            implements StageContext {
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
