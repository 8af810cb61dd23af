package io.solvertune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged application ({@code target/quarkus-app/quarkus-run.jar}, after {@code package}) as a new user meets
 * it: a fresh home directory, no database configured (the embedded PostgreSQL in {@code ~/.solvertune/pgdata}).
 * The first start shows an admin token once and saves it; {@code token create} works while the service runs (it
 * connects to the service's server) and after it stopped (it starts the server itself); ids continue by one across
 * processes; errors are one line; nothing warns about CUDA.
 */
class FirstRunIT {

    static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    static final Pattern LISTENING = Pattern.compile("Listening on: http://[^:]+:(\\d+)");
    static final Pattern LOGGED_TOKEN = Pattern.compile("\n {6}(st_[A-Za-z0-9_-]+)\n");

    /** The user's home: a fresh directory, kept when the test fails (service.log, .solvertune/). */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path home;
    Process service;
    Path serviceLog;

    @BeforeEach
    void freshHome() {
        serviceLog = home.resolve("service.log");
    }

    @AfterEach
    void stopService() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroy();
            if (!service.waitFor(60, TimeUnit.SECONDS)) {
                service.destroyForcibly();
            }
        }
    }

    record Run(int code, String out, String err) {
    }

    @Test
    void firstStartTokenCommandsWhileRunningAndAfterwardsAndOneLineErrors() throws Exception {
        int port = startService();
        String log = Files.readString(serviceLog);

        // the first start: one admin token, shown once, saved owner-only
        Matcher m = LOGGED_TOKEN.matcher(log);
        assertTrue(m.find(), "no token block in the service log:\n" + log);
        String admin = m.group(1);
        Path tokenFile = home.resolve(".solvertune/admin-token");
        assertEquals(admin, Files.readString(tokenFile).strip());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
        assertWhoami(whoami(port, admin), 1, "bootstrap-admin", "admin");
        assertFalse(log.contains("Failed to detect GPU count"), "CUDA probe warning in the service log:\n" + log);
        assertEquals(1, count(log, "(device cpu())") + count(log, "(device gpu("), "the device, reported once");

        // token create while the service runs on the embedded server: connects to it
        Run created = token(Map.of(), "create", "--name", "while-running", "--role", "reader");
        assertEquals(0, created.code(), created.err());
        assertEquals("", created.err(), "nothing on stderr (no stack trace, no CUDA warning)");
        List<String> lines = created.out().lines().toList();
        assertEquals(2, lines.size(), created.out());
        assertEquals("token 2 (reader, while-running):", lines.get(0), "ids continue by one across processes");
        // the running service knows the token the command created
        assertWhoami(whoami(port, lines.get(1)), 2, "while-running", "reader");

        // after the service stopped: the command starts the embedded server itself
        service.destroy();
        assertTrue(service.waitFor(60, TimeUnit.SECONDS), "the service did not stop");
        Run offline = token(Map.of(), "create", "--name", "after-stop", "--role", "submitter");
        assertEquals(0, offline.code(), offline.err());
        assertTrue(offline.out().startsWith("token 3 (submitter, after-stop):\nst_"), offline.out());
        assertEquals("", offline.err());
        Run list = token(Map.of(), "list");
        assertEquals(0, list.code(), list.err());
        assertEquals(List.of("1\tadmin\tbootstrap-admin", "2\treader\twhile-running", "3\tsubmitter\tafter-stop"),
                list.out().lines().map(l -> l.substring(0, l.indexOf("\tcreated"))).toList());

        // errors: one line each
        Run badRole = token(Map.of(), "create", "--name", "x", "--role", "wizard");
        assertOneLineError(badRole, 2, "error: role: unknown role 'wizard'");
        Run noDb = token(Map.of("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://127.0.0.1:1/solvertune"), "list");
        assertOneLineError(noDb, 1, "error: cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/solvertune");
    }

    static void assertWhoami(String body, int id, String name, String role) {
        for (String part : List.of("\"tokenId\":" + id, "\"name\":\"" + name + "\"", "\"role\":\"" + role + "\"")) {
            assertTrue(body.contains(part), part + " not in " + body);
        }
    }

    static void assertOneLineError(Run r, int code, String start) {
        assertEquals(code, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith(start), r.err());
        assertEquals(1, r.err().lines().count(), "one line:\n" + r.err());
    }

    static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /** {@code java -Duser.home=HOME [jvmOption] -jar quarkus-run.jar args...} */
    private List<String> command(String jvmOption, String... args) {
        List<String> c = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home));
        if (jvmOption != null) {
            c.add(jvmOption);
        }
        c.addAll(List.of("-jar", JAR.toAbsolutePath().toString()));
        c.addAll(List.of(args));
        return c;
    }

    /** A clean environment: this home, no datasource or client settings inherited from the build. */
    private ProcessBuilder builder(Map<String, String> env, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> e = pb.environment();
        e.keySet().removeIf(k -> k.startsWith("QUARKUS_") || k.startsWith("SOLVERTUNE_"));
        e.put("HOME", home.toString());
        // the native PyTorch libraries are extracted once per user; share the real user's copy (432 MB)
        e.putIfAbsent("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".djl.ai").toString());
        e.putAll(env);
        return pb;
    }

    private int startService() throws IOException, InterruptedException {
        assertTrue(Files.isRegularFile(JAR), "run after `mvn package`: " + JAR.toAbsolutePath());
        service = builder(Map.of(), command("-Dquarkus.http.port=0"))
                .redirectErrorStream(true).redirectOutput(serviceLog.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            String log = Files.readString(serviceLog);
            Matcher m = LISTENING.matcher(log);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!service.isAlive()) {
                fail("the service exited with " + service.exitValue() + ":\n" + log);
            }
            Thread.sleep(250);
        }
        fail("the service did not start within 240 s:\n" + Files.readString(serviceLog));
        return -1;
    }

    private Run token(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("token"));
        a.addAll(List.of(args));
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        Process p = builder(env, command(null, a.toArray(String[]::new)))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("token " + a + " did not finish within 180 s: " + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static String whoami(int port, String token) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + port + "/api/v1/whoami"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString(
                StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }
}
