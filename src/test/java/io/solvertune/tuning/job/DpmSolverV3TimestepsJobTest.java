package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny mixture job with {@code dpmsolver-v3} and {@code "timesteps": "learned"} through the local runner: the
 * {@code timesteps-dpmsolver-v3} stage learns the grid of the snapped setting {@code validate-dpmsolver-v3} chose, off
 * the statistics grid; it is published as {@code dpmsolver-v3+timesteps} (interpolated positions, the learned grid in
 * provenance, validated against the snapped v3 on the same held-out seeds), and a job killed in the middle of its
 * CMA-ES run resumes to the same bytes.
 */
class DpmSolverV3TimestepsJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['dpmsolver-v3'], 'nfe': [5], 'guidance': [7.5],"
            + " 'spacings': ['logSNR'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16, 'coefficientFitRows': 8},"
            + " 'ems': {'lMethod': 'exact'},"
            + " 'timesteps': {'mode': 'learned', 'evaluations': 14, 'gitsPoints': 12, 'gitsRows': 4,"
            + " 'teacherSteps': 48}}";
    static final String STAGE = "g7.5/timesteps-dpmsolver-v3";
    static final String METHOD = "dpmsolver-v3+timesteps";

    @TempDir
    Path dir;

    @Test
    void theStageIsPlannedOnlyWithV3AndLearnedTimesteps() throws Exception {
        TuningJobSpec spec = TuningJobSpec.parse(TuningJobSpecTest.json(SPEC));
        List<PlannedStage> plan = new TuningJobPlanner().plan(spec);
        assertEquals(spec.plannedStages(), plan.size());
        PlannedStage s = plan.stream().filter(x -> x.name().equals(STAGE)).findFirst().orElseThrow();
        assertEquals(StageKind.TIMESTEPS_V3.id(), s.kind());
        assertEquals(List.of("g7.5/fit-dpmsolver-v3", "g7.5/teacher-train", "g7.5/teacher-heldout", "g7.5/baseline",
                "g7.5/validate-dpmsolver-v3"), s.dependsOn());
        PlannedStage publish = plan.get(plan.size() - 1);
        assertTrue(publish.dependsOn().contains(STAGE));
        assertEquals(STAGE, publish.params().get("groups").get(0).get("v3Timesteps").asText());
        // without learned timesteps (or without v3) no such stage, and the publish params keep their old form
        for (String other : List.of(SPEC.replaceAll(", 'timesteps': \\{[^}]*}", ""),
                SPEC.replace("'methods': ['dpmsolver-v3']", "'methods': ['dc']"))) {
            TuningJobSpec o = TuningJobSpec.parse(TuningJobSpecTest.json(other));
            List<PlannedStage> p = new TuningJobPlanner().plan(o);
            assertEquals(o.plannedStages(), p.size());
            assertTrue(p.stream().noneMatch(x -> x.kind().equals(StageKind.TIMESTEPS_V3.id())), other);
            assertFalse(p.get(p.size() - 1).params().get("groups").get(0).has("v3Timesteps"), other);
        }
    }

    @Test
    void v3LearnsItsGridOffTheStatisticsGridPublishesItAndResumesToTheSameBytes() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, SPEC.replace('\'', '"'));
        Path a = dir.resolve("a");
        LearnedTimestepsJobTest.Run r = LearnedTimestepsJobTest.cli("run-job", "--spec", spec.toString(), "--work",
                a.toString(), "--all");
        assertEquals(0, r.code(), r.err() + r.out());
        byte[] candidatesA = Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE));
        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(candidatesA));
        Set<String> methods = new HashSet<>();
        cands.forEach(c -> methods.add(c.method()));
        assertEquals(Set.of("baseline", "timesteps", "dpmsolver-v3", METHOD), methods, cands.toString());
        ConfigCandidate snapped = cands.stream().filter(c -> c.method().equals("dpmsolver-v3")).findFirst()
                .orElseThrow();
        ConfigCandidate learned = cands.stream().filter(c -> c.method().equals(METHOD)).findFirst().orElseThrow();
        assertEquals(null, snapped.provenance().learnedGrid(), "the snapped v3 has no learned grid");
        assertFalse(snapped.values().toJson().has("positions"), "the snapped v3 keeps its old form");

        // a dpmsolver-v3 config on interpolated positions, running the learned grid of its provenance
        assertEquals("dpmsolver-v3", learned.solver());
        assertEquals(snapped.solverOptions(), learned.solverOptions(), "the snapped setting's options");
        assertEquals(5, learned.nfe());
        assertEquals("explicit", learned.spacing());
        JsonNode values = learned.values().toJson();
        assertEquals("interpolated", values.get("positions").asText());
        double[] times = Json.MAPPER.convertValue(values.get("times"), double[].class);
        ConfigProvenance.LearnedGrid g = learned.provenance().learnedGrid();
        assertNotNull(g, "the grid's optimisation is in the provenance");
        assertEquals(Boolean.TRUE, g.published());
        assertArrayEquals(g.grid(), times, "the config runs the learned grid");
        assertArrayEquals(times, learned.provenance().timesteps());
        assertEquals(STAGE, learned.provenance().stage());
        assertEquals(8, g.fitRows());
        assertEquals("final-state-mse", g.objective());
        assertEquals(14, g.maxEvaluations());
        assertTrue(g.endObjective() <= g.startObjective(), "never worse than its start on the fit rows");
        // it started from the snapped v3's times (the snapped config's grid, ends as the teacher's)
        double[] snappedTimes = snapped.provenance().timesteps();
        assertEquals(snappedTimes.length, times.length);
        for (int i = 1; i < snappedTimes.length - 1; i++) {
            assertEquals(snappedTimes[i], g.startGrid()[i], 0.0, "start time " + i);
        }
        // the learned interior times lie off the statistics grid (uniform in lambda): interpolated statistics
        EmpiricalModelStatistics ems = EmsNpz.read(a.resolve(Json.MAPPER.readTree(a.resolve("g7.5/fit-dpmsolver-v3/"
                + StageCheckpoint.FILE).toFile()).get("output").get("dir").asText()));
        NoiseSchedule schedule;
        try (var d = Presets.load("gmm-sd-d32").build(Presets.baseDir())) {
            schedule = d.schedule();
        }
        double[] lambdas = ems.grid().lambdas(schedule);
        double step = (lambdas[lambdas.length - 1] - lambdas[0]) / (lambdas.length - 1);
        int off = 0;
        for (int i = 1; i < times.length - 1; i++) {
            double u = (schedule.lambda(times[i]) - lambdas[0]) / step;
            if (Math.abs(u - Math.rint(u)) > 1e-3) {
                off++;
            }
        }
        assertTrue(off > 0, "some learned time lies between statistics grid points: " + java.util.Arrays.toString(
                times));

        // validated against the snapped v3 on the same held-out seeds, as the stage reports
        assertEquals(snapped.heldOutMse(), learned.metrics().baseMse(), 0.0, "its base is the snapped v3");
        assertEquals(learned.metrics().vsBase() == CoefficientSet.Verdict.BEATS, learned.validated());
        JsonNode out = Json.MAPPER.readTree(a.resolve(STAGE + "/" + StageCheckpoint.FILE).toFile()).get("output");
        JsonNode row = out.get("results").get(0);
        assertEquals(learned.heldOutMse(), row.get("heldOutMse").asDouble(), 0.0);
        assertEquals(learned.validated(), row.get("publishable").asBoolean());
        assertEquals(cands.stream().filter(c -> c.method().equals("baseline")).findFirst().orElseThrow().metrics()
                .config(), learned.metrics().baseline());
        // the values read back (from the candidates file) as DPM-Solver-v3 on interpolated positions
        assertTrue(learned.values() instanceof ConfigValues.DpmSolverV3 v
                && v.spec().positions() == io.solvertune.numerics.solver.v3.DpmSolverV3.Positions.INTERPOLATED,
                learned.values().toString());

        // the json export keeps the positions; the official DPM-Solver-v3 export refuses them (its sampler snaps)
        String file = a.resolve("publish").resolve(PublishStage.FILE).toString();
        String idx = Integer.toString(cands.indexOf(learned));
        Path exported = dir.resolve("v3.json");
        LearnedTimestepsJobTest.Run x = LearnedTimestepsJobTest.cli("export", "--config", file, "--candidate", idx,
                "--format", "json", "--out", exported.toString());
        assertEquals(0, x.code(), x.err());
        assertEquals("interpolated", Json.MAPPER.readTree(exported.toFile()).path("values").path("positions")
                .asText());
        LearnedTimestepsJobTest.Run official = LearnedTimestepsJobTest.cli("export", "--config", file, "--candidate",
                idx, "--format", "dpmsolver-v3", "--out", dir.resolve("v3.zip").toString());
        assertTrue(official.code() != 0 && official.err().contains("interpolated statistics"), official.err());

        // killed while CMA-ES learns v3's grid: the journal holds the evaluations so far (cut mid-line)
        Path b = dir.resolve("b");
        JsonNode tree = Json.MAPPER.readTree(Files.readString(spec));
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), dir);
        Path progress = b.resolve(STAGE + "/progress");
        assertThrows(CancellationException.class, () -> LocalJobRunner.tuning().run(0, tree, model, b,
                new LocalJobRunner.Listener() { }, () -> journals(progress).size() >= 3));
        assertFalse(Files.exists(b.resolve(STAGE + "/" + StageCheckpoint.FILE)), "the stage did not finish");
        List<String> lines = journals(progress);
        int keep = lines.size() / 2;
        Path journal = journal(progress);
        Files.writeString(journal, String.join("\n", lines.subList(0, keep)) + "\n"
                + lines.get(keep).substring(0, Math.min(20, lines.get(keep).length() - 1)));
        LearnedTimestepsJobTest.Run resumed = LearnedTimestepsJobTest.cli("run-job", "--spec", spec.toString(),
                "--work", b.toString(), "--all");
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertArrayEquals(candidatesA, Files.readAllBytes(b.resolve("publish").resolve(PublishStage.FILE)),
                "killed-and-resumed candidates equal the uninterrupted run's");
        assertEquals(lines, Files.readAllLines(journal).subList(0, lines.size()), "the same evaluations again");
    }

    /** The first non-empty journal of the stage, or null. */
    private static Path journal(Path progress) throws java.io.IOException {
        if (!Files.isDirectory(progress)) {
            return null;
        }
        try (var s = Files.list(progress)) {
            for (Path p : s.filter(x -> x.getFileName().toString().startsWith("journal-")).sorted().toList()) {
                if (Files.size(p) > 0) {
                    return p;
                }
            }
        }
        return null;
    }

    /** The lines of {@link #journal} (empty if none yet). */
    private static List<String> journals(Path progress) {
        try {
            Path j = journal(progress);
            return j == null ? List.of() : Files.readAllLines(j);
        } catch (java.io.IOException e) {
            return List.of();
        }
    }
}
