package io.solvertune.service.dashboard;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The dashboard's read endpoints (visibility, flags, limits) and the HTTP rules of its static pages. */
@QuarkusTest
class DashboardApiTest {

    @Inject
    TokenService tokens;

    @Inject
    ConfigPublisher publisher;

    @Inject
    AgroalDataSource ds;

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    @Test
    void pagesCarryAStrictPolicyAndTheLibrariesComeFromTheJar() {
        given().redirects().follow(false).get("/dashboard").then().statusCode(303)
                .header("Location", "/dashboard/");
        String csp = given().get("/dashboard/").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("app.js")).body(not(containsString("<script>")))
                .body(not(containsString("style=")))
                .header("X-Content-Type-Options", "nosniff").extract().header("Content-Security-Policy");
        assertEquals(DashboardRoutes.CSP, csp);
        assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), csp);
        assertTrue(csp.contains("script-src 'self'") && csp.contains("style-src 'self'"), csp);
        given().get("/dashboard/app.js").then().statusCode(200).header("Content-Security-Policy", DashboardRoutes.CSP)
                .body(not(containsString(".innerHTML")))
                .body(not(containsString("outerHTML"))).body(not(containsString("insertAdjacentHTML")))
                .body(not(containsString("document.write"))).body(not(containsString("eval(")));
        // uPlot from its webjar, not a CDN
        given().get("/webjars/uplot/1.6.30/dist/uPlot.iife.min.js").then().statusCode(200)
                .body(containsString("uPlot"));
        given().get("/dashboard/index.html").then().statusCode(200).body(not(containsString("http://")))
                .body(not(containsString("https://")));
    }

    @Test
    void overviewShowsOwnJobsToSubmittersAndWorkersToAdmins() throws Exception {
        TokenService.CreatedToken alice = tokens.create("dash-alice", Role.SUBMITTER);
        TokenService.CreatedToken bob = tokens.create("dash-bob", Role.SUBMITTER);
        String admin = tokens.create("dash-admin", Role.ADMIN).token();
        String reader = tokens.create("dash-reader", Role.READER).token();
        DashboardFixtures.jobs(ds, alice.info().id(), "dash-alice", "m-alice", 30, 6);
        DashboardFixtures.jobs(ds, bob.info().id(), "dash-bob", "m-bob", 2, 6);

        JsonPath a = as(alice.token()).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        // alice's 30 jobs: j % 10 == 0 failed (0, 10, 20), j % 25 == 1 running (1, 26)
        assertEquals(3, a.getInt("jobs.FAILED"));
        assertEquals(2, a.getInt("jobs.RUNNING"));
        assertEquals(25, a.getInt("jobs.SUCCEEDED"));
        assertEquals(3, a.getInt("stages.FAILED"));
        assertEquals(2, a.getInt("stages.RUNNING"));
        assertEquals(2 * 2, a.getInt("stages.PENDING"));
        assertTrue(a.getList("running.model").stream().allMatch("m-alice"::equals), a.prettify());
        assertEquals(2, a.getList("running").size());
        assertEquals(List.of(6L, 6L), a.getList("running.stagesTotal", Long.class));
        assertEquals(List.of(3L, 3L), a.getList("running.stagesSucceeded", Long.class));
        assertEquals("stage g7.5/fit-dc failed: fit diverged at step 3", a.getString("recentFailures[0].firstErrorLine"));
        assertEquals(3, a.getList("recentFailures").size());
        assertTrue(a.get("workers") == null, "workers are for admins");

        JsonPath b = as(bob.token()).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        assertEquals(1, b.getInt("jobs.FAILED"));
        assertEquals(1, b.getInt("jobs.RUNNING"));
        assertTrue(b.getList("recentFailures.model").stream().allMatch("m-bob"::equals));

        JsonPath r = as(admin).get("/api/v1/dashboard/overview").then().statusCode(200).extract().jsonPath();
        assertTrue(r.getInt("jobs.FAILED") >= 4);
        List<Map<String, Object>> workers = r.getList("workers");
        assertTrue(workers.stream().anyMatch(w -> String.valueOf(w.get("worker")).startsWith("bench-host:1:")),
                r.prettify());
        assertTrue(workers.stream().allMatch(w -> w.get("leaseExpiresAt") != null));

        as(reader).get("/api/v1/dashboard/overview").then().statusCode(403);
        given().get("/api/v1/dashboard/overview").then().statusCode(401);
    }

    @Test
    void modelConfigsListsCurrentConfigsWithMetricsAndFlags() {
        String admin = tokens.create("dash-admin2", Role.ADMIN).token();
        String reader = tokens.create("dash-reader2", Role.READER).token();
        String name = "dash-model-" + UUID.randomUUID().toString().substring(0, 8);
        long model = DashboardFixtures.model(name, null);
        List<Long> first = DashboardFixtures.publish(publisher, model, 3, new int[] {5, 6}, new double[] {1, 7.5}, 2);
        assertEquals(24, first.size());
        // a second publish of the same keys: new versions become latest, the old ones are no longer current
        List<Long> second = DashboardFixtures.publish(publisher, model, 3, new int[] {5, 6}, new double[] {1, 7.5}, 2);
        as(admin).put("/api/v1/configs/" + first.get(0) + "/stable").then().statusCode(200);

        JsonPath j = as(reader).get("/api/v1/dashboard/models/" + name + "/configs").then().statusCode(200)
                .extract().jsonPath();
        assertEquals(48, j.getLong("versions"));
        assertEquals(List.of(1.0f, 7.5f), j.getList("guidances"));
        List<Long> ids = j.getList("configs.id", Long.class);
        assertTrue(ids.containsAll(second), "every latest version");
        assertTrue(ids.contains(first.get(0)), "the stable one");
        assertEquals(25, ids.size(), "old versions that nothing points at are left out");
        Map<String, Object> stable = j.getMap("configs.find { it.id == " + first.get(0) + " }");
        assertEquals(true, stable.get("stable"));
        assertEquals(false, stable.get("latest"));
        // recommended: the lowest MSE per (nfe, guidance) is the highest method index, variant 0
        List<Map<String, Object>> rec = j.getList("configs.findAll { it.recommended }");
        assertEquals(4, rec.size(), j.prettify());
        assertTrue(rec.stream().allMatch(c -> "dode".equals(c.get("method"))), rec.toString());
        Map<String, Object> any = j.getMap("configs[0]");
        assertTrue(((Map<?, ?>) any.get("metrics")).containsKey("heldOutStdErr"));

        as(reader).get("/api/v1/dashboard/models/no-such-model/configs").then().statusCode(404);
        given().get("/api/v1/dashboard/models/" + name + "/configs").then().statusCode(401);
    }

    @Test
    void sampleGridShowsTeacherBaselineAndTunedOnTheHeldOutSeeds() throws Exception {
        assumeTrue(java.nio.file.Files.isDirectory(java.nio.file.Path.of("/usr/share/datasets/fashion-mnist")),
                "SKIPPED: the sample-grid test needs Debian's dataset-fashion-mnist (an image model)");
        String submitter = tokens.create("dash-grid", Role.SUBMITTER).token();
        String name = "dash-fmnist-" + UUID.randomUUID().toString().substring(0, 8);
        long model = as(submitter).contentType("application/json").body("{\"name\": \"" + name
                + "\", \"spec\": {\"preset\": \"fmnist-empirical\"}}").post("/api/v1/models").then().statusCode(201)
                .extract().jsonPath().getLong("id");
        // baseline (logSNR and time-uniform variants) and "dc" with the same two: the tuned columns are the dc ones
        List<Long> ids = DashboardFixtures.publish(publisher, model, 2, new int[] {5}, new double[] {1.0}, 2);
        assertEquals(4, ids.size());
        JsonPath g = as(submitter).get("/api/v1/dashboard/models/" + name + "/sample-grid?nfe=5").then()
                .statusCode(200).extract().jsonPath();
        List<String> columns = g.getList("grid.columns");
        assertEquals(4, columns.size(), columns.toString());
        assertEquals("rendered", g.getString("grid.source"), "configs of no pipeline grid stage are rendered");
        assertTrue(columns.get(0).startsWith("teacher (DPM-Solver++ 3M, 100 steps)"), columns.toString());
        assertEquals(List.of(ids.get(0), ids.get(2), ids.get(3)), g.getList("grid.columnConfigIds", Long.class)
                .subList(1, 4), "baseline with the lowest MSE, then the tuned configs by MSE");
        List<Long> seeds = g.getList("grid.seeds", Long.class);
        assertEquals(1_000_000L, seeds.get(0));
        assertEquals(SampleGrids.SEEDS, seeds.size());
        byte[] png = as(submitter).get(g.getString("href")).then().statusCode(200).contentType("image/png")
                .extract().asByteArray();
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
        assertEquals(4 * 30 + 2, img.getWidth());
        assertEquals(SampleGrids.SEEDS * 30 + 2, img.getHeight());

        // the baseline column is exactly the baseline config run on the held-out seeds' noise, drawn the same way
        io.solvertune.numerics.spec.ModelSpec spec = io.solvertune.tuning.job.ResolvedModel.specOf(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"preset\": \"fmnist-empirical\"}"));
        com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                as(submitter).get("/api/v1/configs/" + ids.get(0)).then().statusCode(200).extract().asString());
        io.solvertune.numerics.solver.SamplerConfig run = SampleGrids.samplerConfig(doc.get("values"));
        long[] sd = seeds.stream().mapToLong(Long::longValue).toArray();
        double[] noise = io.solvertune.tuning.Seeds.initialNoise(sd, 784, io.solvertune.tuning.Seeds.noiseScale(
                spec.schedule().build(), run.tStart()));
        double[] expected;
        try (io.solvertune.numerics.model.Denoiser d = spec.build(io.solvertune.tuning.Presets.baseDir());
             ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            io.solvertune.numerics.model.Guidance gd = d.numClasses() > 0
                    ? io.solvertune.numerics.model.Guidance.perSeed(1.0)
                    : new io.solvertune.numerics.model.Guidance(null, 1.0);
            expected = io.solvertune.numerics.nd.Nd.toDoubles(io.solvertune.numerics.solver.Sampler.sample(run,
                    new io.solvertune.numerics.model.ModelFunction(d, gd, gd.rowLabels(sd, d.numClasses())),
                    io.solvertune.numerics.nd.Nd.create(m, noise, new ai.djl.ndarray.types.Shape(8, 1, 28, 28),
                            spec.dataType())).x());
        }
        java.nio.file.Path one = java.nio.file.Files.createTempFile("grid-", ".png");
        io.solvertune.tuning.eval.ImageGrid.write(one, List.of(expected), 8, new long[] {1, 28, 28}, 2);
        java.awt.image.BufferedImage ref = javax.imageio.ImageIO.read(one.toFile());
        java.nio.file.Files.delete(one);
        int differentFromTeacher = 0;
        int differentFromTimeUniform = 0;
        for (int y = 0; y < ref.getHeight(); y++) {
            for (int x = 2; x < 30; x++) {
                assertEquals(ref.getRGB(x, y), img.getRGB(30 + x, y), "baseline tile pixel " + x + "," + y);
                assertEquals(img.getRGB(30 + x, y), img.getRGB(60 + x, y), "dc logSNR runs the same grid");
                differentFromTeacher += img.getRGB(x, y) != img.getRGB(30 + x, y) ? 1 : 0;
                differentFromTimeUniform += img.getRGB(90 + x, y) != img.getRGB(30 + x, y) ? 1 : 0;
            }
        }
        assertTrue(differentFromTeacher > 100, "5 steps are not the teacher: " + differentFromTeacher);
        assertTrue(differentFromTimeUniform > 100, "another grid, other samples: " + differentFromTimeUniform);

        // stored once: asking again answers the same artifact
        assertEquals(g.getString("grid.sha256"), as(submitter).get("/api/v1/dashboard/models/" + name
                + "/sample-grid?nfe=5").then().statusCode(200).extract().jsonPath().getString("grid.sha256"));
        as(submitter).get("/api/v1/dashboard/models/" + name + "/sample-grid?nfe=6").then().statusCode(409);
        as(submitter).get("/api/v1/dashboard/models/" + name + "/sample-grid?nfe=0").then().statusCode(400)
                .body("errors[0].field", org.hamcrest.Matchers.equalTo("nfe"));
        // a non-image model has no grid; artifacts of other kinds are not served here
        long gmm = DashboardFixtures.model("dash-gmm-" + UUID.randomUUID().toString().substring(0, 8), null);
        DashboardFixtures.publish(publisher, gmm, 1, new int[] {5}, new double[] {1.0}, 1);
        as(submitter).get("/api/v1/dashboard/models/" + gmm + "/sample-grid?nfe=5").then().statusCode(409)
                .body("detail", containsString("not images"));
        as(submitter).get("/api/v1/dashboard/sample-grids/" + "0".repeat(64)).then().statusCode(404);
    }

    @Inject
    io.solvertune.service.jobs.JobEngine engine;

    @Inject
    io.solvertune.service.artifacts.SharedArtifacts shared;

    /**
     * A job whose pipeline stored sample grids: the dashboard serves the stage's PNG (checked against the sha256 the
     * stage recorded) with the job's configs as its columns, from the job's work directory or, when this host lacks
     * the file, from the stage's tree in the shared artifact store; nothing is rendered (the model row's preset could
     * not render [1, 8, 8] images).
     */
    @Test
    void gridsThePipelineStoredAreServedNotRendered() throws Exception {
        var created = tokens.create("dash-stored-grid", Role.SUBMITTER);
        String name = "dash-stored-" + UUID.randomUUID().toString().substring(0, 8);
        long model = DashboardFixtures.model(name, null);
        long job;
        try (var c = ds.getConnection()) {
            try (var ps = c.prepareStatement("UPDATE models SET input_shape = '{1,8,8}' WHERE id = ?")) {
                ps.setLong(1, model);
                ps.executeUpdate();
            }
            try (var ps = c.prepareStatement("INSERT INTO jobs (idempotency_key, created_by, created_by_name, "
                    + "model_name, spec, state) VALUES (?, ?, 'dash-stored-grid', ?, '{}'::jsonb, 'SUCCEEDED') "
                    + "RETURNING id")) {
                ps.setString(1, "stored-grid-" + UUID.randomUUID());
                ps.setLong(2, created.info().id());
                ps.setString(3, name);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    job = rs.getLong(1);
                }
            }
        }
        // baseline and dc at NFE 5 and 6, guidance 1, published by that job
        List<Long> ids = DashboardFixtures.publish(publisher, job, model, 2, new int[] {5, 6}, new double[] {1.0}, 1);
        assertEquals(4, ids.size());
        java.nio.file.Path stageDir = engine.workDir().resolve("job-" + job).resolve("g1/sample-grids");
        java.nio.file.Files.createDirectories(stageDir);
        var out = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        out.put("index", "g1/sample-grids/grids.json").put("teacherSteps", 40);
        out.putArray("seeds").add(1_000_000L).add(1_000_001L);
        var grids = out.putArray("grids");
        java.util.Map<Integer, String> shas = new java.util.HashMap<>();
        java.util.Random rnd = new java.util.Random(7);
        for (int nfe : new int[] {5, 6}) {
            List<double[]> cols = new java.util.ArrayList<>();
            for (int k = 0; k < 3; k++) {
                double[] v = new double[2 * 64];
                for (int i = 0; i < v.length; i++) {
                    v[i] = rnd.nextDouble() * 2 - 1;
                }
                cols.add(v);
            }
            java.nio.file.Path png = stageDir.resolve("nfe" + nfe + ".png");
            io.solvertune.tuning.eval.ImageGrid.write(png, cols, 2, new long[] {1, 8, 8}, 2);
            shas.put(nfe, io.solvertune.tuning.Hashing.sha256(png));
            var g = grids.addObject().put("nfe", nfe).put("file", "g1/sample-grids/nfe" + nfe + ".png")
                    .put("sha256", shas.get(nfe)).put("width", 32).put("height", 22);
            var cs = g.putArray("columns");
            cs.addObject().put("method", "teacher").put("config", "DPM-Solver++ 3M logSNR, 40 steps")
                    .put("stage", "g1/teacher-heldout");
            cs.addObject().put("method", "baseline").put("config", "dpmsolver++ multistep o2 logSNR")
                    .put("stage", "g1/baseline");
            cs.addObject().put("method", "dc").put("config", "dc unipc bh2 o3 logSNR").put("stage", "g1/fit-dc");
        }
        try (var c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO job_stages (job_id, name, seq, "
                + "kind, state, attempts, max_attempts, output) VALUES (?, 'g1/sample-grids', 0, 'sample-grids', "
                + "'SUCCEEDED', 1, 3, ?::jsonb)")) {
            ps.setLong(1, job);
            ps.setString(2, out.toString());
            ps.executeUpdate();
        }
        String submitter = created.token();
        JsonPath g = as(submitter).get("/api/v1/dashboard/models/" + name + "/sample-grid?nfe=5").then()
                .statusCode(200).extract().jsonPath();
        assertEquals("pipeline", g.getString("grid.source"));
        assertEquals(job, g.getLong("grid.jobId"));
        assertEquals(shas.get(5), g.getString("grid.sha256"));
        assertEquals(40, g.getInt("grid.teacherSteps"));
        assertEquals(List.of(1_000_000L, 1_000_001L), g.getList("grid.seeds", Long.class));
        List<String> columns = g.getList("grid.columns");
        assertEquals(List.of("teacher (DPM-Solver++ 3M logSNR, 40 steps)",
                "best untuned baseline: dpmsolver++ multistep o2 logSNR, config " + ids.get(0),
                "dc: dc unipc bh2 o3 logSNR, config " + ids.get(2)), columns);
        assertEquals(java.util.Arrays.asList(null, ids.get(0), ids.get(2)),
                g.getList("grid.columnConfigIds", Long.class));
        byte[] png = as(submitter).get(g.getString("href")).then().statusCode(200).contentType("image/png")
                .extract().asByteArray();
        assertEquals(shas.get(5), io.solvertune.tuning.publish.CanonicalJson.sha256(png));

        // another host: the stage's directory only in the shared store
        String tree = shared.putTree(stageDir);
        java.nio.file.Files.delete(stageDir.resolve("nfe6.png"));
        try (var c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO stage_artifacts (job_id, stage, "
                + "tree_sha256) VALUES (?, 'g1/sample-grids', ?)")) {
            ps.setLong(1, job);
            ps.setString(2, tree);
            ps.executeUpdate();
        }
        JsonPath g6 = as(submitter).get("/api/v1/dashboard/models/" + name + "/sample-grid?nfe=6").then()
                .statusCode(200).extract().jsonPath();
        assertEquals("pipeline", g6.getString("grid.source"));
        assertEquals(shas.get(6), g6.getString("grid.sha256"));
        assertEquals(shas.get(6), io.solvertune.tuning.publish.CanonicalJson.sha256(as(submitter)
                .get(g6.getString("href")).then().statusCode(200).extract().asByteArray()));

        // a config's grid: its job's at its NFE and guidance, the config one of the columns
        JsonPath gc = as(submitter).get("/api/v1/dashboard/configs/" + ids.get(3) + "/sample-grid").then()
                .statusCode(200).extract().jsonPath();
        assertEquals("pipeline", gc.getString("grid.source"));
        assertEquals(6, gc.getInt("grid.nfe"));
        assertEquals(shas.get(6), gc.getString("grid.sha256"));
        assertTrue(gc.getList("grid.columnConfigIds", Long.class).contains(ids.get(3)));
        as(submitter).get("/api/v1/dashboard/configs/" + Long.MAX_VALUE + "/sample-grid").then().statusCode(404);
        as(submitter).get("/api/v1/dashboard/configs/abc/sample-grid").then().statusCode(400)
                .body("errors[0].field", org.hamcrest.Matchers.equalTo("id"));
        given().get("/api/v1/dashboard/configs/" + ids.get(3) + "/sample-grid").then().statusCode(401);
    }

    @Test
    void firstErrorLine() {
        assertEquals("boom", DashboardResource.firstLine("  boom\n  at x\n"));
        assertEquals(null, DashboardResource.firstLine(null));
        assertEquals(501, DashboardResource.firstLine("x".repeat(900)).length());
    }
}
