package io.solvertune.service.registry;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.service.artifacts.ArtifactStore;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.persistence.SolverConfigEntity;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import io.solvertune.testing.RequiresFashionMnist;
import io.solvertune.tuning.Hashing;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.job.ResolvedModel;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The model registry over REST: registration of every kind, refusals leaving nothing behind, roles, delete, paging. */
@QuarkusTest
class ModelRegistryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Path.of("src/test/resources/torchscript");
    private static final String GMM_SPEC = "{\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5, 2.0], [1.0, 0.0, -2.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2},"
            + " \"guidance\": {\"classLabel\": 1, \"scale\": 3.0}, \"dtype\": \"float64\"}";

    @Inject
    TokenService tokens;

    @Inject
    ArtifactStore store;

    @Inject
    EntityManager em;

    String reader;
    String submitter;
    String admin;

    @BeforeEach
    void tokens() {
        reader = tokens.create("reader", Role.READER).token();
        submitter = tokens.create("submitter", Role.SUBMITTER).token();
        admin = tokens.create("admin", Role.ADMIN).token();
    }

    @AfterEach
    void unblock() {
        BlockingModelUsage.BLOCKED.clear();
    }

    // ---- registration ---------------------------------------------------------------------------------------------

    @Test
    void registersTheGmmPresetAsAReferenceTheJobsCanResolve() throws Exception {
        String name = unique("preset-gmm");
        int id = as(submitter).contentType("application/json")
                .body("{\"name\": \"" + name + "\", \"description\": \"reference cfg problem\","
                        + " \"spec\": {\"preset\": \"gmm-sd-d32\"}}")
                .post("/api/v1/models").then().statusCode(201)
                .header("Location", containsString("/api/v1/models/"))
                .body("name", equalTo(name)).body("kind", equalTo("analytic")).body("preset", equalTo("gmm-sd-d32"))
                .body("inputShape", equalTo(List.of(32))).body("numClasses", equalTo(2))
                .body("dtype", equalTo("float64")).body("createdBy", equalTo("submitter"))
                .body("spec.preset", equalTo("gmm-sd-d32")).body("anonymousRead", equalTo(false))
                .extract().path("id");
        ModelEntity m = row(id);
        assertEquals(JSON.readTree("{\"preset\": \"gmm-sd-d32\"}"), m.spec);
        ModelSpec expected = Presets.load("gmm-sd-d32");
        assertEquals(ModelHash.of(expected, Presets.baseDir()), m.contentHash, "the CLI's model hash of the preset");
        assertEquals(ModelSpec.MAPPER.writeValueAsString(expected),
                ModelSpec.MAPPER.writeValueAsString(ResolvedModel.specOf(m.spec)));
        assertEquals(JSON.readTree(ModelSpec.MAPPER.writeValueAsString(expected.schedule())), m.schedule);
    }

    @Test
    void registersTheUnetPreset() {
        as(submitter).contentType("application/json")
                .body("{\"name\": \"" + unique("unet") + "\", \"spec\": {\"preset\": \"fmnist-unet\"}}")
                .post("/api/v1/models").then().statusCode(201)
                .body("kind", equalTo("torchscript")).body("inputShape", equalTo(List.of(1, 28, 28)))
                .body("numClasses", equalTo(10)).body("predictionType", equalTo("noise"))
                .body("dtype", equalTo("float32")).body("artifact", nullValue());
    }

    /** The empirical preset is the optimal denoiser of Fashion-MNIST images: its hash reads the dataset. */
    @Test
    @RequiresFashionMnist
    void registersTheEmpiricalPreset() {
        as(submitter).contentType("application/json")
                .body("{\"name\": \"" + unique("emp") + "\", \"spec\": {\"preset\": \"fmnist-empirical\"}}")
                .post("/api/v1/models").then().statusCode(201)
                .body("kind", equalTo("empirical")).body("inputShape", equalTo(List.of(1, 28, 28)))
                .body("numClasses", equalTo(10));
    }

    @Test
    void registersAnInlineMixtureStoredCanonicallyWithItsHash() throws Exception {
        String name = unique("gmm");
        int id = as(submitter).contentType("application/json")
                .body("{\"name\": \"" + name + "\", \"anonymousRead\": true, \"spec\": " + GMM_SPEC + "}")
                .post("/api/v1/models").then().statusCode(201)
                .body("kind", equalTo("analytic")).body("preset", nullValue())
                .body("inputShape", equalTo(List.of(3))).body("numClasses", equalTo(2))
                .body("anonymousRead", equalTo(true)).body("schedule.type", equalTo("vp_linear"))
                .body("spec.model.means[1][2]", equalTo(-2.0f))
                .extract().path("id");
        ModelEntity m = row(id);
        ModelSpec parsed = ResolvedModel.specOf(m.spec);
        ModelSpec submitted = ModelSpec.MAPPER.readValue(GMM_SPEC, ModelSpec.class);
        assertEquals(ModelHash.of(submitted, Path.of("/")), m.contentHash);
        assertEquals(ModelHash.of(parsed, Path.of("/")), m.contentHash, "the stored spec is the same model");
        // same content under another name is allowed, and hashes alike
        String hash = as(submitter).contentType("application/json")
                .body("{\"name\": \"" + unique("gmm-again") + "\", \"spec\": " + GMM_SPEC.replace(" ", "") + "}")
                .post("/api/v1/models").then().statusCode(201).extract().path("contentHash");
        assertEquals(m.contentHash, hash);
    }

    @Test
    void uploadsATorchScriptModuleIntoTheArtifactStore() throws Exception {
        Path fixture = FIXTURES.resolve("cond_eps.pt");
        String sha = Hashing.sha256(fixture);
        String name = unique("ts");
        int id = upload(submitter, fixture, name, "1,28,28", "&numClasses=10&description=tiny conv")
                .statusCode(201)
                .body("kind", equalTo("torchscript")).body("inputShape", equalTo(List.of(1, 28, 28)))
                .body("numClasses", equalTo(10)).body("predictionType", equalTo("noise"))
                .body("artifact.sha256", equalTo(sha)).body("artifact.sizeBytes", equalTo((int) Files.size(fixture)))
                .body("spec.model.file", equalTo("sha256:" + sha)).body("description", equalTo("tiny conv"))
                .body("parameterCount", equalTo(13))
                .extract().path("id");
        Path stored = store.root().resolve("sha256/" + sha.substring(0, 2) + "/" + sha);
        assertTrue(Files.isRegularFile(stored));
        assertEquals(sha, Hashing.sha256(stored));
        assertEquals(stored, store.path(sha).orElseThrow());

        // the stored spec is what the job system reads: an absolute path into the store
        ModelEntity m = row(id);
        ModelSpec spec = ResolvedModel.specOf(m.spec);
        DenoiserSpec.TorchScript ts = (DenoiserSpec.TorchScript) spec.model();
        assertEquals(stored.toString(), ts.file());
        assertEquals(10L, ts.nullClass());
        assertEquals("ddpm_index", ts.timeInput());
        assertEquals(ModelHash.of(spec, Path.of("/tmp")), m.contentHash);
        try (Denoiser d = spec.build(Path.of("/nonexistent"))) {
            assertEquals(10, d.numClasses());
        }
    }

    @Test
    void uploadsTheTrainedUnet() {
        upload(submitter, Path.of("tuning-jobs/fmnist-unet/unet.pt"), unique("unet-upload"), "1,28,28",
                "&numClasses=10&nullClass=10").statusCode(201)
                .body("numClasses", equalTo(10)).body("artifact.sizeBytes", equalTo(4379768));
    }

    @Test
    void sameFileUnderTwoNamesSharesTheArtifactUntilTheLastIsDeleted() throws Exception {
        Path fixture = FIXTURES.resolve("uncond_eps.pt");
        String sha = Hashing.sha256(fixture);
        long artifactsBefore = count("artifacts");
        int a = upload(submitter, fixture, unique("u1"), "4", "").statusCode(201).extract().path("id");
        int b = upload(submitter, fixture, unique("u2"), "2,3", "").statusCode(201)
                .body("inputShape", equalTo(List.of(2, 3))).extract().path("id");
        assertEquals(artifactsBefore + 1, count("artifacts"), "one row per content");
        assertNotEquals(row(a).contentHash, row(b).contentHash, "another declared shape is another model");
        as(admin).delete("/api/v1/models/" + a).then().statusCode(204);
        assertTrue(store.path(sha).isPresent(), "still used by the second model");
        as(admin).delete("/api/v1/models/" + b).then().statusCode(204);
        assertTrue(store.find(sha).isEmpty());
        assertFalse(Files.exists(store.location(sha)), "the file went with its last model");
        assertEquals(artifactsBefore, count("artifacts"));
    }

    // ---- refusals -------------------------------------------------------------------------------------------------

    @Test
    void duplicateNameIs409() {
        String name = unique("dup");
        register(name, "{\"preset\": \"gmm-sd-d32\"}").statusCode(201);
        long models = count("models");
        register(name, GMM_SPEC).statusCode(409)
                .contentType(startsWith("application/problem+json"))
                .body("errors[0].field", equalTo("name")).body("detail", containsString("already exists"));
        upload(submitter, FIXTURES.resolve("uncond_eps.pt"), name, "3", "").statusCode(409)
                .body("errors[0].field", equalTo("name"));
        assertEquals(models, count("models"));
    }

    @Test
    void invalidJsonRequestsNameTheFieldAndLeaveNothing() {
        long models = count("models");
        String n = unique("bad");
        // malformed JSON
        as(submitter).contentType("application/json").body("{\"name\": \"x\", \"spec\": {")
                .post("/api/v1/models").then().statusCode(400).contentType(startsWith("application/problem+json"));
        refused("{\"spec\": {\"preset\": \"gmm-sd-d32\"}}", "name", "required");
        refused("{\"name\": \"12345\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}", "name", "not only digits");
        refused("{\"name\": \"has space\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}", "name", "letters");
        refused("{\"name\": \"" + n + "\"}", "spec", "required");
        refused("{\"name\": \"" + n + "\", \"spec\": {\"preset\": \"sd-xl\"}}", "spec.preset", "unknown preset");
        refused("{\"name\": \"" + n + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}, \"color\": 1}", "color",
                "unknown field");
        refused("{\"name\": \"" + n + "\", \"anonymousRead\": \"yes\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}",
                "anonymousRead", "true or false");
        // a client may not make the server read its files
        refused("{\"name\": \"" + n + "\", \"spec\": {\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1,"
                + " \"beta1\": 20}, \"model\": {\"type\": \"gaussian_mixture\", \"npz\": \"/etc/passwd\"}}}",
                "spec.model.npz", "file references are not accepted");
        refused("{\"name\": \"" + n + "\", \"spec\": {\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1,"
                + " \"beta1\": 20}, \"model\": {\"type\": \"empirical\", \"dir\": \"/root\"}}}",
                "spec.model.dir", "file references are not accepted");
        refused("{\"name\": \"" + n + "\", \"spec\": {\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1,"
                + " \"beta1\": 20}, \"model\": {\"type\": \"torchscript\", \"file\": \"../unet.pt\"}}}",
                "spec.model.type", "POST /api/v1/models/torchscript");
        // spec structure and values
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("\"stds\"", "\"sigmas\"") + "}",
                "spec.model.sigmas", "unknown field 'sigmas'");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("gaussian_mixture", "banana") + "}",
                "spec.model.type", "unknown type 'banana'");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("[0.2, 0.3]", "\"wide\"") + "}",
                "spec.model.stds", "");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("[1.0, 0.0, -2.0]", "[1.0, 0.0]") + "}",
                "spec.model.means[1]", "");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("\"beta1\": 20.0", "\"beta1\": \"x\"")
                + "}", "spec.schedule.beta1", "");
        refused("{\"name\": \"" + n + "\", \"spec\": {\"model\": {\"type\": \"gaussian\", \"mean\": [0]}}}",
                "spec.schedule", "required");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("\"classLabel\": 1", "\"classLabel\": 5")
                + "}", "spec.guidance", "out of range");
        refused("{\"name\": \"" + n + "\", \"spec\": " + GMM_SPEC.replace("\"dtype\": \"float64\"",
                "\"dtype\": \"int8\"") + "}", "spec.dtype", "float32 or float64");
        assertEquals(models, count("models"));
    }

    @Test
    void brokenTorchScriptUploadsAreRefusedAndLeaveNothing() throws IOException {
        long models = count("models");
        long artifacts = count("artifacts");
        long files = storedFiles();
        String n = unique("bad-ts");
        Path cond = FIXTURES.resolve("cond_eps.pt");
        // the declared input shape does not fit the network (1-channel conv)
        upload(submitter, cond, n, "3,28,28", "&numClasses=10").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("[2, 3, 28, 28]"));
        // conditional module declared unconditional: wrong arity
        upload(submitter, cond, n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("forward(x, t)"));
        upload(submitter, FIXTURES.resolve("wrong_signature.pt"), n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("signature"));
        upload(submitter, FIXTURES.resolve("nan_output.pt"), n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("NaN"));
        upload(submitter, FIXTURES.resolve("wrong_shape.pt"), n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("output shape"));
        upload(submitter, FIXTURES.resolve("state_dict.pt"), n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("state_dict"))
                .body("detail", org.hamcrest.Matchers.not(containsString(".part")));
        upload(submitter, FIXTURES.resolve("not_torchscript.pt"), n, "1,28,28", "").statusCode(400)
                .body("errors[0].field", equalTo("body")).body("detail", containsString("not a zip archive"));
        // declarations
        upload(submitter, cond, n, "", "").statusCode(400).body("errors[0].field", equalTo("inputShape"));
        upload(submitter, cond, n, "1,x,28", "").statusCode(400).body("errors[0].field", equalTo("inputShape"));
        upload(submitter, cond, n, "1,28,28", "&numClasses=10&nullClass=3").statusCode(400)
                .body("errors[0].field", equalTo("nullClass"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream")
                .body(Files.readAllBytes(cond))
                .post("/api/v1/models/torchscript?name=" + n + "&inputShape=1,28,28&predictionType=noise"
                        + "&schedule=cosine").then().statusCode(400).body("errors[0].field", equalTo("schedule"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream")
                .body(Files.readAllBytes(cond))
                .queryParam("name", n).queryParam("inputShape", "1,28,28").queryParam("predictionType", "noise")
                .queryParam("numClasses", "10")
                .queryParam("schedule", "{\"type\":\"edm\",\"sigmaMin\":0.002,\"sigmaMax\":80}")
                .post("/api/v1/models/torchscript")
                .then().statusCode(400).body("errors[0].field", equalTo("timeInput"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream")
                .body(Files.readAllBytes(cond))
                .post("/api/v1/models/torchscript?name=" + n + "&inputShape=1,28,28&schedule=linear")
                .then().statusCode(400).body("errors[0].field", equalTo("predictionType"));
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream").body(new byte[0])
                .post("/api/v1/models/torchscript?name=" + n + "&inputShape=1,28,28&schedule=linear"
                        + "&predictionType=noise").then().statusCode(400).body("errors[0].field", equalTo("body"));
        assertEquals(models, count("models"));
        assertEquals(artifacts, count("artifacts"));
        assertEquals(files, storedFiles(), "no file left in the store or its tmp directory");
    }

    @Test
    void oversizedUploadsAre413AndLeaveNothing() throws IOException {
        long models = count("models");
        long artifacts = count("artifacts");
        long files = storedFiles();
        long limit = store.maxUploadBytes();
        byte[] big = new byte[(int) limit + 1];
        // announced by Content-Length: refused before reading
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream").body(big)
                .post("/api/v1/models/torchscript?name=" + unique("big") + "&inputShape=1,28,28&schedule=linear"
                        + "&predictionType=noise")
                .then().statusCode(413).contentType(startsWith("application/problem+json"))
                .body("errors[0].field", equalTo("body"))
                .body("detail", containsString(Long.toString(limit)))
                .body("detail", containsString("solvertune.upload.max-bytes"));
        // chunked (no length): counted while streaming
        given().header("Authorization", "Bearer " + submitter).contentType("application/octet-stream")
                .body(new ByteArrayInputStream(big))
                .post("/api/v1/models/torchscript?name=" + unique("big") + "&inputShape=1,28,28&schedule=linear"
                        + "&predictionType=noise")
                .then().statusCode(413).body("errors[0].field", equalTo("body"));
        assertEquals(models, count("models"));
        assertEquals(artifacts, count("artifacts"));
        assertEquals(files, storedFiles());
    }

    // ---- roles and anonymous read ---------------------------------------------------------------------------------

    @Test
    void rolesAreEnforced() {
        String body = "{\"name\": \"" + unique("r") + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}";
        given().contentType("application/json").body(body).post("/api/v1/models").then().statusCode(401)
                .header("WWW-Authenticate", startsWith("Bearer"));
        as(reader).contentType("application/json").body(body).post("/api/v1/models").then().statusCode(403)
                .body("detail", containsString("needs submitter"));
        as(reader).contentType("application/octet-stream").body(new byte[] {1})
                .post("/api/v1/models/torchscript?name=x&inputShape=1&schedule=linear&predictionType=noise")
                .then().statusCode(403);
        int id = register(unique("roles"), "{\"preset\": \"gmm-sd-d32\"}").statusCode(201).extract().path("id");
        given().get("/api/v1/models").then().statusCode(401);
        as(reader).get("/api/v1/models/" + id).then().statusCode(200);
        as(submitter).contentType("application/json").body("{\"description\": \"x\"}")
                .patch("/api/v1/models/" + id).then().statusCode(403);
        as(submitter).delete("/api/v1/models/" + id).then().statusCode(403);
        as(reader).get("/api/v1/models/999999999").then().statusCode(404).body("detail", containsString("999999999"));
        as(reader).get("/api/v1/models/no-such-model").then().statusCode(404);
    }

    @Test
    void anonymousReadFollowsTheModelsFlag() {
        String name = unique("anon");
        int id = register(name, "{\"preset\": \"gmm-sd-d32\"}").statusCode(201).extract().path("id");
        given().get("/api/v1/models/" + name).then().statusCode(401);
        given().get("/api/v1/models/no-such-model").then().statusCode(401); // existence is not revealed
        as(admin).contentType("application/merge-patch+json")
                .body("{\"anonymousRead\": true, \"description\": \"public now\"}")
                .patch("/api/v1/models/" + id).then().statusCode(200)
                .body("anonymousRead", equalTo(true)).body("description", equalTo("public now"));
        given().get("/api/v1/models/" + name).then().statusCode(200).body("id", equalTo(id));
        as(admin).contentType("application/json").body("{\"anonymousRead\": false, \"description\": null}")
                .patch("/api/v1/models/" + name).then().statusCode(200).body("description", nullValue());
        given().get("/api/v1/models/" + id).then().statusCode(401);
        as(admin).contentType("application/json").body("{\"name\": \"renamed\"}")
                .patch("/api/v1/models/" + id).then().statusCode(400).body("errors[0].field", equalTo("name"))
                .body("detail", containsString("cannot be changed"));
        as(admin).contentType("application/json").body("{\"anonymousRead\": 1}")
                .patch("/api/v1/models/" + id).then().statusCode(400)
                .body("errors[0].field", equalTo("anonymousRead"));
    }

    // ---- delete ---------------------------------------------------------------------------------------------------

    @Test
    void deleteIsRefusedWhileAModelUsageSaysSo() {
        Path fixture = FIXTURES.resolve("cond_optional.pt");
        int id = upload(submitter, fixture, unique("in-use"), "1,28,28", "&numClasses=10").statusCode(201)
                .extract().path("id");
        long artifacts = count("artifacts");
        BlockingModelUsage.BLOCKED.put((long) id, "used by running jobs 12, 15");
        as(admin).delete("/api/v1/models/" + id).then().statusCode(409)
                .contentType(startsWith("application/problem+json"))
                .body("detail", containsString("used by running jobs 12, 15"));
        as(reader).get("/api/v1/models/" + id).then().statusCode(200);
        assertEquals(artifacts, count("artifacts"));
        BlockingModelUsage.BLOCKED.clear();
        as(admin).delete("/api/v1/models/" + id).then().statusCode(204);
        as(reader).get("/api/v1/models/" + id).then().statusCode(404);
        assertEquals(artifacts - 1, count("artifacts"));
        as(admin).delete("/api/v1/models/" + id).then().statusCode(404);
    }

    @Test
    void deleteIsRefusedWhilePublishedConfigsBelongToTheModel() {
        int id = register(unique("published"), "{\"preset\": \"gmm-sd-d32\"}").statusCode(201).extract().path("id");
        QuarkusTransaction.requiringNew().run(() -> {
            SolverConfigEntity c = new SolverConfigEntity();
            c.model = ModelEntity.findById((long) id);
            c.method = "baseline";
            c.solver = "dpmsolver++";
            c.solverOptions = json("{\"order\": \"2\"}");
            c.nfe = 5;
            c.spacing = "logSNR";
            c.tStart = 1.0;
            c.tEnd = 1e-3;
            c.version = 1;
            c.values = json("{\"codec\": 1}");
            c.provenance = json("{\"code\": \"test\"}");
            c.keyHash = "0".repeat(64);
            c.jobId = 9_100_000_000_000L + java.util.concurrent.ThreadLocalRandom.current().nextLong(1_000_000_000L); // never a real job id
            c.document = "{}";
            c.sha256 = "1".repeat(64);
            c.persist();
        });
        as(admin).delete("/api/v1/models/" + id).then().statusCode(409)
                .body("detail", containsString("published solver config"));
        as(reader).get("/api/v1/models/" + id).then().statusCode(200);
    }

    // ---- listing --------------------------------------------------------------------------------------------------

    @Test
    void listsPageByPageSortedById() {
        List<Integer> mine = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            mine.add(register(unique("page"), "{\"schedule\": {\"type\": \"vp_cosine\"}, \"model\": {\"type\":"
                    + " \"gaussian\", \"mean\": [" + i + ", 0], \"variances\": [1, 2]}}").statusCode(201)
                    .extract().path("id"));
        }
        List<Integer> seen = new ArrayList<>();
        String url = "/api/v1/models?limit=2&kind=analytic";
        int pages = 0;
        while (url != null) {
            ValidatableResponse r = as(reader).get(url).then().statusCode(200);
            List<Integer> ids = r.extract().path("items.id");
            assertTrue(ids.size() <= 2);
            List<String> kinds = r.extract().path("items.kind");
            assertTrue(kinds.stream().allMatch("analytic"::equals), kinds.toString());
            List<Object> specs = r.extract().path("items.spec");
            assertTrue(specs.stream().allMatch(s -> s == null), "the list omits specs");
            seen.addAll(ids);
            url = r.extract().path("next");
            Integer nextAfter = r.extract().path("nextAfter");
            if (url != null) {
                assertEquals(ids.get(ids.size() - 1), nextAfter);
            }
            pages++;
        }
        assertTrue(pages >= 3);
        List<Integer> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertEquals(sorted, seen, "sorted by id");
        assertEquals(seen.size(), seen.stream().distinct().count(), "no duplicates across pages");
        assertTrue(seen.containsAll(mine));
        as(reader).get("/api/v1/models?kind=torchscript&limit=500").then().statusCode(200)
                .body("items.kind", org.hamcrest.Matchers.everyItem(equalTo("torchscript")));
        as(reader).get("/api/v1/models?limit=0").then().statusCode(400).body("errors[0].field", equalTo("limit"));
        as(reader).get("/api/v1/models?limit=ten").then().statusCode(400).body("errors[0].field", equalTo("limit"));
        as(reader).get("/api/v1/models?after=-1").then().statusCode(400).body("errors[0].field", equalTo("after"));
        as(reader).get("/api/v1/models?limit=500").then().statusCode(200).body("items.id", hasItem(mine.get(0)));
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    private ValidatableResponse register(String name, String spec) {
        return as(submitter).contentType("application/json")
                .body("{\"name\": \"" + name + "\", \"spec\": " + spec + "}").post("/api/v1/models").then();
    }

    private void refused(String body, String field, String message) {
        as(submitter).contentType("application/json").body(body).post("/api/v1/models").then()
                .statusCode(400).contentType(startsWith("application/problem+json"))
                .body("errors[0].field", equalTo(field)).body("detail", containsString(message));
    }

    private ValidatableResponse upload(String token, Path file, String name, String shape, String extra) {
        try {
            RequestSpecification r = as(token).contentType("application/octet-stream").body(Files.readAllBytes(file))
                    .queryParam("name", name).queryParam("inputShape", shape).queryParam("predictionType", "noise")
                    .queryParam("schedule", "linear");
            for (String kv : extra.split("&")) {
                if (!kv.isEmpty()) {
                    String[] p = kv.split("=", 2);
                    r = r.queryParam(p[0], p[1]);
                }
            }
            return r.post("/api/v1/models/torchscript").then();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private ModelEntity row(int id) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = ModelEntity.findById((long) id);
            em.detach(m);
            return m;
        });
    }

    private long count(String table) {
        return QuarkusTransaction.requiringNew().call(() ->
                ((Number) em.createNativeQuery("SELECT count(*) FROM " + table).getSingleResult()).longValue());
    }

    private long storedFiles() throws IOException {
        if (!Files.isDirectory(store.root())) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(store.root())) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
