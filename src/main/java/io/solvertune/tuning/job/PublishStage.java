package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.CodeVersion;
import io.solvertune.numerics.Platform;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the job's results into {@link PublishCandidate}s, per guidance scale and NFE: the best untuned baseline
 * ({@code validated}), every chosen coefficient set ({@code validated} = {@link CoefficientSet.Validation#publishable()})
 * and DPM-Solver-v3 ({@code validated} = beats DPM-Solver++ of the same order on the same grid). The output (and {@code candidates.json})
 * is the JSON array of candidates; it holds no wall times or paths outside the work directory, so an interrupted and
 * resumed job gives the same bytes as an uninterrupted one.
 */
final class PublishStage extends CheckpointedStage {
    static final String FILE = "candidates.json";

    @Override
    protected Result run(StageContext ctx, Path dir) throws Exception {
        StageParams.Publish p = StageParams.read(ctx.stage().params(), StageParams.Publish.class);
        List<PublishCandidate> out = new ArrayList<>();
        for (StageParams.Group g : p.groups()) {
            StageRuntime.checkCancelled(ctx);
            Scores.Baselines base = Scores.readBaselines(StageRuntime.dependencyPath(ctx, g.baseline(), "file"));
            Map<Integer, List<PublishCandidate>> byNfe = new LinkedHashMap<>();
            for (Scores.BaselinePick b : base.picks()) {
                byNfe.computeIfAbsent(b.nfe(), n -> new ArrayList<>()).add(baseline(ctx, p, g, base, b));
            }
            for (String fit : g.fits()) {
                JsonNode fo = ctx.dependencyOutputs().get(fit);
                for (JsonNode row : fo.path("results")) {
                    if (!row.hasNonNull("file")) {
                        continue;
                    }
                    CoefficientSet set = CoefficientSet.fromJson(Files.readString(ctx.workDir().resolve(
                            row.get("file").asText())));
                    byNfe.computeIfAbsent(set.nfe(), n -> new ArrayList<>()).add(
                            fitted(ctx, p, g, base, fo.get("method").asText(), set));
                }
            }
            if (g.v3() != null) {
                JsonNode vo = ctx.dependencyOutputs().get(g.v3());
                DpmSolverV3Stage.Picks picks = DpmSolverV3Stage.read(StageRuntime.dependencyPath(ctx, g.v3(), "file"));
                JsonNode ems = vo.get("emsOutput");
                for (DpmSolverV3Stage.Pick pk : picks.picks()) {
                    byNfe.computeIfAbsent(pk.nfe(), n -> new ArrayList<>()).add(v3(ctx, p, g, base, pk, picks, ems));
                }
            }
            byNfe.values().forEach(out::addAll);
        }
        ArrayNode arr = Json.MAPPER.valueToTree(out);
        Path file = dir.resolve(FILE);
        StageCheckpoint.writeAtomically(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr));
        long validated = out.stream().filter(PublishCandidate::validated).count();
        ctx.log("INFO", "publish: " + out.size() + " candidates, " + validated + " validated");
        ctx.progress(1, 1, out.size() + " candidates, " + validated + " validated");
        return new Result(arr, List.of(StageRuntime.relative(ctx, file)));
    }

    private static PublishCandidate baseline(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                             Scores.Baselines base, Scores.BaselinePick b) {
        ObjectNode values = Json.MAPPER.createObjectNode();
        values.set("solver", Json.MAPPER.valueToTree(b.candidate().solver()));
        values.set("spacing", Json.MAPPER.valueToTree(b.candidate().spacing()));
        values.put("steps", b.candidate().stepsFor(b.nfe()));
        values.put("lowerOrderFinal", b.candidate().lowerOrderFinal());
        values.put("denoiseToZero", b.candidate().denoiseToZero());
        values.set("times", Json.MAPPER.valueToTree(b.times()));
        ObjectNode metrics = Json.MAPPER.createObjectNode();
        metrics.put("config", b.candidate().name());
        metrics.put("heldOutMse", b.heldOut().meanMse());
        metrics.put("heldOutStdErr", b.heldOut().stdErr());
        metrics.put("heldOutSeeds", b.heldOut().seeds());
        metrics.put("selectMse", b.select().meanMse());
        metrics.put("candidatesTried", b.candidatesTried());
        metrics.put("ratioToBaseline", 1.0);
        SolverSpec s = b.candidate().solver();
        return new PublishCandidate(ctx.model().id(), PublishCandidate.BASELINE, SolverCatalog.nameOf(s),
                Json.MAPPER.valueToTree(SolverCatalog.options(s)), b.nfe(), g.guidance(), b.candidate().spacing().id(),
                b.tStart(), b.tEnd(), values, metrics, provenance(ctx, p, base, b.nfe(), b.times(), metrics,
                        Map.of("stage", g.baseline())), true, b.heldOut().meanMse());
    }

    private static PublishCandidate fitted(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                           Scores.Baselines base, String method, CoefficientSet set)
            throws java.io.IOException {
        CoefficientSet.Validation v = set.validation();
        ObjectNode metrics = Json.MAPPER.createObjectNode();
        metrics.put("heldOutMse", v.mse());
        metrics.put("heldOutStdErr", v.stdErr());
        metrics.put("heldOutSeeds", v.seeds());
        metrics.put("baseMse", v.baseMse());
        metrics.put("baseStdErr", v.baseStdErr());
        metrics.put("ratioToBase", v.mse() / v.baseMse());
        metrics.put("vsBase", String.valueOf(v.vsBase()));
        if (v.baseline() != null) {
            metrics.put("baseline", v.baseline());
            metrics.put("baselineMse", v.baselineMse());
            metrics.put("ratioToBaseline", v.mse() / v.baselineMse());
            metrics.put("vsBaseline", String.valueOf(v.vsBaseline()));
        }
        SolverSpec b = set.base();
        double[] times = set.times();
        return new PublishCandidate(ctx.model().id(), method, catalogName(b), options(b), set.nfe(), g.guidance(),
                set.spacing().id(), times[0], times[times.length - 1], Json.MAPPER.readTree(set.toJson()), metrics,
                provenance(ctx, p, base, set.nfe(), times, metrics, Map.of("stage", g.fits().stream()
                        .filter(f -> f.endsWith("/fit-" + method)).findFirst().orElse(""))),
                v.publishable(), v.mse());
    }

    private static PublishCandidate v3(StageContext ctx, StageParams.Publish p, StageParams.Group g,
                                       Scores.Baselines base, DpmSolverV3Stage.Pick pk, DpmSolverV3Stage.Picks picks,
                                       JsonNode ems) {
        ObjectNode opts = Json.MAPPER.createObjectNode();
        opts.put("order", pk.order());
        opts.put("p_pseudo", pk.pPseudo());
        opts.put("use_corrector", pk.useCorrector());
        opts.put("c_pseudo", pk.cPseudo());
        ObjectNode values = Json.MAPPER.createObjectNode();
        values.set("options", opts.deepCopy());
        values.set("spacing", Json.MAPPER.valueToTree(pk.spacing()));
        values.put("steps", pk.times().length - 1);
        values.set("times", Json.MAPPER.valueToTree(pk.times()));
        ObjectNode emsNode = values.putObject("ems");
        emsNode.put("gridSteps", picks.gridSteps());
        emsNode.put("source", ems.path("source").asText());
        emsNode.put("samples", ems.path("samples").asInt());
        ObjectNode files = emsNode.putObject("files");
        ems.path("sha256").fields().forEachRemaining(e -> files.putObject(e.getKey())
                .put("path", ems.get("dir").asText() + "/" + e.getKey()).put("sha256", e.getValue().asText()));
        ObjectNode metrics = Json.MAPPER.createObjectNode();
        metrics.put("config", pk.name());
        metrics.put("heldOutMse", pk.heldOut().meanMse());
        metrics.put("heldOutStdErr", pk.heldOut().stdErr());
        metrics.put("heldOutSeeds", pk.heldOut().seeds());
        metrics.put("selectMse", pk.select().meanMse());
        metrics.put("baseMse", pk.base().meanMse());
        metrics.put("baseStdErr", pk.base().stdErr());
        metrics.put("ratioToBase", pk.heldOut().meanMse() / pk.base().meanMse());
        metrics.put("vsBase", String.valueOf(pk.vsBase()));
        metrics.put("baseline", pk.baseline());
        metrics.put("baselineMse", pk.baselineMse());
        metrics.put("ratioToBaseline", pk.heldOut().meanMse() / pk.baselineMse());
        metrics.put("vsBaseline", String.valueOf(pk.vsBaseline()));
        return new PublishCandidate(ctx.model().id(), TuningJobSpec.DPM_SOLVER_V3, TuningJobSpec.DPM_SOLVER_V3, opts,
                pk.nfe(), g.guidance(), pk.spacing().id(), pk.tStart(), pk.tEnd(), values, metrics,
                provenance(ctx, p, base, pk.nfe(), pk.times(), metrics, Map.of("stage", g.v3())), pk.publishable(),
                pk.heldOut().meanMse());
    }

    /** Model, schedule, guidance, NFE, grid, teacher, seeds, code version and platform, metrics and job of a candidate. */
    private static JsonNode provenance(StageContext ctx, StageParams.Publish p, Scores.Baselines base, int nfe,
                                       double[] times, JsonNode metrics, Map<String, String> extra) {
        ObjectNode pr = Json.MAPPER.createObjectNode();
        pr.put("jobId", ctx.jobId());
        pr.put("modelId", ctx.model().id());
        pr.put("modelName", ctx.model().name());
        pr.put("modelHash", ctx.model().contentHash());
        pr.set("schedule", Json.MAPPER.valueToTree(ctx.model().spec().schedule()));
        pr.set("guidance", Json.MAPPER.valueToTree(base.guidance()));
        pr.put("nfe", nfe);
        pr.set("timesteps", Json.MAPPER.valueToTree(times));
        ObjectNode teacher = pr.putObject("teacher");
        teacher.set("train", Json.MAPPER.valueToTree(base.trainTeacher()));
        teacher.set("heldOut", Json.MAPPER.valueToTree(base.heldOutTeacher()));
        ObjectNode seeds = pr.putObject("seeds");
        seeds.putObject("train").put("first", base.trainSeeds()[0]).put("count", base.trainSeeds()[1]);
        seeds.putObject("heldOut").put("first", base.heldOutSeeds()[0]).put("count", base.heldOutSeeds()[1]);
        seeds.set("fitRows", Json.MAPPER.valueToTree(new int[] {0, p.seeds().fitRows()}));
        seeds.put("coefficientFitRows", p.seeds().coefficientFitRows());
        seeds.set("selectRows", Json.MAPPER.valueToTree(base.selectRows()));
        seeds.put("publishableHeldOut", base.heldOutSeeds()[1] >= TuningJobSpec.PUBLISHABLE_HELD_OUT);
        pr.put("codeVersion", CodeVersion.get());
        pr.set("platform", Json.MAPPER.valueToTree(Platform.current()));
        pr.set("metrics", metrics.deepCopy());
        extra.forEach(pr::put);
        return pr;
    }

    private static String catalogName(SolverSpec s) {
        try {
            return SolverCatalog.nameOf(s);
        } catch (IllegalArgumentException e) {
            return s.label();
        }
    }

    private static JsonNode options(SolverSpec s) {
        return Json.MAPPER.valueToTree(SolverCatalog.options(s));
    }
}
