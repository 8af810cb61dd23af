package io.solvertune.service.jobs.testing;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.tuning.job.TuningStages;
import io.solvertune.tuning.publish.CandidateFile;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigMetrics;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.tuning.job.JobPlanner;
import io.solvertune.tuning.job.PlannedStage;
import io.solvertune.tuning.job.StageContext;
import io.solvertune.tuning.job.StageExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Deterministic test planner and executors (no numerics): {@code shards} shard stages → {@code fit} → {@code validate}
 * → optional {@code publish}. Values derive from the spec's seed only, so an interrupted run must publish exactly
 * what an uninterrupted one publishes. Spec: {@code {"model": .., "seed": 7, "shards": 3, "steps": 5,
 * "stepMillis": 20, "publish": true, "failStage": "fit", "failKey": "k"}} ({@code failStage} throws while {@link #FAILING}
 * holds the failKey).
 */
public final class TestStages {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Stage executions in this JVM: "jobId/stage" → number of runs started. */
    public static final Map<String, Integer> RUNS = new ConcurrentHashMap<>();
    /** "jobId/stage" → [start, end] nanoTime of the last successful run in this JVM. */
    public static final Map<String, long[]> TIMES = new ConcurrentHashMap<>();
    /** "jobId/stage" of runs that saw cancelled() and stopped. */
    public static final Set<String> CANCELLED = ConcurrentHashMap.newKeySet();
    /** Values of the spec's "failKey" for which its "failStage" throws. */
    public static final Set<String> FAILING = ConcurrentHashMap.newKeySet();

    private TestStages() {
    }

    /** The test planner. */
    public static final class Planner implements JobPlanner {
        @Override
        public List<PlannedStage> plan(JsonNode spec) {
            int shards = intField(spec, "shards", 1, 50, 2);
            int steps = intField(spec, "steps", 1, 10_000, 3);
            int stepMillis = intField(spec, "stepMillis", 0, 10_000, 10);
            if (spec.has("seed") && !spec.get("seed").isIntegralNumber()) {
                throw new IllegalArgumentException("seed: expected an integer");
            }
            List<PlannedStage> plan = new ArrayList<>();
            List<String> shardNames = new ArrayList<>();
            for (int i = 0; i < shards; i++) {
                String name = String.format("shard-%03d", i);
                shardNames.add(name);
                plan.add(new PlannedStage(name, "test-shard", List.of(),
                        JSON.createObjectNode().put("index", i).put("steps", steps).put("stepMillis", stepMillis)));
            }
            plan.add(new PlannedStage("fit", "test-fit", shardNames, JSON.createObjectNode()));
            plan.add(new PlannedStage("validate", "test-validate", List.of("fit"), JSON.createObjectNode()));
            if (spec.path("publish").asBoolean(false)) {
                plan.add(new PlannedStage("publish", TuningStages.PUBLISH, List.of("validate"),
                        JSON.createObjectNode()));
            }
            return plan;
        }

        private static int intField(JsonNode spec, String field, int min, int max, int dflt) {
            JsonNode n = spec.get(field);
            if (n == null) {
                return dflt;
            }
            if (!n.isIntegralNumber() || n.asInt() < min || n.asInt() > max) {
                throw new IllegalArgumentException(field + ": expected an integer in " + min + ".." + max);
            }
            return n.asInt();
        }
    }

    /** Base: bookkeeping, cancellation, failure injection. */
    abstract static class Base implements StageExecutor {
        @Override
        public final JsonNode execute(StageContext ctx) throws Exception {
            String key = ctx.jobId() + "/" + ctx.stage().name();
            RUNS.merge(key, 1, Integer::sum);
            long start = System.nanoTime();
            if (ctx.stage().name().equals(ctx.jobSpec().path("failStage").asText()) && FAILING.contains(ctx.jobSpec().path("failKey").asText())) {
                throw new IllegalStateException("injected failure of " + ctx.stage().name());
            }
            JsonNode out;
            try {
                out = run(ctx, ctx.jobSpec().path("seed").asLong(1));
            } catch (CancellationException e) {
                CANCELLED.add(key);
                throw e;
            }
            TIMES.put(key, new long[] {start, System.nanoTime()});
            return out;
        }

        abstract JsonNode run(StageContext ctx, long seed) throws Exception;
    }

    /** Work in steps (progress, cancellation) with a checkpoint file per step: resumes where a killed run stopped. */
    public static final class Shard extends Base {
        @Override
        JsonNode run(StageContext ctx, long seed) throws Exception {
            JsonNode p = ctx.stage().params();
            int index = p.get("index").asInt();
            int steps = p.get("steps").asInt();
            long stepMillis = p.get("stepMillis").asLong();
            Path dir = ctx.workDir().resolve(ctx.stage().name());
            Files.createDirectories(dir);
            Path checkpoint = dir.resolve("checkpoint");
            int first = Files.exists(checkpoint)
                    ? Integer.parseInt(Files.readString(checkpoint, StandardCharsets.UTF_8).strip()) : 0;
            if (first > 0) {
                ctx.log("INFO", "resuming " + ctx.stage().name() + " at step " + first);
            }
            for (int s = first; s < steps; s++) {
                if (ctx.cancelled()) {
                    throw new CancellationException("cancelled");
                }
                Thread.sleep(stepMillis);
                Path tmp = dir.resolve("checkpoint.tmp");
                Files.writeString(tmp, Integer.toString(s + 1), StandardCharsets.UTF_8);
                Files.move(tmp, checkpoint, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                ctx.progress(s + 1, steps, "step " + (s + 1) + "/" + steps);
            }
            ctx.log("INFO", ctx.stage().name() + " done");
            double value = ((seed * 31 + index) % 97) / 7.0 + index;
            return JSON.createObjectNode().put("index", index).put("value", value);
        }
    }

    /** Sums the shard values. */
    public static final class Fit extends Base {
        @Override
        JsonNode run(StageContext ctx, long seed) {
            List<String> names = new ArrayList<>(ctx.dependencyOutputs().keySet());
            Collections.sort(names);
            double sum = 0;
            ArrayNode used = JSON.createArrayNode();
            for (String n : names) {
                sum += ctx.dependencyOutputs().get(n).get("value").asDouble();
                used.add(n);
            }
            return JSON.createObjectNode().put("sum", sum).set("shards", used);
        }
    }

    /** A deterministic "held-out error" from the fit. */
    public static final class Validate extends Base {
        @Override
        JsonNode run(StageContext ctx, long seed) {
            double sum = ctx.dependencyOutputs().get("fit").get("sum").asDouble();
            return JSON.createObjectNode().put("sum", sum).put("mse", 1.0 / (1.0 + sum));
        }
    }

    /** Config candidates: one validated per NFE 5 and 8, one unvalidated (typed, through the candidates file). */
    public static final class Publish extends Base {
        @Override
        JsonNode run(StageContext ctx, long seed) throws Exception {
            JsonNode v = ctx.dependencyOutputs().get("validate");
            List<ConfigCandidate> out = new ArrayList<>();
            for (int nfe : new int[] {5, 8}) {
                out.add(candidate(ctx, v, nfe, true, seed));
            }
            out.add(candidate(ctx, v, 10, false, seed));
            Path dir = ctx.workDir().resolve(ctx.stage().name());
            Files.createDirectories(dir);
            Path file = dir.resolve("candidates.json");
            Files.write(file, CandidateFile.bytes(out));
            return CandidateFile.output(ctx.stage().name() + "/candidates.json",
                    CanonicalJson.sha256(Files.readAllBytes(file)), out);
        }

        private static ConfigCandidate candidate(StageContext ctx, JsonNode v, int nfe, boolean validated,
                                                 long seed) {
            // a valid baseline value whose grid depends on the upstream stages' outputs (so equal runs give equal
            // configs and a different upstream result would show)
            double p = 1.0 + 0.5 * (Math.abs(v.get("sum").asDouble()) % 1.0);
            double[] times = new double[nfe + 1];
            for (int i = 0; i <= nfe; i++) {
                times[i] = Math.exp(Math.log(1e-3) * Math.pow((double) i / nfe, p));
            }
            io.solvertune.tuning.eval.Candidate cand = io.solvertune.tuning.eval.Candidate.of(
                    io.solvertune.numerics.solver.dpm.DpmSolver.plusPlusMultistep(2),
                    new io.solvertune.numerics.schedule.TimestepSpacing.LogSnr());
            double mse = v.get("mse").asDouble() / nfe;
            ConfigProvenance prov = new ConfigProvenance(null, null, null, ctx.model().contentHash(), null, null,
                    null, null, null, new ConfigProvenance.Seeds(new ConfigProvenance.SeedRange(seed, 1), null, null,
                    0, null, false), null, null, null, null);
            return new ConfigCandidate(0, "dc", "dpmsolver++", JSON.createObjectNode().put("order", 2), nfe, 1.0,
                    "logSNR", 1.0, 1e-3, ConfigValues.ofBaseline(cand, nfe, times), ConfigMetrics.heldOut(mse), prov,
                    validated, mse);
        }
    }

    /** kind → executor. */
    public static Map<String, StageExecutor> executors() {
        return Map.of("test-shard", new Shard(), "test-fit", new Fit(), "test-validate", new Validate(),
                TuningStages.PUBLISH, new Publish());
    }
}
