package io.solvertune.clients;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the Python client's pytest suite ({@code clients/python/tests}) from a JUnit test and fails it when pytest
 * fails, printing the end of pytest's output. The interpreter is {@code /usr/bin/python3} (Debian's, which has the
 * packages) unless {@code -Dsolvertune.python=...} or {@code $SOLVERTUNE_PYTHON} names another. Without the
 * interpreter, numpy or pytest the test is skipped, naming the Debian packages to install ({@code .ci/run} installs
 * them); tests needing torch skip themselves inside pytest.
 */
final class PythonSuite {
    static final String PACKAGES = "python3-numpy python3-torch python3-pytest";
    private static final long TIMEOUT_MINUTES = 15;

    private PythonSuite() {
    }

    /** The interpreter to use. */
    static String python() {
        String p = System.getProperty("solvertune.python");
        if (p == null || p.isBlank()) {
            p = System.getenv("SOLVERTUNE_PYTHON");
        }
        return p == null || p.isBlank() ? "/usr/bin/python3" : p;
    }

    /** Skips the calling test unless the interpreter can import numpy and pytest (and torch, if asked). */
    static void assumeAvailable(boolean torch) throws IOException, InterruptedException {
        String py = python();
        Assumptions.assumeTrue(Files.isExecutable(Path.of(py)) || !py.contains("/"),
                "Python suite skipped: no interpreter at " + py + " (apt-get install " + PACKAGES + ")");
        String modules = torch ? "numpy, pytest, torch" : "numpy, pytest";
        Process check = new ProcessBuilder(py, "-c", "import " + modules).redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean ok = check.waitFor(2, TimeUnit.MINUTES) && check.exitValue() == 0;
        Assumptions.assumeTrue(ok, "Python suite skipped: " + py + " cannot import " + modules + " (apt-get install "
                + PACKAGES + "): " + out.strip());
    }

    /**
     * Runs pytest on {@code clients/python/tests} with {@code args} and the extra environment; fails the calling
     * test unless pytest passes. The output goes to {@code target/python-tests/<label>.log} (and JUnit XML next to
     * it).
     */
    static void run(String label, List<String> args, Map<String, String> env) throws Exception {
        assumeAvailable(false);
        Path dir = Path.of("target", "python-tests");
        Files.createDirectories(dir);
        Path log = dir.resolve(label + ".log");
        List<String> cmd = new ArrayList<>(List.of(python(), "-m", "pytest", "clients/python/tests", "-q",
                "-p", "no:cacheprovider", "-rs", "--junitxml=" + dir.resolve(label + ".xml")));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("pytest (" + label + ") did not finish within " + TIMEOUT_MINUTES + " minutes; see " + log);
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        List<String> tail = lines.subList(Math.max(0, lines.size() - 60), lines.size());
        tail.forEach(l -> System.out.println("[pytest " + label + "] " + l));
        if (p.exitValue() != 0) {
            fail("pytest (" + label + ") failed with exit code " + p.exitValue() + "; see " + log + "\n"
                    + String.join("\n", tail));
        }
    }
}
