package io.solvertune.cli;

import java.io.PrintWriter;
import java.util.Set;
import picocli.CommandLine;

/**
 * The {@code solvertune} command line. Commands that do not need the service ({@code sample}, {@code bench}) run
 * without starting Quarkus; with no command (or {@code serve}) the service starts.
 */
@CommandLine.Command(name = "solvertune", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Fits and serves per-model coefficients for fast diffusion ODE solvers.",
        subcommands = {TrainConsistencyCommand.class, SampleCommand.class, BenchCommand.class, TeacherCommand.class, EvaluateCommand.class,
            SweepCommand.class, FitEmsCommand.class, FitCommand.class, CprCommand.class, QualityCommand.class, RunJobCommand.class, ExportCommand.class,
            LearnTimestepsCommand.class,
            io.solvertune.cli.client.ClientCommands.Submit.class, io.solvertune.cli.client.ClientCommands.Status.class,
            io.solvertune.cli.client.ClientCommands.Wait.class, io.solvertune.cli.client.ClientCommands.Download.class})
public final class Cli implements Runnable {

    /** Commands handled here rather than by the service. */
    private static final Set<String> COMMANDS = Set.of("train-consistency", "sample", "bench", "teacher", "evaluate", "sweep", "fit-ems", "fit", "quality", "run-job", "export", "learn-timesteps", "submit", "status", "wait", "download", "help", "-h",
            "--help", "-V", "--version");

    /** Whether {@code args} name a CLI command (otherwise the service should start). */
    public static boolean handles(String[] args) {
        return args.length > 0 && COMMANDS.contains(args[0]);
    }

    /** Entry point for running the CLI without the service classpath layout (development, tests). */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command; returns the exit code. */
    public static int run(String[] args) {
        return run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    }

    /** Runs a command with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Cli());
        cl.setOut(out);
        cl.setErr(err);
        return execute(cl, args, err);
    }

    /**
     * Runs a picocli command line so that every failure is one {@code error: ...} line on {@code err} (see
     * {@link CliErrors}): bad usage → 2, failures of the command by their kind, anything escaping picocli → 1.
     */
    public static int execute(CommandLine cl, String[] args, PrintWriter err) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(CliErrors.line(ex));
            return CliErrors.exitCode(ex);
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("error: " + CliErrors.oneLine(ex.getMessage()));
            return 2;
        });
        try {
            return cl.execute(args);
        } catch (RuntimeException | LinkageError e) { // not from a command's call(): picocli itself, class loading
            err.println(CliErrors.line(e));
            return 1;
        }
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    /** Prints the project version. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"solvertune " + io.solvertune.numerics.CodeVersion.get()};
        }
    }
}
