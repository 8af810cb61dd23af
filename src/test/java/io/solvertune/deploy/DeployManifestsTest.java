package io.solvertune.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.solvertune.service.ops.ProcessRole;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests (deploy/k8s) and docker/compose.yaml checked against the code: every file kustomize lists
 * parses; images name a Dockerfile here; ports, probe and metrics paths are the service's; every environment variable
 * is a configuration key the service reads; secrets are the ones CloudNativePG creates for the cluster; the KEDA
 * query's table, column and state exist in the Flyway migrations; PodDisruptionBudgets and the ScaledObject select
 * existing Deployments; the workers' grace outlasts the service's shutdown grace. No cluster is needed (none is here).
 */
class DeployManifestsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path K8S = ROOT.resolve("deploy/k8s");
    private static List<JsonNode> docs;
    private static Properties props;
    private static String propsText;
    private static String migrations;

    @BeforeAll
    static void load() throws IOException {
        JsonNode kustomization = YAML.readTree(K8S.resolve("kustomization.yaml").toFile());
        docs = new ArrayList<>();
        for (JsonNode r : kustomization.path("resources")) {
            Path f = K8S.resolve(r.asText());
            assertTrue(Files.isRegularFile(f), "kustomization lists " + r.asText());
            try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(f.toFile())) {
                while (it.hasNext()) {
                    JsonNode d = it.next();
                    if (d != null && !d.isNull() && !d.isEmpty()) {
                        docs.add(d);
                    }
                }
            }
        }
        propsText = Files.readString(ROOT.resolve("src/main/resources/application.properties"));
        props = new Properties();
        props.load(new StringReader(propsText));
        StringBuilder sql = new StringBuilder();
        try (Stream<Path> s = Files.list(ROOT.resolve("db/migration"))) {
            for (Path p : s.sorted().toList()) {
                sql.append(Files.readString(p)).append('\n');
            }
        }
        migrations = sql.toString();
    }

    private static List<JsonNode> ofKind(String kind) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    private static JsonNode named(String kind, String name) {
        return ofKind(kind).stream().filter(d -> name.equals(d.path("metadata").path("name").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    private static List<JsonNode> containers() {
        List<JsonNode> l = new ArrayList<>();
        for (JsonNode d : ofKind("Deployment")) {
            d.path("spec").path("template").path("spec").path("containers").forEach(l::add);
        }
        return l;
    }

    /** An environment variable name as MicroProfile Config maps it: upper case, non-alphanumerics as '_'. */
    private static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /** Config keys the service reads beyond application.properties (Quarkus' own, named in its comments). */
    private static boolean isConfigKey(String env) {
        for (String k : props.stringPropertyNames()) {
            String plain = k.startsWith("%") ? k.substring(k.indexOf('.') + 1) : k;
            if (envName(plain).equals(env)) {
                return true;
            }
        }
        if (propsText.contains(env)) {
            return true; // documented there as a variable, e.g. QUARKUS_DATASOURCE_JDBC_URL
        }
        Matcher m = Pattern.compile("(?:solvertune|quarkus)\\.[a-z0-9.-]+[a-z0-9]").matcher(propsText);
        while (m.find()) {
            if (envName(m.group()).equals(env)) {
                return true; // documented in a comment, e.g. solvertune.embedded-pg.enabled
            }
        }
        return false;
    }

    /** A compose service's environment with YAML merge keys ({@code <<: *anchor}) applied. */
    private static JsonNode environment(JsonNode service) {
        com.fasterxml.jackson.databind.node.ObjectNode env = YAML.createObjectNode();
        JsonNode raw = service.path("environment");
        if (raw.has("<<")) {
            env.setAll((com.fasterxml.jackson.databind.node.ObjectNode) raw.get("<<"));
        }
        raw.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("<<")) {
                env.set(e.getKey(), e.getValue());
            }
        });
        return env;
    }

    @Test
    void everyResourceParsesAndTheExpectedKindsArePresent() {
        Set<String> kinds = new HashSet<>();
        docs.forEach(d -> kinds.add(d.path("kind").asText()));
        assertEquals(Set.of("Namespace", "Cluster", "ConfigMap", "Deployment", "Service", "ScaledObject",
                "TriggerAuthentication", "PodDisruptionBudget"), kinds);
        assertEquals("postgresql.cnpg.io/v1", named("Cluster", "solvertune-db").path("apiVersion").asText());
        assertEquals("keda.sh/v1alpha1", named("ScaledObject", "solvertune-worker").path("apiVersion").asText());
    }

    @Test
    void imagesAreBuiltByADockerfileHereAndTheWorkersGetTheCudaOne() throws IOException {
        for (JsonNode c : containers()) {
            String image = c.path("image").asText();
            String dockerfile = switch (image) {
                case "solvertune" -> "docker/Dockerfile";
                case "solvertune-cuda" -> "docker/Dockerfile.cuda";
                default -> throw new AssertionError("image " + image + " is built by no Dockerfile here");
            };
            String text = Files.readString(ROOT.resolve(dockerfile));
            assertTrue(text.contains("-t " + image + " "), dockerfile + " documents building " + image);
            assertTrue(text.contains("EXPOSE 8080"), dockerfile);
        }
        JsonNode worker = named("Deployment", "solvertune-worker").path("spec").path("template").path("spec");
        assertEquals("solvertune-cuda", worker.path("containers").get(0).path("image").asText());
        assertEquals(1, worker.path("containers").get(0).path("resources").path("limits").path("nvidia.com/gpu")
                .asInt());
        String cuda = Files.readString(ROOT.resolve("docker/Dockerfile.cuda"));
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        Matcher jni = Pattern.compile("<pytorch.jni.version>([0-9.]+)-([0-9.]+)</pytorch.jni.version>").matcher(pom);
        assertTrue(jni.find());
        assertTrue(cuda.contains("PYTORCH_VERSION=" + jni.group(1)), "libtorch version = the JNI's " + jni.group(1));
        assertTrue(cuda.contains("libtorch-cxx11-abi-shared-with-deps-" + jni.group(1) + "%2Bcu128.zip"));
        assertTrue(pom.contains("<djl.version>" + jni.group(2) + "</djl.version>"), "JNI built for this DJL");
    }

    @Test
    void portsProbesAndMetricsAreTheServices() {
        String metricsPath = props.getProperty("quarkus.micrometer.export.prometheus.path");
        assertEquals("/q/metrics", metricsPath);
        for (JsonNode d : ofKind("Deployment")) {
            JsonNode pod = d.path("spec").path("template");
            assertEquals(metricsPath, pod.path("metadata").path("annotations").path("prometheus.io/path").asText());
            JsonNode c = pod.path("spec").path("containers").get(0);
            assertEquals(8080, c.path("ports").get(0).path("containerPort").asInt(), "quarkus.http.port default");
            assertEquals("/q/health/ready", c.path("readinessProbe").path("httpGet").path("path").asText());
            assertEquals("/q/health/live", c.path("livenessProbe").path("httpGet").path("path").asText());
            assertEquals(c.path("ports").get(0).path("name").asText(),
                    c.path("readinessProbe").path("httpGet").path("port").asText());
        }
        JsonNode svc = named("Service", "solvertune-api");
        assertEquals("http", svc.path("spec").path("ports").get(0).path("targetPort").asText());
        assertEquals(named("Deployment", "solvertune-api").path("spec").path("selector").path("matchLabels"),
                svc.path("spec").path("selector"));
    }

    @Test
    void everyEnvironmentVariableIsAConfigKeyAndRolesParse() {
        List<String> names = new ArrayList<>();
        named("ConfigMap", "solvertune-config").path("data").fieldNames().forEachRemaining(names::add);
        for (JsonNode c : containers()) {
            for (JsonNode e : c.path("env")) {
                names.add(e.path("name").asText());
                if (e.path("name").asText().equals("SOLVERTUNE_ROLE")) {
                    ProcessRole.parse(e.path("value").asText());
                }
            }
            for (JsonNode e : c.path("envFrom")) {
                named("ConfigMap", e.path("configMapRef").path("name").asText());
            }
        }
        for (String n : names) {
            assertTrue(isConfigKey(n), n + " is no key of application.properties");
        }
        assertEquals("api", env("solvertune-api", "SOLVERTUNE_ROLE"));
        assertEquals("worker", env("solvertune-worker", "SOLVERTUNE_ROLE"));
        assertEquals("postgresql", named("ConfigMap", "solvertune-config").path("data")
                .path("SOLVERTUNE_ARTIFACTS_BACKEND").asText().toLowerCase(Locale.ROOT));
    }

    @Test
    void secretsAreTheOnesCloudNativePgCreatesAndTheJdbcUrlNamesItsService() {
        JsonNode cluster = named("Cluster", "solvertune-db");
        String secret = cluster.path("metadata").path("name").asText() + "-app";
        String db = cluster.path("spec").path("bootstrap").path("initdb").path("database").asText();
        Set<String> keys = Set.of("username", "password", "host", "port", "dbname", "uri", "jdbc-uri");
        int refs = 0;
        for (JsonNode c : containers()) {
            for (JsonNode e : c.path("env")) {
                JsonNode ref = e.path("valueFrom").path("secretKeyRef");
                if (!ref.isMissingNode()) {
                    assertEquals(secret, ref.path("name").asText());
                    assertTrue(keys.contains(ref.path("key").asText()), ref.toString());
                    refs++;
                }
            }
        }
        assertEquals(4, refs);
        String url = named("ConfigMap", "solvertune-config").path("data").path("QUARKUS_DATASOURCE_JDBC_URL")
                .asText();
        assertEquals("jdbc:postgresql://" + cluster.path("metadata").path("name").asText() + "-rw:5432/" + db, url);
        JsonNode auth = named("TriggerAuthentication", "solvertune-db").path("spec").path("secretTargetRef").get(0);
        assertEquals(secret, auth.path("name").asText());
        assertEquals("password", auth.path("key").asText());
    }

    @Test
    void theKedaQueryCountsRealStagesAndScalesTheWorkers() {
        JsonNode so = named("ScaledObject", "solvertune-worker").path("spec");
        named("Deployment", so.path("scaleTargetRef").path("name").asText());
        JsonNode trigger = so.path("triggers").get(0);
        assertEquals("postgresql", trigger.path("type").asText());
        named("TriggerAuthentication", trigger.path("authenticationRef").path("name").asText());
        JsonNode m = trigger.path("metadata");
        JsonNode cluster = named("Cluster", "solvertune-db");
        assertTrue(m.path("host").asText().startsWith(cluster.path("metadata").path("name").asText() + "-rw."));
        assertEquals(cluster.path("spec").path("bootstrap").path("initdb").path("database").asText(),
                m.path("dbName").asText());
        assertEquals(cluster.path("spec").path("bootstrap").path("initdb").path("owner").asText(),
                m.path("userName").asText());
        String query = m.path("query").asText();
        Matcher q = Pattern.compile("SELECT count\\(\\*\\) FROM (\\w+) WHERE (\\w+) IN \\(([^)]*)\\)").matcher(query);
        assertTrue(q.matches(), query);
        String table = q.group(1);
        Matcher create = Pattern.compile("CREATE TABLE " + table + " \\((.*?)\\n\\);", Pattern.DOTALL)
                .matcher(migrations);
        assertTrue(create.find(), "table " + table + " in db/migration");
        String body = create.group(1);
        assertTrue(Pattern.compile("\\n\\s+" + q.group(2) + "\\s").matcher(body).find(), "column " + q.group(2));
        Matcher check = Pattern.compile(q.group(2) + " IN \\(([^)]*)\\)").matcher(body);
        assertTrue(check.find(), "the state CHECK constraint");
        for (String state : q.group(3).split(",")) {
            assertTrue(check.group(1).contains(state.strip()), state + " is a stage state");
        }
        assertTrue(so.path("maxReplicaCount").asInt() >= 1);
        assertEquals(0, so.path("minReplicaCount").asInt(), "no queued work: no GPU pods");
    }

    @Test
    void disruptionBudgetsSelectDeploymentsAndWorkersOutlastTheirGrace() {
        List<JsonNode> pdbs = ofKind("PodDisruptionBudget");
        assertEquals(2, pdbs.size());
        for (JsonNode p : pdbs) {
            JsonNode sel = p.path("spec").path("selector").path("matchLabels");
            assertTrue(ofKind("Deployment").stream().anyMatch(d -> d.path("spec").path("template").path("metadata")
                    .path("labels").equals(sel)), "PDB " + p.path("metadata").path("name") + " selects a Deployment");
        }
        Duration grace = Duration.parse("PT" + named("ConfigMap", "solvertune-config").path("data")
                .path("SOLVERTUNE_WORKERS_SHUTDOWN_GRACE").asText().toUpperCase(Locale.ROOT));
        long podGrace = named("Deployment", "solvertune-worker").path("spec").path("template").path("spec")
                .path("terminationGracePeriodSeconds").asLong();
        assertTrue(podGrace > grace.toSeconds(), "pod grace " + podGrace + " s > worker grace " + grace);
    }

    @Test
    void composeRunsOneApiAndWorkersOnTheDatabase() throws IOException {
        // SnakeYAML itself: it resolves the anchors and merge keys (<<: *db-env) that Jackson's YAML reader leaves as is
        JsonNode compose;
        try (java.io.Reader r = Files.newBufferedReader(ROOT.resolve("docker/compose.yaml"))) {
            compose = new ObjectMapper().valueToTree(new org.yaml.snakeyaml.Yaml().load(r));
        }
        JsonNode api = compose.path("services").path("api");
        JsonNode worker = compose.path("services").path("worker");
        assertNotNull(api);
        assertEquals("api", environment(api).path("SOLVERTUNE_ROLE").asText());
        assertEquals("worker", environment(worker).path("SOLVERTUNE_ROLE").asText());
        for (JsonNode svc : List.of(api, worker)) {
            environment(svc).fieldNames().forEachRemaining(n -> {
                if (!n.equals("JAVA_OPTS")) {
                    assertTrue(isConfigKey(n), n + " is no key of application.properties");
                }
            });
            assertTrue(environment(svc).path("QUARKUS_DATASOURCE_JDBC_URL").asText()
                    .startsWith("jdbc:postgresql://postgres:5432/"));
        }
        assertEquals("docker/Dockerfile", api.path("build").path("dockerfile").asText());
        assertFalse(worker.has("ports"), "workers publish no port: scale them freely");
    }

    private static String env(String deployment, String name) {
        for (JsonNode e : named("Deployment", deployment).path("spec").path("template").path("spec")
                .path("containers").get(0).path("env")) {
            if (name.equals(e.path("name").asText())) {
                return e.path("value").asText();
            }
        }
        return null;
    }
}
