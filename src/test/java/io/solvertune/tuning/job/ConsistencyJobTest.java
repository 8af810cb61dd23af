package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.consistency.ConsistencyTrainer;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny {@code consistency-solver} job on the reference mixture through the local runner: trained, materialised,
 * validated and published with its training in the provenance; cancelled in the middle of training and resumed, it
 * continues from the trainer's checkpoint and ends with the same bytes as the uninterrupted run.
 */
class ConsistencyJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['consistency-solver'], 'nfe': [5, 6],"
            + " 'guidance': [7.5], 'spacings': ['karras'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 60, 'checkSeeds': 0, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 32, 'fitRows': 16},"
            + " 'consistency': {'iterations': 6, 'noises': 2, 'group': 4, 'hidden': 8, 'minNfe': 4, 'maxNfe': 6,"
            + " 'checkpointEvery': 2, 'trainRows': 8}}";
    static final String STAGE = "g7.5/fit-consistency-solver";

    @TempDir
    Path dir;

    /** Listener collecting the log lines and progress messages. */
    static final class Lines implements LocalJobRunner.Listener {
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        final List<String> progress = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void log(PlannedStage stage, String level, String message) {
            log.add(message);
        }

        @Override
        public void progress(PlannedStage stage, long done, long total, String message) {
            progress.add(message);
        }
    }

    static JsonNode run(Path work, Lines lines, java.util.function.BooleanSupplier cancel) throws Exception {
        JsonNode spec = TuningJobSpecTest.json(SPEC);
        ResolvedModel model = LocalJobRunner.resolveLocal(spec.get("model"), Path.of("."));
        return LocalJobRunner.tuning().run(0, spec, model, work, lines, cancel);
    }

    static List<Path> trainerCheckpoints(Path stageDir) {
        if (!Files.isDirectory(stageDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(stageDir)) {
            return s.filter(f -> f.getFileName().toString().matches("trainer-[0-9a-f]{16}\\.json")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void trainsPublishesAndResumesACancelledTrainingToTheSameBytes() throws Exception {
        Path a = dir.resolve("a");
        Lines la = new Lines();
        run(a, la, () -> false);
        byte[] candidates = Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE));
        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(candidates));
        assertTrue(la.progress.stream().anyMatch(m -> m.startsWith("consistency-train: NFE ")
                && m.contains("running x")), "progress lines with the running reward");
        assertTrue(la.log.stream().anyMatch(m -> m.startsWith(STAGE + ": iteration 6/6: NFE ")), la.log.toString());

        List<ConfigCandidate> cs = cands.stream().filter(c -> c.method().equals("consistency-solver")).toList();
        assertEquals(List.of(5, 6), cs.stream().map(ConfigCandidate::nfe).toList());
        ConsistencyStage.Summary summary = ConsistencyStage.read(a.resolve(STAGE).resolve(ConsistencyStage.FILE));
        assertEquals(6, summary.iterations());
        assertEquals(6, summary.curve().size());
        // checkpoint selection (the default: 20 snapshots, here one per iteration) on the selection rows
        assertEquals(1, summary.selectEvery());
        assertEquals(12, summary.selectionCurve().size(), "6 snapshots x NFE 5 and 6");
        assertTrue(la.log.stream().anyMatch(m -> m.matches(java.util.regex.Pattern.quote(STAGE)
                + " NFE 5: snapshot of iteration [1-6] of 6 selected .*")), la.log.toString());
        for (ConfigCandidate c : cs) {
            CoefficientSet set = ((ConfigValues.Coefficients) c.values()).set();
            assertEquals(CoefficientSet.Method.CONSISTENCY, set.method());
            assertEquals(c.nfe(), set.nfe());
            assertEquals("dpmsolver", c.solver(), "the noise form's base: first-order DPM-Solver (DDIM) on eps");
            assertEquals("karras", c.spacing());
            CoefficientSet.Validation v = set.validation();
            assertEquals(12, v.seeds());
            assertEquals(v.publishable(), c.validated(), "validated = beats its own base by two paired s.e.");
            assertEquals(v.mse(), c.heldOutMse());
            assertTrue(v.baseline() != null && v.vsBaseline() != null, "compared with the best untuned baseline");
            var m = c.metrics();
            assertEquals(v.mse(), m.heldOutMse());
            assertTrue(m.heldOutMedian() > 0 && m.heldOutP99() >= m.heldOutMedian(), m.toString());
            var t = c.provenance().training();
            assertEquals("rl-grpo-ppo", t.trainer());
            assertEquals("gaussian", t.policy());
            assertEquals("expected", t.inference());
            assertEquals(6, t.iterations());
            assertEquals(6, t.rewardCurve().size());
            assertEquals(1, t.rewardCurveEvery());
            assertEquals(8, t.trainSeeds().count(), "trainRows");
            assertEquals(0, t.trainSeeds().first());
            assertEquals(4, t.hyperparameters().get("group"));
            assertEquals("karras", t.hyperparameters().get("spacing"));
            assertEquals(STAGE, c.provenance().stage());
            assertEquals(io.solvertune.numerics.CodeVersion.get(), c.provenance().codeVersion());
            for (int i = 0; i < 6; i++) {
                ConsistencyTrainer.CurvePoint p = summary.curve().get(i);
                assertEquals(p.reward(), t.rewardCurve().get(i).reward());
                assertEquals(i, t.rewardCurve().get(i).iteration());
            }
            ConsistencyStage.Result r = summary.results().stream().filter(x -> x.nfe() == c.nfe()).findFirst()
                    .orElseThrow();
            // the published snapshot is the one with the lowest selection-row MSE at this NFE (the first of equals)
            List<ConsistencyTrainer.SelectionPoint> sc = summary.selectionCurve().stream()
                    .filter(x -> x.nfe() == c.nfe()).toList();
            assertEquals(List.of(1, 2, 3, 4, 5, 6), sc.stream().map(ConsistencyTrainer.SelectionPoint::iteration)
                    .toList());
            ConsistencyTrainer.SelectionPoint min = sc.get(0);
            for (ConsistencyTrainer.SelectionPoint x : sc) {
                if (x.mse() < min.mse()) {
                    min = x;
                }
            }
            assertEquals(min.iteration(), r.selectedIteration());
            assertEquals(java.util.Map.of("expected", min.mse()), r.selection());
            assertEquals(min.mse(), m.selectMse(), "the selection-row MSE of the published snapshot");
            assertEquals(r.selectedIteration(), t.selectedIteration());
            assertEquals(1, t.selectEvery());
            assertEquals(sc.stream().map(x -> new io.solvertune.tuning.publish.ConfigProvenance.SelectionPoint(
                    x.iteration(), x.inference(), x.mse())).toList(), t.selectionCurve());
            assertEquals(r.selectedIteration(), set.provenance().settings().get("selectedIteration"));
            assertEquals(m.heldOutMedian(), r.median());
            assertEquals(v.vsBaseline(), r.vsBaseline());
            assertTrue(r.baselineScore().perSeed().length == 12 && r.pairedDiffStdErr() > 0);
        }
        // the candidate JSON round-trips (the training block included)
        assertEquals(Json.canonical(ConfigCandidate.toJson(cands)),
                Json.canonical(ConfigCandidate.toJson(ConfigCandidate.listFromJson(ConfigCandidate.toJson(cands)))));

        // cancelled in the middle of training (after the checkpoint of iteration 2), then resumed
        Path b = dir.resolve("b");
        Path stageB = b.resolve(STAGE);
        assertThrows(CancellationException.class, () -> run(b, new Lines(),
                () -> !trainerCheckpoints(stageB).isEmpty()));
        assertFalse(Files.exists(stageB.resolve(StageCheckpoint.FILE)), "the training stage did not finish");
        List<Path> ck = trainerCheckpoints(stageB);
        assertEquals(1, ck.size());
        int at = Json.MAPPER.readTree(ck.get(0).toFile()).get("iteration").asInt();
        assertTrue(at > 0 && at < 6, "checkpoint mid-training: iteration " + at);
        Lines lb = new Lines();
        run(b, lb, () -> false);
        assertTrue(lb.log.contains(STAGE + ": resumed training at iteration " + at + " of 6"), lb.log.toString());
        assertArrayEquals(candidates, Files.readAllBytes(b.resolve("publish").resolve(PublishStage.FILE)),
                "interrupted-and-resumed candidates equal the uninterrupted run's");
        for (int nfe : new int[] {5, 6}) {
            String f = STAGE + "/consistency-solver-nfe" + nfe + ".json";
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        assertArrayEquals(Files.readAllBytes(a.resolve(STAGE).resolve(ConsistencyStage.FILE)),
                Files.readAllBytes(stageB.resolve(ConsistencyStage.FILE)));
    }

    @Test
    void aMultistepPriorIsRecordedInTheSummaryTheSetsAndThePublishedProvenance() throws Exception {
        JsonNode spec = TuningJobSpecTest.json(SPEC.replace("'iterations': 6", "'iterations': 2, 'form': 'data',"
                + " 'prior': 'multistep', 'priorOrder': 2"));
        ResolvedModel model = LocalJobRunner.resolveLocal(spec.get("model"), Path.of("."));
        Path a = dir.resolve("prior");
        LocalJobRunner.tuning().run(0, spec, model, a, new Lines(), () -> false);
        ConsistencyStage.Summary summary = ConsistencyStage.read(a.resolve(STAGE).resolve(ConsistencyStage.FILE));
        assertEquals(java.util.Map.of("kind", "multistep", "order", 2, "lowerOrderFinal", true),
                summary.settings().get("prior"));
        assertEquals(io.solvertune.tuning.fit.consistency.CoefficientPrior.multistep(2),
                summary.training().coefficientPrior());
        assertEquals(0, summary.selectionCurve().get(0).iteration(), "iteration 0, the prior solver, is scored");
        for (ConsistencyStage.Result r : summary.results()) {
            assertEquals("dpmsolver++ multistep o2", r.prior().solver());
            assertEquals(12, r.prior().heldOut().perSeed().length);
            CoefficientSet set = CoefficientSet.fromJson(Files.readString(a.resolve(r.file())));
            assertEquals("multistep", ((java.util.Map<?, ?>) set.provenance().settings().get("prior")).get("kind"));
            if (r.selectedIteration() == 0) {
                // the prior itself was published: it scores as its solver on the held-out seeds
                assertEquals(r.prior().heldOut().meanMse(), r.heldOut().meanMse(),
                        1e-12 * r.prior().heldOut().meanMse());
            }
        }
        List<ConfigCandidate> cs = ConfigCandidate.listFromJson(Json.MAPPER.readTree(Files.readAllBytes(
                a.resolve("publish").resolve(PublishStage.FILE)))).stream()
                .filter(c -> c.method().equals("consistency-solver")).toList();
        assertEquals(2, cs.size());
        for (ConfigCandidate c : cs) {
            assertEquals("ddim", c.solver(), "the data form's base");
            assertEquals(java.util.Map.of("kind", "multistep", "order", 2, "lowerOrderFinal", true),
                    c.provenance().training().hyperparameters().get("prior"));
        }
    }
}
