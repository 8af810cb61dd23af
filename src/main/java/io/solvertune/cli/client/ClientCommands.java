package io.solvertune.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import io.solvertune.client.SolvertuneClient;
import picocli.CommandLine;

/** The HTTP client commands: {@code submit}, {@code status}, {@code wait}, {@code download}. */
public final class ClientCommands {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ClientCommands() {
    }

    static String pretty(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String jobId(String s) {
        if (!s.matches("\\d{1,18}")) {
            throw new IllegalArgumentException("JOB: expected a job id (a number), got '" + s + "'");
        }
        return s;
    }

    /** {@code submit --spec job.json [--idempotency-key K]}. */
    @CommandLine.Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Submit a tuning job spec (JSON) to the service; prints the job id.")
    public static final class Submit implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec cmd;

        @CommandLine.Mixin
        ServerOptions server = new ServerOptions();

        @CommandLine.Option(names = "--spec", required = true, paramLabel = "FILE", description = "job spec (JSON)")
        Path spec;

        @CommandLine.Option(names = "--idempotency-key", paramLabel = "KEY",
                description = "repeat-safe key: the same key never creates a second job (default: none)")
        String key;

        @CommandLine.Option(names = "--model", paramLabel = "ID|NAME",
                description = "registered model (overrides the spec's 'model')")
        String model;

        @Override
        public Integer call() throws IOException {
            if (!Files.isRegularFile(spec)) {
                throw new NoSuchFileException(spec.toString());
            }
            JsonNode body = JSON.readTree(spec.toFile());
            if (body == null || !body.isObject()) {
                throw new IllegalArgumentException("--spec: expected a JSON object in " + spec);
            }
            if (model != null) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) body).put("model", model);
            }
            SolvertuneClient.Submitted r = server.client().submit(body, key);
            PrintWriter out = cmd.commandLine().getOut();
            out.println((r.created() ? "submitted job " : "existing job ") + r.job().id() + " (" + r.job().state()
                    + ", model " + r.job().modelName() + ")");
            return 0;
        }
    }

    /** {@code status JOB [--json]}. */
    @CommandLine.Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Show a job's state, progress and stages (or the whole job as JSON).")
    public static final class Status implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec cmd;

        @CommandLine.Mixin
        ServerOptions server = new ServerOptions();

        @CommandLine.Parameters(index = "0", paramLabel = "JOB", description = "job id")
        String job;

        @CommandLine.Option(names = "--json", description = "print the job as JSON")
        boolean json;

        @Override
        public Integer call() {
            JsonNode j = server.client().job(Long.parseLong(jobId(job))).json();
            PrintWriter out = cmd.commandLine().getOut();
            if (json) {
                out.println(pretty(j));
                return 0;
            }
            out.println(JobLine.progress(j, 30));
            for (JsonNode s : j.path("stages")) {
                out.printf("  %-10s %-36s %s%s%n", s.path("state").asText(), s.path("name").asText(),
                        s.path("total").asLong() > 0 ? s.path("done").asLong() + "/" + s.path("total").asLong() : "",
                        s.hasNonNull("error") ? "  error: " + s.get("error").asText() : "");
            }
            if (j.hasNonNull("stagesNext")) {
                out.println("  ... " + (j.path("progress").path("stagesTotal").asInt() - j.path("stages").size())
                        + " more stages: " + j.get("stagesNext").asText());
            }
            if (j.hasNonNull("error")) {
                out.println("error: " + j.get("error").asText());
            }
            if (j.path("result").has("configIds")) {
                out.println("published configs: " + j.path("result").path("configIds"));
            }
            return 0;
        }
    }

    /** {@code wait JOB}: polls until the job ends, drawing a progress bar; exit 0 only if it succeeded. */
    @CommandLine.Command(name = "wait", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Wait for a job to finish, with a progress bar; exit code 0 if it succeeded, 1 otherwise.")
    public static final class Wait implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec cmd;

        @CommandLine.Mixin
        ServerOptions server = new ServerOptions();

        @CommandLine.Parameters(index = "0", paramLabel = "JOB", description = "job id")
        String job;

        @CommandLine.Option(names = "--interval", defaultValue = "1.0", paramLabel = "SECONDS",
                description = "poll interval (default ${DEFAULT-VALUE} s)")
        double interval;

        @CommandLine.Option(names = "--timeout", paramLabel = "SECONDS", description = "give up after this long")
        Double timeout;

        @Override
        public Integer call() throws InterruptedException {
            if (!(interval > 0) || interval > 3600) {
                throw new IllegalArgumentException("--interval: must be in (0, 3600] seconds");
            }
            SolvertuneClient client = server.client();
            PrintWriter err = cmd.commandLine().getErr();
            PrintWriter out = cmd.commandLine().getOut();
            boolean tty = System.console() != null;
            long t0 = System.nanoTime();
            String last = "";
            while (true) {
                JsonNode j = client.job(Long.parseLong(jobId(job))).json();
                String line = JobLine.progress(j, 30);
                if (!line.equals(last)) {
                    if (tty) {
                        err.print("\r\033[K" + line);
                    } else {
                        err.println(line);
                    }
                    err.flush();
                    last = line;
                }
                String state = j.path("state").asText();
                if (JobLine.terminal(state)) {
                    if (tty) {
                        err.println();
                    }
                    out.println("job " + j.path("id").asLong() + " " + state
                            + (j.hasNonNull("error") ? ": " + j.get("error").asText() : "")
                            + (j.path("result").has("configIds") ? "; published configs "
                            + j.path("result").path("configIds") : ""));
                    return "SUCCEEDED".equals(state) ? 0 : 1;
                }
                if (timeout != null && (System.nanoTime() - t0) / 1e9 > timeout) {
                    if (tty) {
                        err.println();
                    }
                    out.println("job " + job + " still " + state + " after " + timeout + " s");
                    return 3;
                }
                Thread.sleep((long) (interval * 1000));
            }
        }
    }

    /** {@code download CONFIG --format F --out FILE}. */
    @CommandLine.Command(name = "download", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Download a published config in any export format.")
    public static final class Download implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec cmd;

        @CommandLine.Mixin
        ServerOptions server = new ServerOptions();

        @CommandLine.Parameters(index = "0", paramLabel = "CONFIG", description = "config id")
        String config;

        @CommandLine.Option(names = "--format", defaultValue = "json", paramLabel = "FORMAT",
                completionCandidates = Formats.class,
                description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
        String format;

        /** The server's export formats, listed in the help from the list the server itself serves. */
        static final class Formats implements Iterable<String> {
            @Override
            public java.util.Iterator<String> iterator() {
                return io.solvertune.exports.ExportFormat.ids().iterator();
            }
        }

        @CommandLine.Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write it")
        Path out;

        @Override
        public Integer call() throws IOException {
            if (!config.matches("\\d{1,18}")) {
                throw new IllegalArgumentException("CONFIG: expected a config id (a number), got '" + config + "'");
            }
            if (!format.matches("[a-z0-9-]{1,40}")) {
                throw new IllegalArgumentException("--format: not a format name: '" + format + "'");
            }
            long n = server.client().download(Long.parseLong(config), format, out);
            cmd.commandLine().getOut().println("wrote " + out + " (" + n + " bytes, " + format + ")");
            return 0;
        }
    }
}
