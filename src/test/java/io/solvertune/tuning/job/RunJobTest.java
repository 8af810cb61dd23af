package io.solvertune.tuning.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.cli.Cli;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.Platform;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny job on the reference mixture end to end through {@code run-job}, and interrupted-then-resumed. */
class RunJobTest {
    static final String SPEC = "{'model': 'gmm-sd-d32', 'methods': ['dode', 'dpmsolver-v3'], 'nfe': [5],"
            + " 'guidance': [7.5], 'spacings': ['logSNR'],"
            + " 'teacher': {'steps': 60, 'recordEvery': 2, 'checkSeeds': 4, 'tolerance': 1e-2},"
            + " 'seeds': {'train': 32, 'heldOut': 12, 'shardSize': 16, 'fitRows': 16},"
            + " 'ems': {'lMethod': 'exact'}}";

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run runJob(Path spec, Path work) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Cli.run(new String[] {"run-job", "--spec", spec.toString(), "--work", work.toString(), "--all"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void tinyJobEndToEndAndInterruptedThenResumedGivesTheSameCandidates() throws Exception {
        Path spec = dir.resolve("job.json");
        Files.writeString(spec, SPEC.replace('\'', '"'));

        Path a = dir.resolve("a");
        Run r = runJob(spec, a);
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("publish done in"), r.out());
        byte[] candidatesA = Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE));
        JsonNode cands = Json.MAPPER.readTree(candidatesA);
        checkCandidates(cands);
        checkQuantiles(a, cands);
        // the mixture's samples are not images: its grid stage records why it has none
        JsonNode grids = Json.MAPPER.readTree(a.resolve("g7.5/sample-grids/" + StageCheckpoint.FILE).toFile())
                .get("output");
        assertTrue(grids.get("skipped").asText().startsWith("samples of shape [32] are not images"), grids.toString());
        assertEquals(0, grids.get("grids").size());
        // the typed contract publishes what the old path published (fixtures of the old path); the D-ODE set is
        // chosen by absolute selection error since (issue 17), no longer by its gain over its own base
        io.solvertune.tuning.publish.PublishCompatibilityTest.assertPublishedAsBefore(
                io.solvertune.tuning.publish.ConfigCandidate.listFromJson(cands), Set.of("baseline", "dpmsolver-v3"));
        // the fit starts from the best untuned baseline's solver and spacing (D-ODE refuses a singlestep base)
        JsonNode fit = Json.MAPPER.readTree(a.resolve("g7.5/fit-dode/" + StageCheckpoint.FILE).toFile())
                .get("output").get("results").get(0);
        String best = cands.get(0).get("metrics").get("config").asText();
        boolean triedFirst = fit.get("config").asText().equals("dode " + best)
                || fit.get("failures").size() > 0 && fit.get("failures").get(0).asText().startsWith(best + ":");
        assertTrue(triedFirst, "the best untuned baseline " + best + " is the first variant: " + fit);

