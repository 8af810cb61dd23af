package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.cli.Cli;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigProvenance;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny job with {@code "timesteps": "learned"} through the local runner: the learned grids of the best untuned
 * solver and of IIA-DDIM fitted on learned grids are published with their optimisation in the provenance, the
 * learned-grid config exports as sigma lists and diffusers timesteps, and a job killed in the middle of the CMA-ES
 * run of a grid (its journal cut in the middle of an evaluation line) resumes to the same bytes.
 */
class LearnedTimestepsJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['iia-ddim'], 'nfe': [5], 'guidance': [7.5],"
            + " 'spacings': ['logSNR', 'time_quadratic'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16, 'coefficientFitRows': 8},"
            + " 'timesteps': {'mode': 'learned', 'evaluations': 14, 'gitsPoints': 12, 'gitsRows': 4,"
            + " 'teacherSteps': 48}}";

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void learnedGridsArePublishedWithTheirOptimisationExportedAndResumedToTheSameBytes() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, SPEC.replace('\'', '"'));
        Path a = dir.resolve("a");
        Run r = cli("run-job", "--spec", spec.toString(), "--work", a.toString(), "--all");
        assertEquals(0, r.code(), r.err() + r.out());
        byte[] candidatesA = Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE));
        List<ConfigCandidate> cands = ConfigCandidate.listFromJson(Json.MAPPER.readTree(candidatesA));
        Set<String> methods = new HashSet<>();
        int timestepsIndex = -1;
        for (int i = 0; i < cands.size(); i++) {
            ConfigCandidate c = cands.get(i);
            methods.add(c.method());
            ConfigProvenance.LearnedGrid g = c.provenance().learnedGrid();
            if (c.method().equals("baseline") || c.method().equals("iia-ddim")) {
                assertEquals(null, g, c.method() + ": no learned grid");
                continue;
            }
            assertNotNull(g, c.method() + ": the learned grid's optimisation is in the provenance");
            CoefficientSet set = CoefficientSet.fromJson(c.values().toJson().get("coefficientSet").toString());
            checkOptimisation(g, set);
            if (c.method().equals("timesteps")) {
                timestepsIndex = i;
                assertEquals(CoefficientSet.Method.TIMESTEPS, set.method());
                // the plain learned grid starts from the best untuned baseline's solver and spacing
                ConfigCandidate baseline = cands.get(0);
                assertEquals("baseline", baseline.method());
                assertTrue(baseline.metrics().config().startsWith(set.base().label() + " "), "learned for the best "
                        + "untuned baseline's solver: " + set.base().label() + " vs " + baseline.metrics().config());
                assertEquals(baseline.spacing(), (set.baseSpacing() != null ? set.baseSpacing() : set.spacing()).id(),
                        "from the best untuned baseline's spacing");
                assertEquals(set.validation().publishable(), c.validated());
                assertEquals(baseline.metrics().config(), set.validation().baseline());
                // every row reports median and p99 beside the mean: the set's, its base's and the baseline's
                assertNotNull(c.metrics().heldOutMedian(), "median of the per-seed held-out errors");
                assertNotNull(c.metrics().heldOutP99(), "p99 of the per-seed held-out errors");
                assertTrue(c.metrics().heldOutMedian() <= c.metrics().heldOutP99());
                assertNotNull(c.metrics().baseMedian());
                assertNotNull(c.metrics().baselineP99());
            }
        }
        assertEquals(Set.of("baseline", "iia-ddim", "timesteps", "iia-ddim+timesteps"), methods, cands.toString());
        assertTrue(timestepsIndex >= 0);

        // the learned-grid config exports where consumers take custom grids: the sigma lists are its grid
        ConfigCandidate ts = cands.get(timestepsIndex);
        NoiseSchedule schedule;
        try (var d = Presets.load("gmm-sd-d32").build(Presets.baseDir())) {
            schedule = d.schedule();
        }
        double[] times = ts.values().toJson().get("coefficientSet").get("times").isArray()
                ? Json.MAPPER.convertValue(ts.values().toJson().get("coefficientSet").get("times"), double[].class)
                : null;
        assertNotNull(times);
        CoefficientSet tsSet = CoefficientSet.fromJson(ts.values().toJson().get("coefficientSet").toString());
        boolean singlestep = tsSet.base() instanceof io.solvertune.numerics.solver.dpm.DpmSolver dpm
                && dpm.method() == io.solvertune.numerics.solver.dpm.DpmSolver.Method.SINGLESTEP;
        String file = a.resolve("publish").resolve(PublishStage.FILE).toString();
        String idx = Integer.toString(timestepsIndex);
        assertEquals(0, cli("export", "--config", file, "--candidate", idx, "--format", "json", "--out",
                dir.resolve("c.json").toString()).code(), "the config document itself");
        for (String format : List.of("k-diffusion", "comfyui")) {
            Path out = dir.resolve(format + ".json");
            Run x = cli("export", "--config", file, "--candidate", idx, "--format", format, "--out", out.toString());
            if (singlestep) {
                // a singlestep solver runs the outer points of its grid: the stock consumers cannot be handed the
                // grid it was learned and validated on, and the export says so (the service answers 409)
                assertTrue(x.code() != 0 && x.err().contains("NotApplicable") && x.err().contains("steps"),
                        format + ": " + x.err());
                continue;
            }
            assertEquals(0, x.code(), format + ": " + x.err());
            String body = Files.readString(out);
            double first = Math.exp(-schedule.lambda(times[0]));
            double last = Math.exp(-schedule.lambda(times[times.length - 1]));
            assertTrue(body.contains(Double.toString(first)) && body.contains(Double.toString(last)),
                    format + " carries the grid's sigmas " + first + " .. " + last + ": " + body);
        }
        if (!singlestep) {
            Run diffusers = cli("export", "--config", file, "--candidate", idx, "--format", "diffusers", "--out",
                    dir.resolve("d.zip").toString());
            assertEquals(0, diffusers.code(), diffusers.err());
        }

        // killed while CMA-ES learns the first grid: the journal holds the evaluations so far (cut mid-line)
        Path b = dir.resolve("b");
        JsonNode tree = Json.MAPPER.readTree(Files.readString(spec));
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), dir);
        Path progress = b.resolve("g7.5/timesteps/progress");
        assertThrows(CancellationException.class, () -> LocalJobRunner.tuning().run(0, tree, model, b,
                new LocalJobRunner.Listener() { }, () -> journals(progress).findAny().isPresent()));
        assertFalse(Files.exists(b.resolve("g7.5/timesteps/" + StageCheckpoint.FILE)), "the stage did not finish");
        Path journal = journals(progress).findFirst().orElseThrow();
        List<String> lines = Files.readAllLines(journal);
        assertTrue(lines.size() >= 4, "evaluations journaled: " + lines.size());
        int keep = lines.size() / 2;
        Files.writeString(journal, String.join("\n", lines.subList(0, keep)) + "\n"
                + lines.get(keep).substring(0, 20));
        Run resumed = cli("run-job", "--spec", spec.toString(), "--work", b.toString(), "--all");
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertArrayEquals(candidatesA, Files.readAllBytes(b.resolve("publish").resolve(PublishStage.FILE)),
                "killed-and-resumed candidates equal the uninterrupted run's");
        assertEquals(lines, Files.readAllLines(journal).subList(0, lines.size()), "the same evaluations again");
    }

    private static Stream<Path> journals(Path progress) {
        if (!Files.isDirectory(progress)) {
            return Stream.empty();
        }
        try (Stream<Path> s = Files.list(progress)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().startsWith("journal-")).sorted().toList();
            return l.stream().filter(p -> {
                try {
                    return Files.size(p) > 0;
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            return Stream.empty();
        }
    }

    /** The optimisation record is consistent with the set it was published with. */
    static void checkOptimisation(ConfigProvenance.LearnedGrid g, CoefficientSet set) {
        assertEquals(5, g.nfe());
        assertEquals(8, g.fitRows());
        assertEquals("final-state-mse", g.objective());
        assertEquals("cma-es", g.optimizer());
        assertEquals(14, g.maxEvaluations());
        assertTrue(g.evaluations() >= 1 && g.evaluations() <= 14, "evaluations " + g.evaluations());
        assertTrue(g.initialiser().equals("spacing") || g.initialiser().equals("gits"), g.initialiser());
        assertTrue(g.endObjective() <= g.startObjective(), "never worse than its start");
        assertEquals(g.improved(), g.endObjective() < Math.min(g.startObjective(),
                g.gitsObjective() == null ? Double.POSITIVE_INFINITY : g.gitsObjective()));
        assertFalse(g.trace().isEmpty());
        assertEquals(g.endObjective(), g.trace().get(g.trace().size() - 1)[2], "the trace ends at the result");
        assertEquals(g.startGrid().length, g.grid().length);
        assertEquals(set.steps() + 1, g.grid().length);
        if (g.startGrid().length > 2) {
            assertFalse(g.generations().isEmpty(), "CMA-ES generations recorded");
        }
        assertNotNull(g.published());
        if (g.published()) {
            assertArrayEquals(g.grid(), set.times(), "the config runs the learned grid");
            assertEquals("explicit", set.spacing().id());
        } else {
            assertEquals(null, set.baseSpacing(), "an untuned grid won the choice");
        }
    }
}
