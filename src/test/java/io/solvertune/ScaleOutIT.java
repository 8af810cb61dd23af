package io.solvertune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two packaged service processes ("hosts") that share only the database: each its own home, work, artifact and cache
 * directory and, where the machine allows it (root and {@code ip netns}), its own network namespace reaching
 * PostgreSQL over a veth pair (through a forwarder in this JVM, since the server listens on 127.0.0.1 only). One job
 * runs across both; a second is interrupted by SIGKILL of the host holding a stage; the other host reclaims it after
 * the lease, fetches the killed host's finished stage directories from the artifact store (PostgreSQL backend) and
 * finishes the job; the published configs equal the uninterrupted run's.
 */
class ScaleOutIT {

    static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL = "{\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0},"
            + " \"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.25, 0.75],"
            + " \"means\": [[-1.0, 0.5, 2.0], [1.0, 0.0, -2.0]], \"stds\": [0.2, 0.3], \"numClasses\": 2},"
            + " \"guidance\": {\"classLabel\": 1, \"scale\": 3.0}, \"dtype\": \"float64\"}";
    static final String JOB = "{\"model\": \"it-gmm\", \"methods\": [\"iia-ddim\"], \"nfe\": [5], \"guidance\": [3.0],"
            + " \"spacings\": [\"logSNR\", \"time_uniform\"], \"teacher\": {\"steps\": 60, \"recordEvery\": 4,"
            + " \"checkSeeds\": 4}, \"seeds\": {\"train\": 96, \"heldOut\": 64, \"shardSize\": 16}, \"batch\": 16}";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path tmp;
    final List<Host> hosts = new ArrayList<>();
    final List<String> namespaces = new ArrayList<>();
    final List<ServerSocket> forwarders = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();

    /** One service process. */
    record Host(String name, Process process, Path home, Path log, String baseUrl) {
    }

