package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.consistency.ConsistencyAblations;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code consistency.trainer} in the job spec: {@code rl} (default) or {@code direct} (the direct gradient of the
 * final-state MSE through the unrolled solver and the model); {@code cmaes} and unknown names are refused naming the
 * field, as is {@code direct} for a TorchScript model. A tiny direct job on the reference mixture (the spec of
 * {@link ConsistencyRefineJobTest}) trains by the direct gradient, says so in its summary and the published provenance
 * and publishes other tables than RL; an RL job's stage parameters carry no {@code trainer} key.
 */
class ConsistencyTrainerJobTest {
    @TempDir
    Path dir;

    private static String spec(String consistencyFields) {
        return String.format(ConsistencyRefineJobTest.SPEC, consistencyFields);
    }

    private static List<String> fields(InvalidSpecException e) {
        return e.errors().stream().map(InvalidSpecException.FieldError::field).toList();
    }

    @Test
    void theTrainerIsRlByDefaultDirectOnRequestAndNothingElse() throws Exception {
        assertEquals(ConsistencyAblations.Trainer.RL,
                TuningJobSpec.parse(TuningJobSpecTest.json(spec(""))).consistency().trainer());
        assertEquals(ConsistencyAblations.Trainer.RL,
                TuningJobSpec.parse(TuningJobSpecTest.json(spec(", 'trainer': 'rl'"))).consistency().trainer());
        for (String direct : new String[] {"direct", "DIRECT", "Direct"}) {
            assertEquals(ConsistencyAblations.Trainer.DIRECT, TuningJobSpec.parse(TuningJobSpecTest.json(
                    spec(", 'trainer': '" + direct + "'"))).consistency().trainer(), direct);
        }
        for (String bad : new String[] {"'cmaes'", "'CMAES'", "'bogus'", "3", "''"}) {
            InvalidSpecException e = TuningJobSpecTest.invalid(spec(", 'trainer': " + bad), JobLimits.DEFAULTS, null);
            assertEquals(List.of("consistency.trainer"), fields(e), bad + ": " + e.getMessage());
        }
        String cmaes = TuningJobSpecTest.invalid(spec(", 'trainer': 'cmaes'"), JobLimits.DEFAULTS, null).getMessage();
        assertTrue(cmaes.contains("train-consistency") && cmaes.contains("rl, direct"), cmaes);
        String bogus = TuningJobSpecTest.invalid(spec(", 'trainer': 'bogus'"), JobLimits.DEFAULTS, null).getMessage();
        assertTrue(bogus.contains("expected one of rl, direct, got 'bogus'"), bogus);
    }

    @Test
    void directIsRefusedForATorchScriptModelOnly() throws Exception {
        JobPlanner.Model ts = new JobPlanner.Model(1, "unet", 0, new long[] {1, 28, 28}, "torchscript");
        InvalidSpecException e = TuningJobSpecTest.invalid(spec(", 'trainer': 'direct'"), JobLimits.DEFAULTS, ts);
        assertEquals(List.of("consistency.trainer"), fields(e), e.getMessage());
        assertTrue(e.getMessage().contains("differentiable in DJL") && e.getMessage().contains("use rl"),
                e.getMessage());
        // RL on the network, and direct on the models differentiable in DJL or of unknown kind, are accepted
        assertEquals(ConsistencyAblations.Trainer.RL, TuningJobSpec.parse(TuningJobSpecTest.json(spec("")),
                JobLimits.DEFAULTS, ts).consistency().trainer());
        for (String kind : new String[] {"analytic", "empirical", null}) {
            assertEquals(ConsistencyAblations.Trainer.DIRECT, TuningJobSpec.parse(TuningJobSpecTest.json(
                    spec(", 'trainer': 'direct'")), JobLimits.DEFAULTS, new JobPlanner.Model(1, "m", 0, null, kind))
                    .consistency().trainer(), kind);
        }
        // the job spec has no classifier reward (the command's --classifier-reward): nothing to combine with direct
        InvalidSpecException r = TuningJobSpecTest.invalid(spec(", 'trainer': 'direct', 'classifierReward': 'c.pt'"),
                JobLimits.DEFAULTS, null);
        assertEquals(List.of("consistency.classifierReward"), fields(r), r.getMessage());
    }