        // rerun: every stage comes from its checkpoint, same bytes
        Run again = runJob(spec, a);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("already finished"), again.out());
        assertArrayEquals(candidatesA, Files.readAllBytes(a.resolve("publish").resolve(PublishStage.FILE)));

        // interrupted mid-job (cancelled after some stages), then resumed by run-job
        Path b = dir.resolve("b");
        AtomicInteger polls = new AtomicInteger();
        JsonNode tree = Json.MAPPER.readTree(Files.readString(spec));
        ResolvedModel model = LocalJobRunner.resolveLocal(tree.get("model"), dir);
        assertThrows(CancellationException.class, () -> LocalJobRunner.tuning().run(0, tree, model, b,
                new LocalJobRunner.Listener() { }, () -> polls.incrementAndGet() > 30));
        assertTrue(Files.exists(b.resolve("g7.5/teacher-train/" + StageCheckpoint.FILE)), "some stages finished");
        assertFalse(Files.exists(b.resolve("publish/" + StageCheckpoint.FILE)), "the job did not finish");
        Run resumed = runJob(spec, b);
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertArrayEquals(candidatesA, Files.readAllBytes(b.resolve("publish").resolve(PublishStage.FILE)),
                "interrupted-and-resumed candidates equal the uninterrupted run's");
    }

    @Test
    void runJobRefusesBadSpecsNamingTheField() throws Exception {
        Path spec = dir.resolve("bad.json");
        Files.writeString(spec, SPEC.replace("'nfe': [5]", "'nfe': [0]").replace('\'', '"'));
        Run r = runJob(spec, dir.resolve("w"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("nfe[0]: expected an integer in 1..50"), r.err());
        Files.writeString(spec, SPEC.replace("'gmm-sd-d32'", "7").replace('\'', '"'));
        Run id = runJob(spec, dir.resolve("w"));
        assertTrue(id.code() == 2 && id.err().contains("model: a local run needs a preset name or a model spec file"),
                id.err());
        assertFalse(Files.exists(dir.resolve("w")), "nothing written for a rejected spec");
    }

    /**
     * Every candidate's median and p99 (and those of the base and the best baseline its verdicts compare against)
     * equal an independent computation from the per-seed held-out errors: the stage files' for the baseline and
     * DPM-Solver-v3, and a fresh evaluation of the published D-ODE set and its base on the held-out teacher set.
     */
    static void checkQuantiles(Path work, JsonNode cands) throws Exception {
        JsonNode bl = Json.MAPPER.readTree(work.resolve("g7.5/baseline/" + BaselineStage.FILE).toFile())
                .get("picks").get(0);
        double[] best = doubles(bl.get("heldOut").get("perSeed"));
        JsonNode v3 = Json.MAPPER.readTree(work.resolve("g7.5/validate-dpmsolver-v3/" + DpmSolverV3Stage.FILE)
                .toFile()).get("picks").get(0);
        for (JsonNode c : cands) {
            JsonNode m = c.get("metrics");
            String method = c.get("method").asText();
            double[] tuned;
            double[] base = null;
            switch (method) {
                case "baseline" -> tuned = best;
                case "dpmsolver-v3" -> {
                    tuned = doubles(v3.get("heldOut").get("perSeed"));
                    base = doubles(v3.get("base").get("perSeed"));
                }
                case "dode" -> {
                    CoefficientSet set = CoefficientSet.fromJson(c.get("values").get("coefficientSet").toString());
                    double[][] errors = reevaluate(work, set);
                    tuned = errors[0];
                    base = errors[1];
                    assertEquals(quantile(tuned, 0.5), set.validation().median(), 1e-12 * quantile(tuned, 0.5));
                    assertEquals(quantile(tuned, 0.99), set.validation().p99(), 1e-12 * quantile(tuned, 0.99));
                }
                default -> throw new AssertionError(method);
            }
            assertEquals(12, tuned.length);
            assertEquals(mean(tuned), m.get("heldOutMse").asDouble(), 1e-12 * mean(tuned), method + " per-seed source");
            assertClose(quantile(tuned, 0.5), m, "heldOutMedian", method);
            assertClose(quantile(tuned, 0.99), m, "heldOutP99", method);
            assertTrue(m.get("heldOutMedian").asDouble() <= m.get("heldOutP99").asDouble(), method);
            if (base != null) {
                assertEquals(mean(base), m.get("baseMse").asDouble(), 1e-12 * mean(base), method + " base source");
                assertClose(quantile(base, 0.5), m, "baseMedian", method);
                assertClose(quantile(base, 0.99), m, "baseP99", method);
                assertClose(quantile(best, 0.5), m, "baselineMedian", method);
                assertClose(quantile(best, 0.99), m, "baselineP99", method);
            } else {
                assertFalse(m.has("baseMedian") || m.has("baselineMedian"), m.toString());
            }
            assertEquals(m, c.get("provenance").get("metrics"));
        }
    }

    /** The published set and its base solver re-run on the held-out teacher set: per-seed errors of each. */
    private static double[][] reevaluate(Path work, CoefficientSet set) throws Exception {
        ResolvedModel model = LocalJobRunner.resolveLocal(Json.MAPPER.getNodeFactory().textNode("gmm-sd-d32"), work);
        Path heldDir;
        try (var files = Files.walk(work.resolve("g7.5/teacher-heldout"))) {
            heldDir = files.filter(f -> f.getFileName().toString().equals(
                    io.solvertune.tuning.teacher.TrajectorySet.META)).findFirst().orElseThrow().getParent();
        }
        var held = io.solvertune.tuning.teacher.TrajectorySet.open(heldDir);
        var targets = io.solvertune.tuning.eval.Evaluation.Targets.load(held, 0, held.size());
        try (var d = model.spec().build(io.solvertune.tuning.Presets.baseDir())) {
            var g = StageRuntime.guidance(d, null, 7.5);
            var tuned = io.solvertune.tuning.eval.Evaluation.evaluate(d, g, targets, io.solvertune.tuning.fit
                    .TunedMethods.candidate(io.solvertune.tuning.fit.MethodCatalog.method("dode"), set), 5, 64,
                    model.spec().dataType(), 0);
            var base = io.solvertune.tuning.eval.Evaluation.evaluate(d, g, targets,
                    io.solvertune.tuning.fit.TunedMethods.baseCandidate(set), 5, 64, model.spec().dataType(), 0);
            return new double[][] {tuned.perSeedMse(), base.perSeedMse()};
        }
    }

    private static void assertClose(double want, JsonNode metrics, String field, String method) {
        assertTrue(metrics.path(field).isNumber(), method + " has " + field + ": " + metrics);
        assertEquals(want, metrics.get(field).asDouble(), 1e-12 * Math.abs(want), method + " " + field);
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asDouble();
        }
        return v;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /** The q-quantile by linear interpolation between the order statistics at (n - 1) q (numpy's default). */
    private static double quantile(double[] v, double q) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        double h = (s.length - 1) * q;
        int below = (int) h;
        return below + 1 < s.length ? s[below] + (h - below) * (s[below + 1] - s[below]) : s[below];
    }

    static void checkCandidates(JsonNode cands) {
        assertTrue(cands.isArray());
        Set<String> componentNames = new HashSet<>();
        for (var c : io.solvertune.tuning.publish.ConfigCandidate.class.getRecordComponents()) {
            componentNames.add(c.getName());
        }
        Set<String> methods = new HashSet<>();
        for (JsonNode c : cands) {
            Set<String> fields = new HashSet<>();
            c.fieldNames().forEachRemaining(fields::add);
            assertEquals(componentNames, fields, "exactly the ConfigCandidate fields");
            assertEquals(5, c.get("nfe").asInt());
            assertEquals(7.5, c.get("guidance").asDouble());
            assertEquals(0, c.get("modelId").asLong());
            methods.add(c.get("method").asText());
            JsonNode p = c.get("provenance");
            assertEquals(64, p.get("modelHash").asText().length());
            assertEquals(CodeVersion.get(), p.get("codeVersion").asText());
            assertEquals(Json.MAPPER.valueToTree(Platform.current()), p.get("platform"), "java, os, djl, pytorch, device");
            assertEquals(0, p.get("jobId").asLong());
            assertEquals(7.5, p.get("guidance").get("scale").asDouble());
            assertTrue(p.get("guidance").get("perSeedClass").asBoolean());
            assertEquals(60, p.get("teacher").get("train").get("steps").asInt());
            assertEquals(1_000_000, p.get("seeds").get("heldOut").get("first").asLong());
            assertEquals(12, p.get("seeds").get("heldOut").get("count").asInt());
            assertFalse(p.get("seeds").get("publishableHeldOut").asBoolean());
            assertTrue(p.get("schedule").isObject());
            assertTrue(p.get("timesteps").isArray() && p.get("timesteps").size() >= 2);
            assertEquals(c.get("heldOutMse").asDouble(), c.get("metrics").get("heldOutMse").asDouble());
            assertTrue(c.get("heldOutMse").asDouble() > 0);
            assertEquals(c.get("metrics"), p.get("metrics"));
            switch (c.get("method").asText()) {
                case "baseline" -> {
                    assertTrue(c.get("validated").asBoolean());
                    assertEquals("logSNR", c.get("spacing").asText());
                    JsonNode times = c.get("values").get("times");
                    assertTrue(times.size() >= 2 && times.size() <= c.get("values").get("steps").asInt() + 1);
                    assertEquals(c.get("tStart").asDouble(), times.get(0).asDouble());
                    assertEquals(c.get("tEnd").asDouble(), times.get(times.size() - 1).asDouble());
                }
                case "dode" -> {
                    assertEquals("coefficients", c.get("values").get("type").asText());
                    CoefficientSet set = CoefficientSet.fromJson(c.get("values").get("coefficientSet").toString());
                    assertEquals(5, set.nfe());
                    assertEquals(set.validation().publishable(), c.get("validated").asBoolean());
                    assertEquals(set.validation().mse(), c.get("heldOutMse").asDouble());
                    assertArrayEquals(set.times(), Json.MAPPER.convertValue(p.get("timesteps"), double[].class));
                }
                case "dpmsolver-v3" -> {
                    assertEquals("dpmsolver-v3", c.get("solver").asText());
                    // the statistics travel inline in the typed value (read from l.npz and sb.npz, sha256-checked)
                    JsonNode ems = c.get("values").get("ems");
                    assertTrue(ems.has("l") && ems.has("s") && ems.has("b"), ems.fieldNames().toString());
                    assertEquals(30, ems.get("metadata").get("gridSteps").asInt());
                    assertEquals(31 * 32, ems.get("l").size(), "(K + 1) x sample shape");
                    String verdict = c.get("metrics").get("vsBase").asText();
                    assertEquals(verdict.equals("BEATS"), c.get("validated").asBoolean());
                }
                default -> throw new AssertionError("unexpected method " + c.get("method"));
            }
        }
        assertEquals(Set.of("baseline", "dode", "dpmsolver-v3"), methods, cands.toString());
        assertEquals(3, cands.size());
        assertEquals("baseline", cands.get(0).get("method").asText(), "the baseline comes first at each NFE");
    }
}