    static String env(String key, String dflt) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? dflt : v;
    }

    static final String DB_URL = env("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://127.0.0.1:5432/solvertune");
    static final String DB_USER = env("QUARKUS_DATASOURCE_USERNAME", "solvertune");
    static final String DB_PASSWORD = env("QUARKUS_DATASOURCE_PASSWORD", "solvertune");

    @AfterEach
    void cleanUp() throws Exception {
        for (Host h : hosts) {
            h.process().destroyForcibly();
            h.process().waitFor(30, TimeUnit.SECONDS);
        }
        for (ServerSocket s : forwarders) {
            s.close();
        }
        for (String ns : namespaces) {
            run("ip", "netns", "delete", ns);
        }
    }

    static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    /** Whether this machine lets us put each host into its own network namespace. */
    static boolean netnsAvailable() throws InterruptedException {
        try {
            String probe = "st-probe-" + ProcessHandle.current().pid();
            if (run("ip", "netns", "add", probe) != 0) {
                return false;
            }
            run("ip", "netns", "delete", probe);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A namespace with a veth pair 10.231.{n}.1 (here) / .2 (there) and a forwarder from 10.231.{n}.1:15432 to the
     * database; returns the address the host's service is reached at.
     */
    String namespace(int n, String dbHostPort) throws Exception {
        String ns = "st-it-" + ProcessHandle.current().pid() + "-" + n;
        String outer = "vsto" + n + (ProcessHandle.current().pid() % 10000);
        String inner = "vsti" + n + (ProcessHandle.current().pid() % 10000);
        assertEquals(0, run("ip", "netns", "add", ns));
        namespaces.add(ns);
        assertEquals(0, run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner));
        assertEquals(0, run("ip", "link", "set", inner, "netns", ns));
        assertEquals(0, run("ip", "addr", "add", "10.231." + n + ".1/30", "dev", outer));
        assertEquals(0, run("ip", "link", "set", outer, "up"));
        assertEquals(0, run("ip", "netns", "exec", ns, "ip", "addr", "add", "10.231." + n + ".2/30", "dev", inner));
        assertEquals(0, run("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up"));
        assertEquals(0, run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"));
        String[] hp = dbHostPort.split(":");
        forward(new InetSocketAddress(InetAddress.getByName("10.231." + n + ".1"), 15432), hp[0],
                Integer.parseInt(hp[1]));
        return ns;
    }

    /** A plain TCP forwarder (the database listens on loopback only). */
    void forward(InetSocketAddress listen, String host, int port) throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.bind(listen);
        forwarders.add(ss);
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try {
                    Socket in = ss.accept();
                    Socket out = new Socket(host, port);
                    pipe(in.getInputStream(), out.getOutputStream(), in, out);
                    pipe(out.getInputStream(), in.getOutputStream(), in, out);
                } catch (IOException e) {
                    // closed
                }
            }
        }, "forward-" + listen);
        t.setDaemon(true);
        t.start();
    }

    static void pipe(InputStream from, OutputStream to, Socket a, Socket b) {
        Thread t = new Thread(() -> {
            try (a; b) {
                from.transferTo(to);
            } catch (IOException e) {
                // a side closed
            }
        });
        t.setDaemon(true);
        t.start();
    }

    Host start(String name, String ns, int n, boolean first) throws Exception {
        Path home = Files.createDirectories(tmp.resolve(name));
        Path log = home.resolve("service.log");
        String dbHostPort = DB_URL.replaceFirst("^jdbc:postgresql://([^/]+)/.*$", "$1");
        String url = ns == null ? DB_URL : DB_URL.replace(dbHostPort, "10.231." + n + ".1:15432");
        int port = 18080 + n;
        List<String> cmd = new ArrayList<>();
        if (ns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", ns));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home, "-Dquarkus.http.port=" + port,
                "-Dquarkus.http.host=" + (ns == null ? "127.0.0.1" : "0.0.0.0"),
                "-jar", JAR.toAbsolutePath().toString(), "serve"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("QUARKUS_") || k.startsWith("SOLVERTUNE_"));
        e.put("HOME", home.toString());
        e.putIfAbsent("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".djl.ai").toString());
        e.put("QUARKUS_DATASOURCE_JDBC_URL", url);
        e.put("QUARKUS_DATASOURCE_USERNAME", DB_USER);
        e.put("QUARKUS_DATASOURCE_PASSWORD", DB_PASSWORD);
        e.put("SOLVERTUNE_EMBEDDED_PG_ENABLED", "false");
        e.put("SOLVERTUNE_JOBS_LEASE", "4s");
        e.put("SOLVERTUNE_WORKERS_POLL_INTERVAL", "200ms");
        e.put("SOLVERTUNE_WORKERS_COUNT", "1");
        if (first) {
            e.put("QUARKUS_FLYWAY_CLEAN_AT_START", "true"); // a clean schema: the first admin token is ours
            e.put("QUARKUS_FLYWAY_CLEAN_DISABLED", "false");
        } else {
            e.put("SOLVERTUNE_BOOTSTRAP_TOKEN_ENABLED", "false");
        }
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Host h = new Host(name, p, home, log,
                "http://" + (ns == null ? "127.0.0.1" : "10.231." + n + ".2") + ":" + port);
        hosts.add(h);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!Files.readString(log).contains("Listening on")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                fail(name + " did not start:\n" + Files.readString(log));
            }
            Thread.sleep(250);
        }
        return h;
    }

    JsonNode call(Host h, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(h.baseUrl() + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
        if (body != null) {
            b.header("Idempotency-Key", UUID.randomUUID().toString());
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() < 300, method + " " + path + ": " + r.statusCode() + " " + r.body());
        return JSON.readTree(r.body());
    }

    JsonNode await(Host h, String token, long job, long timeoutSec) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);
        while (true) {
            JsonNode j = call(h, "GET", "/api/v1/jobs/" + job, token, null);
            String state = j.path("state").asText();
            if (state.equals("SUCCEEDED") || state.equals("FAILED") || state.equals("CANCELLED")) {
                return j;
            }
            if (System.nanoTime() > deadline) {
                fail("job " + job + " still " + state + ":\n" + j.toPrettyString());
            }
            Thread.sleep(500);
        }
    }

    /** The published documents of a job without what names the job or the publication. */
    static List<JsonNode> published(Connection c, long job) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT document FROM solver_configs WHERE job_id = ? ORDER BY key_hash")) {
            ps.setLong(1, job);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ObjectNode d = (ObjectNode) JSON.readTree(rs.getString(1));
                    d.remove(List.of("id", "jobId", "createdAt", "version"));
                    if (d.get("provenance") instanceof ObjectNode p) {
                        p.remove("jobId");
                    }
                    docs.add(d);
                }
            }
        }
        return docs;
    }

    @Test
    void aHostKilledMidStageIsReplacedByTheOtherAndThePublishedConfigsEqualAnUninterruptedRun() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "run after `mvn package`: " + JAR.toAbsolutePath());
        boolean netns = netnsAvailable();
        String dbHostPort = DB_URL.replaceFirst("^jdbc:postgresql://([^/]+)/.*$", "$1");
        String nsA = netns ? namespace(1, dbHostPort) : null;
        String nsB = netns ? namespace(2, dbHostPort) : null;
        System.out.println("ScaleOutIT: network namespaces " + (netns ? nsA + ", " + nsB : "not available (not root "
                + "or no ip netns): both hosts on this host's loopback"));
        Host a = start("hostA", nsA, 1, true);
        Path tokenFile = a.home().resolve(".solvertune/admin-token");
        assertTrue(Files.isRegularFile(tokenFile), Files.readString(a.log()));
        String token = Files.readString(tokenFile).strip();
        Host b = start("hostB", nsB, 2, false);
        call(a, "POST", "/api/v1/models", token, "{\"name\": \"it-gmm\", \"spec\": " + MODEL + "}");

        try (Connection c = DriverManager.getConnection(DB_URL, DB_USER, DB_PASSWORD)) {
            // 1. uninterrupted: both hosts take stages of one job
            long ref = call(a, "POST", "/api/v1/jobs", token, JOB).path("id").asLong();
            JsonNode refJob = await(b, token, ref, 600);
            assertEquals("SUCCEEDED", refJob.path("state").asText(), refJob.toPrettyString());
            List<JsonNode> refDocs = published(c, ref);
            assertFalse(refDocs.isEmpty());

            // 2. the same spec; host A is killed while it holds a stage that has made progress
            long job = call(b, "POST", "/api/v1/jobs", token, JOB).path("id").asLong();
            String owner = ":" + a.process().pid() + ":";
            String killed = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
            while (killed == null) {
                try (PreparedStatement ps = c.prepareStatement("SELECT name FROM job_stages WHERE job_id = ? AND "
                        + "state = 'RUNNING' AND lease_owner LIKE ? AND progress_done > 0 AND "
                        + "EXISTS (SELECT 1 FROM job_logs l JOIN job_stages d ON d.job_id = l.job_id AND "
                        + "d.name = l.stage WHERE l.job_id = ? AND d.state = 'SUCCEEDED' AND l.message LIKE ?)")) {
                    // ... and after a stage host A finished: host B will need its directory
                    ps.setLong(1, job);
                    ps.setString(2, "%" + owner + "%");
                    ps.setLong(3, job);
                    ps.setString(4, "claimed by %" + owner + "%");
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            killed = rs.getString(1);
                        }
                    }
                }
                assertTrue(System.nanoTime() < deadline, "host A never held a stage of job " + job);
                Thread.sleep(20);
            }
            a.process().destroyForcibly(); // SIGKILL: no shutdown, no hand-back
            assertTrue(a.process().waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, a.process().exitValue());
            // the stages host A held when the signal landed: the one seen running, or none if A finished it in the
            // milliseconds between the query and the signal (a teacher shard is short), or the next one it claimed
            long held;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job_stages WHERE job_id = ? AND "
                    + "state = 'RUNNING' AND lease_owner LIKE ?")) {
                ps.setLong(1, job);
                ps.setString(2, "%" + owner + "%");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    held = rs.getLong(1);
                }
            }
            assertTrue(held <= 1, "host A ran one worker: " + held + " stages held");
            if (held == 0) {
                System.out.println("ScaleOutIT: host A finished " + killed + " before the signal landed and held no "
                        + "stage when it died; no lease to expire in this run");
            }

            JsonNode done = await(b, token, job, 900);
            assertEquals("SUCCEEDED", done.path("state").asText(), done.toPrettyString());
            String logB = Files.readString(b.log());
            // the stage host A held when it died (seen running as " + killed + ", or the next one it had claimed
            // by the time the signal landed) was taken back once A's lease expired
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job_logs WHERE job_id = ? AND "
                    + "message LIKE ?")) {
                ps.setLong(1, job);
                ps.setString(2, "lease of %" + owner + "% expired%");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(held, rs.getLong(1), "host A's stage (" + killed + ", held at death: " + held
                            + ") reclaimed after its lease expired");
                }
            }
            assertTrue(logB.contains("job " + job + ": fetched stage"),
                    "host B fetched host A's stage directories from the artifact store:\n" + logB);
            assertEquals(refDocs, published(c, job), "the published configs equal the uninterrupted run's");
        }
    }
}