    @Test
    void everyConsistencyStageGetsTheTrainerAndRlLeavesTheParametersAsTheyWere() throws Exception {
        String learned = ConsistencyTimestepsJobTest.SPEC;
        assertTrue(learned.contains("'consistency': {"), learned);
        for (String base : new String[] {spec(""), spec(", 'refineGrid': true, 'refineRounds': 2"), learned}) {
            List<PlannedStage> without = new TuningJobPlanner().plan(TuningJobSpecTest.json(base));
            List<PlannedStage> rl = new TuningJobPlanner().plan(TuningJobSpecTest.json(
                    base.replace("'consistency': {", "'consistency': {'trainer': 'rl', ")));
            assertEquals(without, rl, "trainer rl: the stages of a job without the field");
            List<PlannedStage> direct = new TuningJobPlanner().plan(TuningJobSpecTest.json(
                    base.replace("'consistency': {", "'consistency': {'trainer': 'direct', ")));
            List<PlannedStage> cs = direct.stream().filter(s -> s.kind().equals(StageKind.TRAIN_CONSISTENCY.id())).toList();
            assertEquals(base == learned ? 2 : 1, cs.size(), "the plain stage, and on learned grids its +timesteps");
            for (PlannedStage s : cs) {
                assertEquals("DIRECT", s.params().path("trainer").asText(), s.params().toString());
                assertEquals("DIRECT", s.params().path("training").path("trainer").asText(), s.params().toString());
                PlannedStage r = rl.stream().filter(x -> x.name().equals(s.name())).findFirst().orElseThrow();
                assertNull(r.params().get("trainer"), r.params().toString());
                assertNull(r.params().path("training").get("trainer"), r.params().toString());
                assertFalse(r.params().toString().contains("trainer"), r.params().toString());
            }
        }
    }

    /** Runs the tiny job with these {@code consistency} fields; its work dir. */
    private Path run(String name, String consistencyFields) throws Exception {
        return ConsistencyRoundsJobTest.runJob(spec(consistencyFields), dir.resolve(name));
    }

    private static ConsistencyStage.Summary summary(Path work) throws Exception {
        return ConsistencyRoundsJobTest.summary(work);
    }

    private static List<ConfigCandidate> candidates(Path work) throws Exception {
        return ConsistencyRoundsJobTest.candidates(work);
    }

    @Test
    void aDirectJobTrainsByTheDirectGradientAndSaysSo() throws Exception {
        Path d = run("direct", ", 'trainer': 'direct'");
        Path r = run("rl", "");
        ConsistencyStage.Summary sd = summary(d);
        ConsistencyStage.Summary sr = summary(r);
        assertEquals("direct-gradient", sd.trainer());
        assertEquals(ConsistencyStage.TRAINER, sr.trainer());
        assertEquals(ConsistencyAblations.Trainer.DIRECT, sd.training().trainer());
        assertEquals(2, sd.curve().size(), "two iterations of the direct gradient");
        assertTrue(sd.failures().isEmpty(), sd.failures().toString());
        CoefficientSet td = CoefficientSet.fromJson(Files.readString(d.resolve(sd.results().get(0).file())));
        CoefficientSet tr = CoefficientSet.fromJson(Files.readString(r.resolve(sr.results().get(0).file())));
        assertEquals(5, td.nfe());
        assertFalse(java.util.Arrays.deepEquals(td.values(), tr.values()), "other coefficients than RL's");
        assertTrue(sd.results().get(0).heldOut().meanMse() != sr.results().get(0).heldOut().meanMse());
        List<ConfigCandidate> cd = candidates(d);
        ConfigCandidate c = cd.stream().filter(x -> x.method().equals(TuningJobSpec.CONSISTENCY_SOLVER)).findFirst()
                .orElseThrow(() -> new AssertionError(cd.stream().map(ConfigCandidate::method).toList()));
        assertEquals("direct-gradient", c.provenance().training().trainer());
        assertEquals(td.values().length, ((ConfigValues.Coefficients) c.values()).set().values().length);
        assertTrue(java.util.Arrays.deepEquals(td.values(), ((ConfigValues.Coefficients) c.values()).set().values()));
        assertEquals(ConsistencyStage.TRAINER, candidates(r).stream()
                .filter(x -> x.method().equals(TuningJobSpec.CONSISTENCY_SOLVER)).findFirst().orElseThrow()
                .provenance().training().trainer());
    }

