package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code consistency.refineGrid} in a tiny job on the reference mixture: the stage refines each table's grid for its
 * fixed coefficients, publishes a kept refinement as its own candidate ({@code consistency-solver+grid}) with the
 * optimisation in its provenance, and the published candidate exports and samples on exactly its refined times; with
 * the option off the stage's parameters (and so its checkpoint keys) are those of a job that never had it.
 */
class ConsistencyRefineJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['consistency-solver'], 'nfe': [5],"
            + " 'guidance': [1], 'spacings': ['time_uniform'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 60, 'checkSeeds': 0, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 16, 'shardSize': 32, 'fitRows': 16},"
            + " 'consistency': {'iterations': 2, 'noises': 2, 'group': 4, 'hidden': 8, 'minNfe': 4, 'maxNfe': 6,"
            + " 'trainRows': 16, 'selectEvery': 0%s}}";
    static final String STAGE = "g1/fit-consistency-solver";

    @TempDir
    Path dir;

    @Test
    void theRefinedTableIsPublishedAsItsOwnCandidateAndExportsOnItsTimes() throws Exception {
        JsonNode spec = TuningJobSpecTest.json(String.format(SPEC, ", 'refineGrid': true, 'refineEvaluations': 16"));
        ResolvedModel model = LocalJobRunner.resolveLocal(spec.get("model"), Path.of("."));
        Path a = dir.resolve("a");
        ConsistencyJobTest.Lines lines = new ConsistencyJobTest.Lines();
        LocalJobRunner.tuning().run(0, spec, model, a, lines, () -> false);
        ConsistencyStage.Summary s = ConsistencyStage.read(a.resolve(STAGE).resolve(ConsistencyStage.FILE));
        assertEquals(1, s.refinements().size());
        ConsistencyStage.Refinement rf = s.refinements().get(0);
        CoefficientSet table = CoefficientSet.fromJson(Files.readString(a.resolve(s.results().get(0).file())));
        assertArrayEquals(table.times(), rf.optimisation().startGrid(), "the refinement starts from the table's grid");
        assertEquals(16, rf.optimisation().evaluations());
        assertEquals("table", rf.optimisation().initialiser());
        // DDIM-like tables on the time-uniform grid: CMA-ES finds a better grid, kept on the selection rows
        assertTrue(rf.chosen(), rf.toString());
        assertTrue(rf.selectionMse() < rf.startSelectionMse());
        assertEquals(1, s.refined().size());
        ConsistencyStage.Result r = s.refined().get(0);
        CoefficientSet refined = CoefficientSet.fromJson(Files.readString(a.resolve(r.file())));
        assertTrue(java.util.Arrays.deepEquals(table.values(), refined.values()), "the coefficients are fixed");
        assertArrayEquals(rf.optimisation().grid(), refined.times());
        assertEquals(s.results().get(0).heldOut().meanMse(), refined.validation().baseMse(),
                "its base in the validation: the table on its own grid");
        assertEquals(r.heldOut().meanMse(), refined.validation().mse());

        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(
                Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE))));
        ConfigCandidate c = cands.stream().filter(x -> x.method().equals("consistency-solver+grid")).findFirst()
                .orElseThrow(() -> new AssertionError(cands.stream().map(ConfigCandidate::method).toList()));
        CoefficientSet published = ((ConfigValues.Coefficients) c.values()).set();
        assertArrayEquals(refined.times(), published.times());
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> gr = (java.util.Map<String, Object>) published.provenance().settings()
                .get("gridRefinement");
        assertEquals(rf.startSelectionMse(), gr.get("startSelectionMse"), "the selection losses travel with the config");
        assertEquals(rf.selectionMse(), gr.get("selectionMse"));
        assertEquals(rf.selectionMse(), c.metrics().selectMse());
        assertNotNull(c.provenance().learnedGrid());
        assertEquals(Json.canonical(rf.optimisation()), Json.canonical(c.provenance().learnedGrid()));
        assertEquals(refined.validation().mse(), c.heldOutMse());
        boolean tableBeatsBase = s.results().get(0).vsBase() == CoefficientSet.Verdict.BEATS;
        assertEquals(refined.validation().publishable() && tableBeatsBase, c.validated());
        assertTrue(cands.stream().anyMatch(x -> x.method().equals("consistency-solver")), "the table stays a candidate");

        // export and sample run the refined table on exactly its times
        int idx = cands.indexOf(c);
        Path doc = dir.resolve("refined.json");
        assertEquals(0, io.solvertune.cli.Cli.run(new String[] {"export", "--config",
            a.resolve("publish").resolve(PublishStage.FILE).toString(), "--candidate", Integer.toString(idx),
            "--format", "json", "--out", doc.toString()}, new java.io.PrintWriter(new java.io.StringWriter(), true),
                new java.io.PrintWriter(new java.io.StringWriter(), true)));
        JsonNode exported = Json.MAPPER.readTree(doc.toFile());
        assertTrue(exported.toString().contains(Json.MAPPER.writeValueAsString(refined.times())
                .replace(" ", "")), exported.toString());
        java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(0, io.solvertune.cli.Cli.run(new String[] {"sample", "--spec", "src/main/resources/presets/gmm-sd-d32.json",
            "--config", doc.toString(), "--seed", "0", "--batch", "2", "--out", dir.resolve("samples.npy").toString()}, new java.io.PrintWriter(new java.io.StringWriter(), true),
                new java.io.PrintWriter(err, true)), err.toString());
    }

    /** A budget that cannot beat the start (one evaluation: the start itself) leaves the table as it is. */
    @Test
    void aStartTheBudgetCannotBeatLeavesTheTableBitForBit() throws Exception {
        ResolvedModel model = LocalJobRunner.resolveLocal(TuningJobSpecTest.json(String.format(SPEC, ""))
                .get("model"), Path.of("."));
        Path off = dir.resolve("off");
        LocalJobRunner.tuning().run(0, TuningJobSpecTest.json(String.format(SPEC, "")), model, off,
                new ConsistencyJobTest.Lines(), () -> false);
        Path one = dir.resolve("one");
        LocalJobRunner.tuning().run(0, TuningJobSpecTest.json(String.format(SPEC,
                ", 'refineGrid': true, 'refineEvaluations': 1")), model, one, new ConsistencyJobTest.Lines(),
                () -> false);
        ConsistencyStage.Summary s = ConsistencyStage.read(one.resolve(STAGE).resolve(ConsistencyStage.FILE));
        ConsistencyStage.Refinement rf = s.refinements().get(0);
        assertFalse(rf.chosen());
        assertFalse(rf.optimisation().improved());
        assertEquals(1, rf.optimisation().evaluations());
        assertTrue(s.refined().isEmpty());
        String table = s.results().get(0).file();
        assertArrayEquals(Files.readAllBytes(off.resolve(table)), Files.readAllBytes(one.resolve(table)));
        CoefficientSet t = CoefficientSet.fromJson(Files.readString(one.resolve(table)));
        for (int i = 0; i < t.times().length; i++) {
            assertEquals(Double.doubleToRawLongBits(t.times()[i]), Double.doubleToRawLongBits(
                    rf.optimisation().grid()[i]));
        }
        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(
                Files.readAllBytes(one.resolve("publish").resolve(PublishStage.FILE))));
        assertTrue(cands.stream().noneMatch(x -> x.method().endsWith("+grid")));
        assertArrayEquals(Files.readAllBytes(off.resolve("publish").resolve(PublishStage.FILE)),
                Files.readAllBytes(one.resolve("publish").resolve(PublishStage.FILE)));
    }

    @Test
    void offTheParametersAreThoseOfAJobWithoutTheOption() throws Exception {
        String without = String.format(SPEC, "");
        String off = String.format(SPEC, ", 'refineGrid': false");
        List<PlannedStage> a = new TuningJobPlanner().plan(TuningJobSpecTest.json(without));
        List<PlannedStage> b = new TuningJobPlanner().plan(TuningJobSpecTest.json(off));
        assertEquals(a, b);
        PlannedStage st = a.stream().filter(x -> x.name().equals(STAGE)).findFirst().orElseThrow();
        assertFalse(st.params().toString().contains("refine"), st.params().toString());
    }
}
