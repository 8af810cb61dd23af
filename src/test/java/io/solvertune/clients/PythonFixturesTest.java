package io.solvertune.clients;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.solver.edm.EdmEuler;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.iia.Iia;
import io.solvertune.numerics.solver.unipc.UniPc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsNpz;
import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.service.configs.ConfigStore;
import io.solvertune.tuning.publish.ConfigValues;
import io.solvertune.testing.ReferenceProblem;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.fit.MethodCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Writes the fixtures the Python client's sampler tests check against, then runs those tests.
 *
 * <p>For each reference problem of {@code src/test/resources/reference} (the exact Gaussian mixtures) it builds a
 * published config document of every method -- baselines of every solver, order, variant and spacing, planted
 * non-neutral coefficient sets of DC-Solver, IIA / BIIA and D-ODE (through the real {@link CoefficientSet} and
 * {@link MethodCatalog#spec}), DPM-Solver-v3 with the reference statistics -- exactly as the service serves it
 * ({@link ConfigValues} inside the {@link ConfigStore} document layout, canonical JSON), runs our {@link Sampler} on
 * it from the stored {@code x_T} in float64, and writes the document and the output under
 * {@code target/python-fixtures/<problem>/} ({@code index.json}, {@code configs/<case>.json}, {@code outputs.npz}).
 * Nothing numeric is committed: the fixtures are made by the build from the same configs. Then it runs the Python
 * suite ({@link PythonSuite}), which must reproduce every output to 1e-9 relative.
 */
class PythonFixturesTest {
    static final Path OUT = Path.of("target", "python-fixtures");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SUMMARY = new ArrayList<>();
    static NDManager manager;

    @BeforeAll
    static void init() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        SUMMARY.forEach(System.out::println);
        manager.close();
    }

    /** One case: its name, document and the Java run's settings. */
    record Case(String name, ObjectNode document, SamplerConfig config) {
    }

    @Test
    void writesFixturesAndPythonReproducesThem() throws Exception {
        int total = 0;
        for (String name : ReferenceProblem.NAMES) {
            total += writeProblem(ReferenceProblem.load(name));
        }
        assertTrue(total > 300, "fixture cases: " + total);
        PythonSuite.run("samplers", List.of("-m", "not service"), Map.of("SOLVERTUNE_FIXTURES",
                OUT.toAbsolutePath().toString()));
    }

    private int writeProblem(ReferenceProblem p) throws IOException {
        Path dir = OUT.resolve(p.name);
        Path configs = dir.resolve("configs");
        Files.createDirectories(configs);
        try (var old = Files.list(configs)) {
            for (Path f : old.toList()) {
                Files.delete(f);
            }
        }
        List<Case> cases = new ArrayList<>();
        cases.addAll(baselines(p));
        cases.addAll(dc(p));
        cases.addAll(dode(p));
        cases.addAll(iia(p));
        cases.addAll(dpmSolverV3(p));
        cases.addAll(consistency(p));
        cases.addAll(learnedTimesteps(p));

        Map<String, NpyArray> outputs = new LinkedHashMap<>();
        ArrayNode index = JSON.createArrayNode();
        NpyArray xT = p.get("x_T");
        try (GaussianMixtureDenoiser model = p.model()) {
            for (Case c : cases) {
                try (NDManager m = manager.newSubManager()) {
                    NDArray x = m.create(xT.doubles(), new Shape(xT.shape()));
                    SampleResult r = Sampler.sample(c.config, new ModelFunction(model, p.guidance), x);
                    outputs.put(c.name, NpyArray.ofDoubles(r.x().toDoubleArray(), xT.shape()));
                    assertEquals(c.document.get("nfe").asLong(), r.nfe(), c.name + ": NFE of the document");
                    Files.writeString(configs.resolve(c.name + ".json"), CanonicalJson.write(c.document));
                    ObjectNode e = index.addObject();
                    e.put("name", c.name);
                    e.put("config", "configs/" + c.name + ".json");
                    e.put("nfe", r.nfe());
                    ArrayNode grid = e.putArray("grid");
                    for (double t : r.grid()) {
                        grid.add(t);
                    }
                }
            }
        }
        Npy.writeNpz(dir.resolve("outputs.npz"), outputs, false);
        ObjectNode meta = JSON.createObjectNode();
        meta.put("problem", p.name);
        meta.put("reference", ReferenceProblem.resource("ref_" + p.name + ".npz").toAbsolutePath().toString());
        meta.put("discrete", p.meta.get("discrete").asBoolean());
        meta.put("guidance", p.guidance.scale());
        if (p.guidance.classLabel() != null) {
            meta.put("classLabel", p.guidance.classLabel());
        }
        meta.put("numClasses", p.guidance.conditional() ? 2 : 0);
        meta.set("schedule", Json.MAPPER.valueToTree(p.schedule.spec()));
        meta.set("cases", index);
        Files.writeString(dir.resolve("index.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(meta));
        SUMMARY.add(String.format(Locale.ROOT, "python fixtures %-24s %d cases", p.name, cases.size()));
        return cases.size();
    }

    // ---- documents -------------------------------------------------------------------------------------------------

    /** A document in the layout of {@code ConfigStore.document} (canonical key order is applied on writing). */
    private static ObjectNode document(ReferenceProblem p, String caseName, String method, String solver,
                                       JsonNode options, int nfe, String spacing, double tStart, double tEnd,
                                       JsonNode values) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("formatVersion", ConfigStore.DOCUMENT_FORMAT);
        d.put("id", Math.abs(caseName.hashCode()) % 1_000_000 + 1);
        ObjectNode m = d.putObject("model");
        m.put("id", 1);
        m.put("name", p.name);
        m.put("contentHash", CanonicalJson.sha256(p.name));
        m.put("predictionType", "noise");
        d.put("method", method);
        d.put("solver", solver);
        d.set("solverOptions", options);
        d.put("nfe", nfe);
        d.put("guidance", p.guidance.scale());
        d.put("spacing", spacing);
        d.put("tStart", tStart);
        d.put("tEnd", tEnd);
        d.put("version", 1);
        d.put("key", CanonicalJson.sha256(caseName));
        d.put("jobId", 1);
        d.put("heldOutMse", 0.0);
        d.set("values", values);
        d.set("metrics", JsonNodeFactory.instance.objectNode().put("heldOutMse", 0.0));
        ObjectNode prov = d.putObject("provenance");
        prov.put("codeVersion", "fixtures");
        prov.set("schedule", Json.MAPPER.valueToTree(p.schedule.spec()));
        d.put("createdAt", "2026-01-01T00:00:00Z");
        return d;
    }

    private static String catalogName(SolverSpec s) {
        try {
            return SolverCatalog.nameOf(s);
        } catch (IllegalArgumentException e) {
            return s.label(); // solvers without a catalog entry (ConsistencySolver), as PublishStage names them
        }
    }

    private static JsonNode options(SolverSpec s) {
        try {
            return Json.MAPPER.valueToTree(SolverCatalog.options(s));
        } catch (IllegalArgumentException e) {
            return JsonNodeFactory.instance.objectNode();
        }
    }

    private static String slug(String s) {
        return s.toLowerCase(Locale.ROOT).replace("+", "p").replace(' ', '-').replace('.', '_');
    }

    // ---- baselines -------------------------------------------------------------------------------------------------

    static final List<TimestepSpacing> SPACINGS = List.of(new TimestepSpacing.TimeUniform(),
            new TimestepSpacing.LogSnr(), new TimestepSpacing.TimeQuadratic(), new TimestepSpacing.Karras(7.0),
            new TimestepSpacing.PowerTime(1.5));

    private List<Case> baselines(ReferenceProblem p) {
        List<SolverSpec> solvers = new ArrayList<>();
        solvers.add(new Ddim());
        for (PredictionType pred : List.of(PredictionType.NOISE, PredictionType.DATA)) {
            for (DpmSolver.Method method : DpmSolver.Method.values()) {
                for (int order = 1; order <= 3; order++) {
                    for (DpmSolver.SolverType type : DpmSolver.SolverType.values()) {
                        solvers.add(new DpmSolver(pred, method, order, type));
                    }
                }
            }
            for (UniPc.Variant v : UniPc.Variant.values()) {
                for (int order = 1; order <= 3; order++) {
                    solvers.add(new UniPc(pred, v, order));
                }
            }
        }
        solvers.add(new EdmEuler());
        solvers.add(new EdmHeun());
        int[] stepChoices = {5, 6, 8, 12, 7};
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (SolverSpec s : solvers) {
            for (int variant = 0; variant < 2; variant++, k++) {
                TimestepSpacing spacing = SPACINGS.get(k % SPACINGS.size());
                int steps = stepChoices[k % stepChoices.length];
                boolean lowerOrderFinal = k % 7 != 3;
                boolean denoise = k % 11 == 5;
                out.add(baseline(p, s, spacing, steps, lowerOrderFinal, denoise, p.tStart, p.tEnd));
            }
        }
        // an explicit grid (learned timesteps), a shorter time range and the heun/euler pair on karras
        double[] explicit = new TimestepSpacing.LogSnr().times(p.schedule, p.tStart, p.tEnd, 7);
        explicit[3] = 0.5 * (explicit[2] + explicit[4]);
        out.add(baseline(p, DpmSolver.plusPlusMultistep(3), new TimestepSpacing.Explicit(explicit), 7,
                true, false, p.tStart, p.tEnd));
        out.add(baseline(p, new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 2),
                new TimestepSpacing.Explicit(explicit), 7, true, false, p.tStart, p.tEnd));
        out.add(baseline(p, DpmSolver.plusPlusMultistep(2), new TimestepSpacing.TimeUniform(), 6, true,
                false, 0.9, 2e-3));
        out.add(baseline(p, new EdmHeun(), new TimestepSpacing.Karras(7.0), 5, true, true, p.tStart,
                p.tEnd));
        return out;
    }

    private Case baseline(ReferenceProblem p, SolverSpec s, TimestepSpacing spacing, int steps, boolean lof,
                          boolean denoise, double tStart, double tEnd) {
        return baseline(p, null, s, spacing, steps, lof, denoise, tStart, tEnd);
    }

    private Case baseline(ReferenceProblem p, String caseName, SolverSpec s, TimestepSpacing spacing, int steps,
                          boolean lof, boolean denoise, double tStart, double tEnd) {
        SamplerConfig cfg = new SamplerConfig(s, spacing, steps, tStart, tEnd, lof, denoise);
        double[] times = s.create().grid(p.schedule, cfg, tStart, tEnd);
        Candidate c = new Candidate(null, s, spacing, lof, denoise, times[0], times[times.length - 1]);
        ConfigValues v = ConfigValues.ofBaseline(c, steps, times);
        String name = caseName != null ? caseName : slug("baseline-" + s.label() + "-" + spacing.id() + "-s" + steps
                + (lof ? "" : "-nolof") + (denoise ? "-denoise" : "") + (tStart != p.tStart ? "-range" : ""));
        ObjectNode d = document(p, name, "baseline", catalogName(s), options(s), v.nfe(), spacing.id(), times[0],
                times[times.length - 1], v.toJson());
        return new Case(name, d, cfg);
    }

    // ---- coefficient sets ------------------------------------------------------------------------------------------

    private Case coefficientCase(ReferenceProblem p, String method, CoefficientSet.Method kind, SolverSpec base,
                                 TimestepSpacing spacing, int steps, int nfe, double[] times, List<String> columns,
                                 double[][] values) {
        CoefficientSet.Provenance prov = new CoefficientSet.Provenance("fixture", p.schedule.spec(), p.guidance, null,
                null, "fixtures", "2026-01-01T00:00:00Z", null);
        CoefficientSet set = new CoefficientSet(CoefficientSet.FORMAT_VERSION, kind, base, spacing, steps, nfe, times,
                columns, values, null, null, prov);
        // what a client downloads: the set's JSON round trip; what runs: the method's solver of that set
        CoefficientSet served = CoefficientSet.fromJson(set.toJson());
        SolverSpec spec = MethodCatalog.spec(served);
        SamplerConfig cfg = new SamplerConfig(spec, spacing, steps, p.tStart, p.tEnd, true, false);
        ConfigValues v = ConfigValues.of(served);
        String name = slug(method + "-" + base.label() + "-" + spacing.id() + "-s" + steps + "-"
                + String.join("_", columns));
        ObjectNode d = document(p, name, method, catalogName(base), options(base), nfe, spacing.id(), times[0],
                times[times.length - 1], v.toJson());
        return new Case(name, d, cfg);
    }

    private static double[] grid(ReferenceProblem p, SolverSpec base, TimestepSpacing spacing, int steps) {
        SamplerConfig cfg = new SamplerConfig(base, spacing, steps, p.tStart, p.tEnd, true, false);
        return base.create().grid(p.schedule, cfg, p.tStart, p.tEnd);
    }

    private List<Case> dc(ReferenceProblem p) {
        List<SolverSpec> bases = new ArrayList<>();
        for (PredictionType pred : List.of(PredictionType.DATA, PredictionType.NOISE)) {
            for (UniPc.Variant v : UniPc.Variant.values()) {
                for (int order = 1; order <= 3; order++) {
                    bases.add(new UniPc(pred, v, order));
                }
            }
        }
        for (int order = 1; order <= 3; order++) {
            bases.add(DpmSolver.plusPlusMultistep(order));
        }
        double[] planted = {1.0, 1.0, 0.82, 1.17, 0.93, 1.08, 0.76, 1.21, 0.97, 1.04};
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (SolverSpec base : bases) {
            TimestepSpacing spacing = SPACINGS.get(k % 3);
            int steps = k % 2 == 0 ? 6 : 8;
            k++;
            double[][] values = new double[steps][];
            for (int i = 0; i < steps; i++) {
                values[i] = new double[] {planted[i]};
            }
            out.add(coefficientCase(p, "dc", CoefficientSet.Method.DC, base, spacing, steps, steps,
                    grid(p, base, spacing, steps), List.of("ratio"), values));
        }
        return out;
    }

    /**
     * Learned-timestep sets (method TIMESTEPS): the base solver itself on a grid off every named spacing, carried as
     * an explicit spacing with empty rows. The grids move each interior time of a logSNR grid towards the next by up
     * to 30 % of the gap, as a learned grid would.
     */
    private List<Case> learnedTimesteps(ReferenceProblem p) {
        List<SolverSpec> bases = List.of(new Ddim(), DpmSolver.plusPlusMultistep(2), DpmSolver.plusPlusMultistep(3),
                new UniPc(PredictionType.DATA, UniPc.Variant.BH2, 3), new UniPc(PredictionType.NOISE,
                        UniPc.Variant.BH1, 2));
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (SolverSpec base : bases) {
            for (int steps = 5; steps <= 6; steps++, k++) {
                double[] t = grid(p, base, new TimestepSpacing.LogSnr(), steps);
                for (int i = 1; i < steps; i++) {
                    double s = Math.sin(i + k);
                    t[i] = t[i] + 0.3 * s * s * (t[i + 1] - t[i]);
                }
                double[][] values = new double[steps][0];
                out.add(coefficientCase(p, "timesteps", CoefficientSet.Method.TIMESTEPS, base,
                        new TimestepSpacing.Explicit(t), steps, steps, t, List.of(), values));
            }
        }
        return out;
    }

    private List<Case> dode(ReferenceProblem p) {
        List<SolverSpec> bases = new ArrayList<>();
        bases.add(new Ddim());
        for (PredictionType pred : List.of(PredictionType.NOISE, PredictionType.DATA)) {
            for (int order = 1; order <= 3; order++) {
                bases.add(new DpmSolver(pred, DpmSolver.Method.MULTISTEP, order,
                        DpmSolver.SolverType.DPMSOLVER));
            }
            for (UniPc.Variant v : UniPc.Variant.values()) {
                for (int order = 2; order <= 3; order++) {
                    bases.add(new UniPc(pred, v, order));
                }
            }
        }
        bases.add(new DpmSolver(PredictionType.DATA, DpmSolver.Method.MULTISTEP, 2,
                DpmSolver.SolverType.TAYLOR));
        double[] planted = {0.12, 0.08, -0.05, 0.21, 0.0, 0.15, -0.11, 0.06, 0.09, -0.03};
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (SolverSpec base : bases) {
            TimestepSpacing spacing = SPACINGS.get(k % 4);
            int steps = k % 2 == 0 ? 5 : 7;
            k++;
            boolean data = !(base instanceof DpmSolver d && d.prediction() == PredictionType.NOISE
                    || base instanceof UniPc u && u.prediction() == PredictionType.NOISE);
            double[][] values = new double[steps][];
            for (int i = 0; i < steps; i++) {
                values[i] = new double[] {i == 0 && data ? 0.0 : planted[i]};
            }
            out.add(coefficientCase(p, "dode", CoefficientSet.Method.DODE, base, spacing, steps, steps,
                    grid(p, base, spacing, steps), List.of("lambda"), values));
        }
        return out;
    }

    private List<Case> iia(ReferenceProblem p) {
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (Iia.Form form : Iia.Form.values()) {
            for (int r = form.defaultR(); r <= form.defaultR() + 1; r++) {
                TimestepSpacing spacing = SPACINGS.get(k % 4);
                int steps = form.nfePerStep() == 2 ? 4 + k % 2 : 6 + k % 3;
                k++;
                double[][] values = new double[steps][];
                for (int i = 0; i < steps; i++) {
                    values[i] = new double[form.columns(r, i)];
                    for (int j = 0; j < values[i].length; j++) {
                        values[i][j] = 0.05 * Math.sin(1.0 + 3.0 * i + 1.7 * j) + (j % 2 == 0 ? 0.02 : -0.03);
                    }
                }
                SolverSpec base = form.base();
                CoefficientSet.Method kind = form == Iia.Form.BIIA_EDM ? CoefficientSet.Method.BIIA
                        : CoefficientSet.Method.IIA;
                out.add(coefficientCase(p, form.id().replace('_', '-'), kind, base, spacing, steps,
                        steps * form.nfePerStep(), grid(p, base, spacing, steps), form.columnNames(r), values));
            }
        }
        return out;
    }

    // ---- ConsistencySolver ----------------------------------------------------------------------------------------

    /**
     * ConsistencySolver tables of every form and order (planted values), once its Java is on this branch (it is being
     * built on issue16-consolver): found by reflection, so this test compiles and runs without it and writes these
     * fixtures as soon as it lands. Published like a baseline whose solver is {@code SolverSpec.Consistency}.
     */
    private List<Case> consistency(ReferenceProblem p) {
        List<Case> out = new ArrayList<>();
        int k = 0;
        for (Consistency.Form f : Consistency.Form.values()) {
            for (int order = 2; order <= Consistency.MAX_ORDER; order++, k++) {
                TimestepSpacing spacing = SPACINGS.get(k % 4);
                int steps = 5 + k % 3;
                SolverSpec base = f.base(order);
                double[] times = grid(p, new Ddim(), spacing, steps);
                double[][] values = new double[steps][];
                for (int i = 0; i < steps; i++) {
                    values[i] = new double[Consistency.columns(order, i)];
                    for (int j = 0; j < values[i].length; j++) {
                        values[i][j] = 0.25 - 0.15 * j + 0.04 * i * (k % 2 == 0 ? 1 : -1);
                    }
                }
                out.add(coefficientCase(p, "consistency-" + f.id() + "-o" + order, CoefficientSet.Method.CONSISTENCY,
                        base, spacing, steps, steps, times, Consistency.columnNames(order), values));
            }
        }
        return out;
    }

    // ---- DPM-Solver-v3 ---------------------------------------------------------------------------------------------

    private List<Case> dpmSolverV3(ReferenceProblem p) throws IOException {
        JsonNode v3 = JSON.readTree(ReferenceProblem.resource("v3_" + p.name + ".json").toFile());
        EmpiricalModelStatistics ems = EmsNpz.read(ReferenceProblem.resource("ems_" + p.name),
                v3.get("t_start").asDouble(), v3.get("t_end").asDouble());
        // order, pPseudo, useCorrector, cPseudo, half, degenerated, spacing, steps, lowerOrderFinal, denoise, explicit
        Object[][] settings = {
            {3, false, true, false, false, false, new TimestepSpacing.LogSnr(), 5, true, false, false},
            {3, true, true, false, false, false, new TimestepSpacing.LogSnr(), 5, false, false, false},
            {2, false, true, true, false, false, new TimestepSpacing.TimeUniform(), 6, true, false, false},
            {3, false, false, false, false, false, new TimestepSpacing.TimeUniform(), 10, true, false, false},
            {1, false, true, false, false, false, new TimestepSpacing.TimeQuadratic(), 6, true, false, false},
            {2, false, true, false, true, false, new TimestepSpacing.LogSnr(), 8, true, false, false},
            {3, false, true, true, false, true, new TimestepSpacing.LogSnr(), 6, true, false, false},
            {3, true, true, true, false, false, new TimestepSpacing.Karras(7.0), 7, true, true, false},
            {2, false, true, false, false, false, new TimestepSpacing.LogSnr(), 5, true, false, true},
        };
        List<Case> out = new ArrayList<>();
        for (Object[] s : settings) {
            TimestepSpacing spacing = (TimestepSpacing) s[6];
            int steps = (Integer) s[7];
            int[] explicit = null;
            if ((Boolean) s[10]) {
                explicit = new int[] {0, 30, 70, 120, 180, ems.gridSteps()};
            }
            DpmSolverV3 spec = new DpmSolverV3(ems, (Integer) s[0], (Boolean) s[1],
                    (Boolean) s[2], (Boolean) s[3], (Boolean) s[4], (Boolean) s[5], explicit);
            boolean lof = (Boolean) s[8];
            boolean denoise = (Boolean) s[9];
            SamplerConfig cfg = new SamplerConfig(spec, spacing, steps, p.tStart, p.tEnd, lof, denoise);
            double[] times = spec.create().grid(p.schedule, cfg, p.tStart, p.tEnd);
            ConfigValues v = ConfigValues.ofDpmSolverV3(spec, spacing, steps, lof, denoise, times);
            String name = slug("dpmsolver-v3-" + spec.label() + "-" + spacing.id() + "-s" + steps
                    + (lof ? "" : "-nolof") + (denoise ? "-denoise" : "") + (explicit != null ? "-explicit" : ""));
            ObjectNode opts = JsonNodeFactory.instance.objectNode();
            opts.put("order", spec.order());
            opts.put("p_pseudo", spec.pPseudo());
            opts.put("use_corrector", spec.useCorrector());
            opts.put("c_pseudo", spec.cPseudo());
            out.add(new Case(name, document(p, name, "dpmsolver-v3", "dpmsolver-v3", opts, v.nfe(), spacing.id(),
                    times[0], times[times.length - 1], v.toJson()), cfg));
        }
        return out;
    }
}