    @Test
    void directTrainsFromTheMultistepPriorThroughAlternatingRounds() throws Exception {
        Path d = run("rounds", ", 'trainer': 'direct', 'form': 'data', 'prior': 'multistep', 'priorOrder': 2,"
                + " 'refineGrid': true, 'refineEvaluations': 16, 'refineRounds': 2");
        ConsistencyStage.Summary s = summary(d);
        assertEquals("direct-gradient", s.trainer());
        assertEquals("multistep", ((java.util.Map<?, ?>) s.settings().get("prior")).get("kind"));
        assertEquals(2, s.rounds().size(), "round 1 keeps a refined grid, so round 2 retrains on it");
        for (ConsistencyRounds.Round round : s.rounds()) {
            if (round.round() >= 2) {
                ConsistencyStage.Summary sk = ConsistencyStage.read(d.resolve(round.summary()));
                assertEquals("direct-gradient", sk.trainer(), "round " + round.round() + " retrains by direct");
                assertEquals(ConsistencyAblations.Trainer.DIRECT, sk.training().trainer());
            }
        }
        for (ConfigCandidate c : candidates(d)) {
            if (c.provenance().training() != null) {
                assertEquals("direct-gradient", c.provenance().training().trainer(), c.method());
            }
        }
    }

    @Test
    void theStageRefusesDirectOnATorchScriptModelPlannedWithoutIt() throws Exception {
        // run-job plans without the registry's kind: the stage itself refuses before training
        Path res = Path.of("src/test/resources/torchscript");
        Files.copy(res.resolve("cond_eps.pt"), dir.resolve("cond_eps.pt"));
        Files.copy(res.resolve("cond_eps_spec.json"), dir.resolve("model.json"));
        JsonNode spec = TuningJobSpecTest.json("{'model': 'model.json', 'methods': ['consistency-solver'], 'nfe': [3],"
                + " 'guidance': [2], 'spacings': ['logSNR'], 'teacher': {'steps': 20, 'recordEvery': 20,"
                + " 'checkSeeds': 0}, 'seeds': {'train': 12, 'heldOut': 6, 'shardSize': 12, 'fitRows': 6},"
                + " 'sampleGrids': {'seeds': 0}, 'consistency': {'trainer': 'direct', 'iterations': 1, 'noises': 1,"
                + " 'group': 2, 'hidden': 4, 'minNfe': 3, 'maxNfe': 3, 'selectEvery': 0}}");
        ResolvedModel model = LocalJobRunner.resolveLocal(spec.get("model"), dir);
        Exception e = assertThrows(Exception.class, () -> LocalJobRunner.tuning().run(0, spec, model,
                dir.resolve("work"), new ConsistencyJobTest.Lines(), () -> false));
        Throwable t = e;
        while (t.getCause() != null && !(t instanceof IllegalArgumentException)) {
            t = t.getCause();
        }
        assertTrue(t instanceof IllegalArgumentException && t.getMessage().equals("trainer: "
                + ConsistencyTraining.DIRECT_NEEDS_DJL), String.valueOf(e));
        assertFalse(Files.exists(dir.resolve("work").resolve("g2/fit-consistency-solver")
                .resolve(ConsistencyStage.FILE)), "no summary");
    }
}
