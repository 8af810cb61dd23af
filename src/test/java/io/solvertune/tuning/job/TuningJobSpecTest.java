package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Strict parsing of job specs: defaults, and every problem names its field. */
class TuningJobSpecTest {

    static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s.replace('\'', '"'));
    }

    static String error(String spec) throws Exception {
        JsonNode n = json(spec);
        return assertThrows(IllegalArgumentException.class, () -> TuningJobSpec.parse(n)).getMessage();
    }

    @Test
    void defaultsMatchTheBenchmarkProtocol() throws Exception {
        TuningJobSpec s = TuningJobSpec.parse(json("{'model': 'gmm-sd-d32', 'methods': ['dc'], 'nfe': [5], 'guidance': [7.5]}"));
        assertEquals(500, s.teacher().steps());
        assertEquals(1e-4, s.teacher().tolerance());
        assertEquals(16, s.teacher().checkSeeds());
        assertEquals(512, s.seeds().train());
        assertEquals(1024, s.seeds().heldOut());
        assertEquals(256, s.seeds().fitRows());
        assertEquals(128, s.seeds().coefficientFitRows());
        assertEquals(1_000_000, s.seeds().heldOutBase());
        assertEquals(TuningJobSpec.ALL_SPACINGS, s.spacings());
        assertTrue(s.publishableHeldOut());
        assertEquals(8, s.sampleGrids().seeds());
        TuningJobSpec small = TuningJobSpec.parse(json("{'model': 3, 'methods': ['dpmsolver-v3', 'iia-edm'], 'nfe': [5, 6],"
                + " 'guidance': [1], 'seeds': {'train': 32, 'heldOut': 16}}"));
        assertFalse(small.publishableHeldOut());
        assertEquals(List.of(io.solvertune.tuning.MethodId.IIA_EDM), small.coefficientMethods());
        assertTrue(small.wantsDpmSolverV3());
        assertEquals(3, small.model().asInt());
    }

    @Test
    void everyProblemNamesItsField() throws Exception {
        String base = "'model': 'gmm-sd-d32', 'methods': ['dc'], 'nfe': [5], 'guidance': [7.5]";
        assertTrue(error("{" + base + ", 'colour': 1}").startsWith("colour: unknown field"));
        assertTrue(error("{'methods': ['dc'], 'nfe': [5], 'guidance': [1]}").startsWith("model: required"));
        assertTrue(error("{'model': true, 'methods': ['dc'], 'nfe': [5], 'guidance': [1]}").startsWith("model: "));
        String unknown = error("{'model': 'm', 'methods': ['dc', 'magic'], 'nfe': [5], 'guidance': [1]}");
        assertTrue(unknown.startsWith("methods[1]: unknown method 'magic' (known: dpmsolver-v3, "), unknown);
        assertTrue(unknown.contains("biia-edm") && unknown.contains("dode-teacher"), unknown);
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5, 51], 'guidance': [1]}").startsWith("nfe[1]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5, 5], 'guidance': [1]}").startsWith("nfe[1]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [0]}").startsWith("guidance[0]: "));
        assertTrue(error("{'model': 'm', 'methods': ['dc'], 'nfe': 5, 'guidance': [1]}").startsWith("nfe: expected a JSON array"));
        assertTrue(error("{" + base + ", 'spacings': ['logSNR', 'cosine']}").startsWith("spacings[1]: unknown spacing"));
        assertTrue(error("{" + base + ", 'teacher': {'steps': 0}}").startsWith("teacher.steps: "));
        assertTrue(error("{" + base + ", 'teacher': {'stpes': 10}}").startsWith("teacher.stpes: unknown field"));
        assertTrue(error("{" + base + ", 'teacher': {'tolerance': -1}}").startsWith("teacher.tolerance: "));
        assertTrue(error("{" + base + ", 'seeds': {'heldOut': 1}}").startsWith("seeds.heldOut: "));
        assertTrue(error("{" + base + ", 'seeds': {'train': 64, 'fitRows': 63}}").startsWith("seeds.fitRows: "));
        assertTrue(error("{" + base + ", 'seeds': {'train': 100, 'heldOut': 10, 'heldOutBase': 50}}")
                .startsWith("seeds.heldOutBase: held-out seeds 50..59 overlap the training seeds 0..99"));
        assertTrue(error("{" + base + ", 'ems': {'source': 'magic'}}").startsWith("ems.source: "));
        assertTrue(error("{'model': 'm', 'methods': ['dpmsolver-v3'], 'nfe': [5], 'guidance': [1],"
                + " 'teacher': {'steps': 100, 'recordEvery': 3}}").startsWith("teacher.recordEvery: must divide"));
        assertTrue(error("{" + base + ", 'batch': 'big'}").startsWith("batch: expected an integer"));
        assertEquals("sampleGrids.seeds: must be in 0..32, got 33", error("{" + base + ", 'sampleGrids': {'seeds': 33}}"));
        assertTrue(error("{" + base + ", 'sampleGrids': {'rows': 8}}").startsWith("sampleGrids.rows: unknown field"));
        assertTrue(error("{" + base + ", 'sampleGrids': 8}").startsWith("sampleGrids: expected a JSON object"));
        assertTrue(error("[1]").startsWith("spec: expected a JSON object"));
    }

    @Test
    void learnedTimestepsAreParsedStrictlyWithLimits() throws Exception {
        String base = "'model': 'gmm-sd-d32', 'methods': ['dc', 'iia-ddim'], 'nfe': [5], 'guidance': [7.5],"
                + " 'seeds': {'train': 64, 'heldOut': 16, 'shardSize': 16, 'fitRows': 32, 'coefficientFitRows': 16}";
        TuningJobSpec off = TuningJobSpec.parse(json("{" + base + "}"));
        assertEquals(null, off.timesteps());
        assertEquals(null, TuningJobSpec.parse(json("{" + base + ", 'timesteps': 'off'}")).timesteps());
        assertEquals(null, TuningJobSpec.parse(json("{" + base + ", 'timesteps': {'mode': 'off'}}")).timesteps());
        TuningJobSpec learned = TuningJobSpec.parse(json("{" + base + ", 'timesteps': 'learned'}"));
        assertEquals(new TuningJobSpec.Timesteps(200, 1, 0.3, 0, 0, 60, 16, 500), learned.timesteps(),
                "defaults; GITS on min(32, coefficientFitRows) rows");
        TuningJobSpec custom = TuningJobSpec.parse(json("{" + base + ", 'timesteps': {'mode': 'learned',"
                + " 'evaluations': 40, 'variants': 3, 'sigma': 0.5, 'population': 8, 'seed': 7, 'gitsPoints': 0,"
                + " 'gitsRows': 4, 'teacherSteps': 100}}"));
        assertEquals(new TuningJobSpec.Timesteps(40, 3, 0.5, 8, 7, 0, 4, 100), custom.timesteps());
        // a timesteps stage and one fit on learned grids per coefficient method, per guidance scale
        assertEquals(off.plannedStages() + 3, learned.plannedStages());
        List<PlannedStage> plan = new TuningJobPlanner().plan(learned);
        assertEquals(learned.plannedStages(), plan.size());
        PlannedStage ts = plan.stream().filter(p -> p.name().equals("g7.5/timesteps")).findFirst().orElseThrow();
        assertEquals(StageKind.TIMESTEPS, ts.stageKind());
        assertEquals(List.of("g7.5/teacher-train", "g7.5/teacher-heldout", "g7.5/baseline"), ts.dependsOn());
        PlannedStage joint = plan.stream().filter(p -> p.name().equals("g7.5/fit-dc+timesteps")).findFirst()
                .orElseThrow();
        assertEquals(StageKind.FIT, joint.stageKind());
        assertTrue(joint.dependsOn().contains("g7.5/timesteps"));
        assertEquals(16, joint.params().get("fitRows").asInt(), "the same rows as the timesteps stage");
        PlannedStage publish = plan.get(plan.size() - 1);
        assertTrue(publish.dependsOn().containsAll(List.of("g7.5/timesteps", "g7.5/fit-dc+timesteps",
                "g7.5/fit-iia-ddim+timesteps")), publish.dependsOn().toString());
        // the plain fits' parameters (and so their checkpoint keys) are those of a job without timesteps
        PlannedStage plain = plan.stream().filter(p -> p.name().equals("g7.5/fit-dc")).findFirst().orElseThrow();
        assertEquals(new TuningJobPlanner().plan(off).stream().filter(p -> p.name().equals("g7.5/fit-dc"))
                .findFirst().orElseThrow().params(), plain.params());

        assertEquals(List.of("timesteps"), fields("{" + base + ", 'timesteps': 'always'}"));
        assertEquals(List.of("timesteps"), fields("{" + base + ", 'timesteps': 3}"));
        assertEquals(List.of("timesteps.mode"), fields("{" + base + ", 'timesteps': {'mode': 'fast'}}"));
        assertEquals(List.of("timesteps.mode"), fields("{" + base + ", 'timesteps': {'mode': 1}}"));
        assertEquals(List.of("timesteps.evaluations", "timesteps.variants", "timesteps.sigma",
                "timesteps.population", "timesteps.seed", "timesteps.gitsPoints", "timesteps.gitsRows",
                "timesteps.teacherSteps"), fields("{" + base + ", 'timesteps': {'evaluations': 10001,"
                + " 'variants': 9, 'sigma': 0, 'population': 1001, 'seed': -1, 'gitsPoints': 1001, 'gitsRows': 17,"
                + " 'teacherSteps': 0}}"));
        assertEquals(List.of("timesteps.evaluations"), fields("{" + base + ", 'timesteps': {'evaluations': 'many'}}"));
        assertEquals(List.of("timesteps.sigma"), fields("{" + base + ", 'timesteps': {'sigma': 11}}"));
        assertEquals(List.of("timesteps.gitsPoints"), fields("{" + base + ", 'timesteps': {'gitsPoints': 1}}"));
        assertEquals(List.of("timesteps.teacherSteps"), fields("{" + base + ", 'timesteps': {'gitsPoints': 60,"
                + " 'teacherSteps': 59}}"));
        assertEquals(List.of("timesteps.evals"), fields("{" + base + ", 'timesteps': {'evals': 3}}"));
        assertTrue(error("{" + base + ", 'timesteps': {'variants': 9}}").startsWith("timesteps.variants: must be in"
                + " 1..8"));
    }

    @Test
    void theExampleJobsParse() throws Exception {
        for (String f : List.of("tuning-jobs/gmm-quick.json", "tuning-jobs/fmnist-empirical.json",
                "tuning-jobs/gmm-timesteps.json", "tuning-jobs/gmm-timesteps-v3.json",
                "tuning-jobs/gmm-direct-rounds.json")) {
            TuningJobSpec s = TuningJobSpec.parse(Json.MAPPER.readTree(Files.readString(Path.of(f))));
            assertFalse(new TuningJobPlanner().plan(s).isEmpty(), f);
        }
        // the direct-trainer example: the trainer, the rounds and the learned grids reach its consistency stages
        TuningJobSpec d = TuningJobSpec.parse(Json.MAPPER.readTree(Files.readString(
                Path.of("tuning-jobs/gmm-direct-rounds.json"))));
        assertEquals(io.solvertune.tuning.fit.consistency.ConsistencyAblations.Trainer.DIRECT, d.consistency().trainer());
        assertEquals(4, d.consistency().refineRounds());
        assertEquals(3000, d.consistency().iterations());
        assertEquals(32, d.consistency().noises());
        assertEquals(List.of("g1/fit-consistency-solver", "g1/fit-consistency-solver+timesteps",
                "g7.5/fit-consistency-solver", "g7.5/fit-consistency-solver+timesteps"), new TuningJobPlanner().plan(d)
                .stream().map(PlannedStage::name).filter(n -> n.contains("consistency")).toList());
        for (PlannedStage p : new TuningJobPlanner().plan(d)) {
            if (p.name().contains("consistency")) {
                assertEquals("DIRECT", p.params().path("trainer").asText(), p.name());
            }
        }
    }

    static InvalidSpecException invalid(String spec, JobLimits limits, JobPlanner.Model model) throws Exception {
        JsonNode n = json(spec);
        return assertThrows(InvalidSpecException.class, () -> TuningJobSpec.parse(n, limits, model));
    }

    static List<String> fields(String spec) throws Exception {
        return invalid(spec, JobLimits.DEFAULTS, null).errors().stream().map(InvalidSpecException.FieldError::field)
                .toList();
    }

    @Test
    void everyErrorIsReportedNotOnlyTheFirst() throws Exception {
        InvalidSpecException e = invalid("{'model': 'm', 'methods': ['magic'], 'nfe': [0], 'guidance': [-1],"
                + " 'seeds': {'train': 1}, 'batch': 'big'}", JobLimits.DEFAULTS, null);
        assertEquals(List.of("methods[0]", "nfe[0]", "guidance[0]", "seeds.train", "batch"),
                e.errors().stream().map(InvalidSpecException.FieldError::field).toList(), e.getMessage());
        assertTrue(e.getMessage().startsWith("methods[0]: unknown method 'magic'"), e.getMessage());
        assertTrue(e.getMessage().contains("; nfe[0]: expected an integer in 1..50, got 0"), e.getMessage());
        // a thousand bad values are summarised, not listed
        String many = "[" + "0, ".repeat(15) + "0]";
        assertEquals(List.of("nfe[0]", "nfe[1]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [0, -1],"
                + " 'guidance': [1]}"));
        assertEquals(16, fields("{'model': 'm', 'methods': ['dc'], 'nfe': " + many + ", 'guidance': [1]}").size());
    }

    @Test
    void integerOverflowIsRefusedNotWrapped() throws Exception {
        // 4294967301 = 2^32 + 5 used to wrap to NFE 5
        assertEquals(List.of("nfe[0]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [4294967301], 'guidance': [1]}"));
        assertEquals(List.of("classLabel"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1],"
                + " 'classLabel': 4294967297}"));
        // heldOutBase + heldOut used to overflow past the overlap check
        assertEquals(List.of("seeds.heldOutBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'heldOutBase': 9223372036854775807}}"));
        assertEquals(List.of("seeds.trainBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'trainBase': 9223372036854775300}}"));
        assertEquals(List.of("seeds.heldOutBase"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1], 'seeds': {'heldOutBase': 92233720368547758070}}"));
        assertEquals(List.of("model"), fields("{'model': 92233720368547758070, 'methods': ['dc'], 'nfe': [5],"
                + " 'guidance': [1]}"));
    }

    @Test
    void guidanceIsBoundedAndItsStageNamesStayShort() throws Exception {
        for (String g : List.of("1e200", "1e308", "1e-300", "100.5", "0.0009")) {
            assertEquals(List.of("guidance[0]"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': ["
                    + g + "]}"), g);
        }
        for (String g : List.of("0.001", "100", "7.123456789012345", "0.0012345678901234567")) {
            TuningJobSpec s = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['dpmsolver-v3', 'dc'], 'nfe': [5],"
                    + " 'guidance': [" + g + "]}"));
            for (PlannedStage st : new TuningJobPlanner().plan(s)) {
                assertTrue(st.name().length() <= 64, st.name());
            }
        }
    }

    @Test
    void planSizeIsBounded() throws Exception {
        String base = "'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1]";
        // the reviewer's 200,000 seeds in shards of 1 (400,007 stages) and 10,000,000 seeds
        assertEquals(List.of("seeds.train"),
                fields("{" + base + ", 'seeds': {'train': 200000, 'heldOut': 200, 'shardSize': 1}}"));
        assertTrue(fields("{" + base + ", 'seeds': {'train': 10000000, 'heldOut': 10000000}}")
                .containsAll(List.of("seeds.train", "seeds.heldOut")));
        assertEquals(List.of("seeds"), fields("{" + base + ", 'seeds': {'train': 60000, 'heldOut': 60000,"
                + " 'shardSize': 1000}}"));
        String shards = invalid("{" + base + ", 'seeds': {'train': 1000, 'heldOut': 100, 'shardSize': 1}}",
                JobLimits.DEFAULTS, null).getMessage();
        assertEquals("seeds.shardSize: 1000 seeds in shards of 1 make 1000 teacher stages, at most 256 per split: use"
                + " shardSize >= 4", shards);
        assertEquals(List.of("nfe"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [" + "1, ".repeat(20) + "2],"
                + " 'guidance': [1]}"));
        assertEquals(List.of("guidance"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': ["
                + "1, ".repeat(9) + "2]}"));
        assertEquals(List.of("batch"), fields("{" + base + ", 'batch': 1000000}"));
        assertEquals(List.of("ems.samples"), fields("{" + base + ", 'ems': {'samples': 10000000}}"));
        // stages of the whole plan: limits made small to see the check
        JobLimits few = new JobLimits(100_000, 256, 30, 16, 8, 100, 100_000, 4096);
        InvalidSpecException e = invalid("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1, 2],"
                + " 'seeds': {'train': 512, 'heldOut': 256, 'shardSize': 64}}", few, null);
        assertEquals("guidance", e.errors().get(0).field());
        assertTrue(e.getMessage().contains("the plan would have 35 stages"), e.getMessage());
        TuningJobSpec ok = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1, 2],"
                + " 'seeds': {'train': 512, 'heldOut': 256, 'shardSize': 128}}"), few);
        assertEquals(new TuningJobPlanner(few).plan(ok).size(), ok.plannedStages());
    }

    @Test
    void plannedStagesMatchesThePlan() throws Exception {
        for (String spec : List.of("{'model': 'm', 'methods': ['dpmsolver-v3', 'dc', 'iia-ddim'], 'nfe': [5, 6],"
                + " 'guidance': [1, 7.5], 'seeds': {'train': 200, 'heldOut': 130, 'shardSize': 64}}",
                "{'model': 'm', 'methods': ['dode'], 'nfe': [5], 'guidance': [2], 'seeds': {'shardSize': 1000}}",
                "{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [2, 3], 'sampleGrids': {'seeds': 0}}")) {
            TuningJobSpec s = TuningJobSpec.parse(json(spec));
            assertEquals(new TuningJobPlanner().plan(s).size(), s.plannedStages(), spec);
        }
    }

    @Test
    void consistencySolverTakesTheTrainersSettingsWithDefaultsCoveringTheJobsNfes() throws Exception {
        TuningJobSpec s = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver', 'dc'],"
                + " 'nfe': [5, 12], 'guidance': [1], 'seeds': {'train': 64, 'heldOut': 16}}"));
        assertTrue(s.wantsConsistency());
        assertEquals(List.of(io.solvertune.tuning.MethodId.DC), s.coefficientMethods(),
                "consistency-solver has its own stage, not a fit");
        ConsistencyTraining c = s.consistency();
        assertEquals(io.solvertune.numerics.solver.consistency.Consistency.Form.NOISE, c.form());
        assertEquals(io.solvertune.tuning.fit.consistency.TrainerSettings.PolicyKind.GAUSSIAN, c.policy());
        assertEquals(4, c.minNfe());
        assertEquals(12, c.maxNfe(), "the default range covers the job's NFEs");
        assertEquals(200, c.iterations());
        assertEquals(s.seeds().coefficientFitRows(), c.trainRows());
        assertEquals("karras", c.spacing().id());
        assertEquals(ConsistencyTraining.Inference.AUTO, c.inference());
        assertEquals(c.iterations(), c.settings().iterations());
        ConsistencyTraining set = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'],"
                + " 'nfe': [5], 'guidance': [1], 'spacings': ['logSNR', 'time_uniform'], 'consistency': {"
                + "'form': 'data', 'order': 3, 'policy': 'categorical', 'bins': 21, 'hidden': 16, 'nfeInput': true,"
                + " 'minNfe': 5, 'maxNfe': 8, 'iterations': 7, 'noises': 2, 'group': 4, 'ppoEpochs': 2, 'clip': 0.1,"
                + " 'entropy': 0, 'learningRate': 1e-3, 'maxGradNorm': 2, 'advantageScale': 5, 'seed': 42,"
                + " 'spacing': 'time_uniform', 'inference': 'argmax', 'checkpointEvery': 3, 'trainRows': 10}}"))
                .consistency();
        assertEquals(new ConsistencyTraining(io.solvertune.numerics.solver.consistency.Consistency.Form.DATA, 3,
                io.solvertune.tuning.fit.consistency.TrainerSettings.PolicyKind.CATEGORICAL, 21, 0.1, 16, true, 5, 8, 7,
                2, 4, 2, 0.1, 0.0, 1e-3, 2.0, 5.0, 42, io.solvertune.tuning.eval.SpacingName.TIME_UNIFORM,
                ConsistencyTraining.Inference.ARGMAX, 3, 10, 1),
                set);
        assertEquals(10, c.selectEvery(), "checkpoint selection by default: 20 snapshots of 200 iterations");
        // stage parameters of jobs stored before selectEvery and baselines existed keep their JSON (and keys)
        ConsistencyTraining off = new ConsistencyTraining(c.form(), c.order(), c.policy(), c.bins(), c.initStd(),
                c.hidden(), c.nfeInput(), c.minNfe(), c.maxNfe(), c.iterations(), c.noises(), c.group(), c.ppoEpochs(),
                c.clip(), c.entropy(), c.learningRate(), c.maxGradNorm(), c.advantageScale(), c.seed(), c.spacing(),
                c.inference(), c.checkpointEvery(), c.trainRows());
        String json = io.solvertune.tuning.Json.canonical(new StageParams.Consistency(null, off, "g1/baseline"));
        assertTrue(!json.contains("selectEvery") && !json.contains("baselines") && !json.contains("prior"), json);
        // the multistep prior: order 3 by default, at most the solver's order; in the JSON only when set
        ConsistencyTraining pr = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'],"
                + " 'nfe': [5], 'guidance': [1], 'consistency': {'form': 'data', 'prior': 'multistep'}}")).consistency();
        assertEquals(io.solvertune.tuning.fit.consistency.CoefficientPrior.multistep(3), pr.coefficientPrior());
        assertTrue(io.solvertune.tuning.Json.canonical(pr).contains("\"prior\":\"MULTISTEP\",\"priorOrder\":3"),
                io.solvertune.tuning.Json.canonical(pr));
        assertEquals(pr, io.solvertune.tuning.Json.MAPPER.readValue(io.solvertune.tuning.Json.canonical(pr),
                ConsistencyTraining.class));
        assertEquals(io.solvertune.tuning.fit.consistency.CoefficientPrior.multistep(2), TuningJobSpec.parse(json(
                "{'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5], 'guidance': [1], 'consistency': {"
                + "'order': 2, 'prior': 'multistep'}}")).consistency().coefficientPrior());
        assertEquals(io.solvertune.tuning.fit.consistency.CoefficientPrior.none(), c.coefficientPrior());
        assertEquals(off, io.solvertune.tuning.Json.MAPPER.readValue(json, StageParams.Consistency.class).training());
        assertTrue(io.solvertune.tuning.Json.canonical(c).contains("\"selectEvery\":10"));
        assertEquals(0, TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5],"
                + " 'guidance': [1], 'consistency': {'selectEvery': 0}}")).consistency().selectEvery(), "0 = off");
        assertEquals(5, TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5],"
                + " 'guidance': [1], 'consistency': {'iterations': 1000, 'selectEvery': 5}}")).consistency()
                .selectEvery(), "200 snapshots, the most");
        assertEquals("logSNR", TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'],"
                + " 'nfe': [5], 'guidance': [1], 'spacings': ['logSNR']}")).consistency().spacing().id());
        assertEquals(null, TuningJobSpec.parse(json("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1]}"))
                .consistency());
        // the plan: one training stage per guidance scale, between the baseline and publish
        TuningJobSpec two = TuningJobSpec.parse(json("{'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5],"
                + " 'guidance': [1, 7.5], 'seeds': {'train': 64, 'heldOut': 16, 'shardSize': 64}}"));
        List<PlannedStage> plan = new TuningJobPlanner().plan(two);
        assertEquals(two.plannedStages(), plan.size());
        List<PlannedStage> cs = plan.stream().filter(p -> p.stageKind() == StageKind.TRAIN_CONSISTENCY).toList();
        assertEquals(List.of("g1/fit-consistency-solver", "g7.5/fit-consistency-solver"),
                cs.stream().map(PlannedStage::name).toList());
        assertEquals(List.of("g1/teacher-train", "g1/teacher-heldout", "g1/baseline"), cs.get(0).dependsOn());
        assertTrue(plan.get(plan.size() - 1).dependsOn().containsAll(List.of("g1/fit-consistency-solver",
                "g7.5/fit-consistency-solver")));
        assertTrue(TuningStages.executors().containsKey(StageKind.TRAIN_CONSISTENCY.id()));
    }

    @Test
    void consistencySettingsAreBoundedAndNameTheirField() throws Exception {
        String base = "'model': 'm', 'methods': ['consistency-solver'], 'nfe': [5, 8], 'guidance': [1],"
                + " 'seeds': {'train': 64, 'heldOut': 16}";
        for (String[] bad : new String[][] {
            {"'colour': 1", "consistency.colour"}, {"'form': 'velocity'", "consistency.form"},
            {"'order': 5", "consistency.order"}, {"'order': 1", "consistency.order"},
            {"'policy': 'beta'", "consistency.policy"}, {"'bins': 1", "consistency.bins"},
            {"'bins': 402", "consistency.bins"}, {"'initStd': 0", "consistency.initStd"},
            {"'hidden': 4096", "consistency.hidden"}, {"'nfeInput': 'yes'", "consistency.nfeInput"},
            {"'minNfe': 1", "consistency.minNfe"}, {"'minNfe': 6", "consistency.minNfe"},
            {"'maxNfe': 7", "consistency.maxNfe"}, {"'maxNfe': 51", "consistency.maxNfe"},
            {"'minNfe': 5, 'maxNfe': 4", "consistency.maxNfe"}, {"'iterations': 0", "consistency.iterations"},
            {"'iterations': 100001", "consistency.iterations"}, {"'iterations': 1e9", "consistency.iterations"},
            {"'iterations': 100000, 'noises': 20, 'group': 256", "consistency.iterations"},
            {"'noises': 65", "consistency.noises"}, {"'noises': 20, 'trainRows': 10", "consistency.noises"},
            {"'group': 1", "consistency.group"}, {"'group': 257", "consistency.group"},
            {"'ppoEpochs': 17", "consistency.ppoEpochs"}, {"'clip': 1", "consistency.clip"},
            {"'entropy': -1", "consistency.entropy"}, {"'learningRate': 0", "consistency.learningRate"},
            {"'learningRate': 'fast'", "consistency.learningRate"}, {"'maxGradNorm': 1e300", "consistency.maxGradNorm"},
            {"'advantageScale': 1001", "consistency.advantageScale"}, {"'seed': -1", "consistency.seed"},
            {"'spacing': 'cosine'", "consistency.spacing"}, {"'spacing': 'logSNR'", null},
            {"'inference': 'mode'", "consistency.inference"}, {"'checkpointEvery': 0", "consistency.checkpointEvery"},
            {"'trainRows': 0", "consistency.trainRows"}, {"'trainRows': 33", "consistency.trainRows"},
            {"'selectEvery': -1", "consistency.selectEvery"}, {"'selectEvery': 100001", "consistency.selectEvery"},
            {"'selectEvery': 'often'", "consistency.selectEvery"},
            {"'iterations': 1000, 'selectEvery': 4", "consistency.selectEvery"},
            {"'prior': 'adams'", "consistency.prior"}, {"'prior': 3", "consistency.prior"},
            {"'priorOrder': 2", "consistency.priorOrder"}, {"'prior': 'none', 'priorOrder': 3", "consistency.priorOrder"},
            {"'prior': 'multistep', 'priorOrder': 4", "consistency.priorOrder"},
            {"'prior': 'multistep', 'priorOrder': 1", "consistency.priorOrder"},
            {"'prior': 'multistep', 'priorOrder': 'high'", "consistency.priorOrder"},
            {"'prior': 'multistep', 'order': 2, 'priorOrder': 3", "consistency.priorOrder"},
            {"'prior': 'multistep', 'form': 'flow_velocity'", "consistency.prior"},
            {"'prior': 'multistep', 'policy': 'categorical'", "consistency.prior"},
            {"'refineGrid': 'yes'", "consistency.refineGrid"}, {"'refineEvaluations': 5", "consistency.refineEvaluations"},
            {"'refineGrid': false, 'refineEvaluations': 5", "consistency.refineEvaluations"},
            {"'refineGrid': true, 'refineEvaluations': 0", "consistency.refineEvaluations"},
            {"'refineGrid': true, 'refineEvaluations': 10001", "consistency.refineEvaluations"},
            {"'refineGrid': true, 'refineEvaluations': 'many'", "consistency.refineEvaluations"}}) {
            String spec = "{" + base + ", 'consistency': {" + bad[0] + "}}";
            if (bad[1] == null) {
                // logSNR is a known spacing, but not one of this job's
                spec = spec.replace("'seeds'", "'spacings': ['karras'], 'seeds'");
                bad[1] = "consistency.spacing";
            }
            InvalidSpecException e = invalid(spec, JobLimits.DEFAULTS, null);
            assertEquals(List.of(bad[1]), e.errors().stream().map(InvalidSpecException.FieldError::field).toList(),
                    bad[0] + ": " + e.getMessage());
        }
        assertEquals(List.of("consistency"), fields("{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1],"
                + " 'consistency': {'iterations': 5}}"));
        assertEquals(List.of("consistency"), fields("{" + base + ", 'consistency': [1]}"));
        String msg = invalid("{" + base + ", 'consistency': {'maxNfe': 7}}", JobLimits.DEFAULTS, null).getMessage();
        assertEquals("consistency.maxNfe: the job's NFE 8 lies above maxNfe 7: one network serves the NFEs it was"
                + " trained on", msg);
    }

    @Test
    void classLabelIsCheckedAgainstTheModel() throws Exception {
        String spec = "{'model': 'm', 'methods': ['dc'], 'nfe': [5], 'guidance': [1], 'classLabel': 99}";
        InvalidSpecException e = invalid(spec, JobLimits.DEFAULTS, new JobPlanner.Model(1, "two", 2));
        assertEquals("classLabel: model 'two' has 2 classes (0..1), got 99", e.getMessage());
        assertEquals("classLabel: model 'plain' is unconditional (it has no classes)",
                invalid(spec, JobLimits.DEFAULTS, new JobPlanner.Model(1, "plain", 0)).getMessage());
        assertEquals(1, TuningJobSpec.parse(json(spec.replace("99", "1")), JobLimits.DEFAULTS,
                new JobPlanner.Model(1, "two", 2)).classLabel());
        assertEquals(99, TuningJobSpec.parse(json(spec)).classLabel(), "without a model nothing to check against");
    }
}
