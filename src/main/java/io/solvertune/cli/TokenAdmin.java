package io.solvertune.cli;

import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.solvertune.service.db.DatabaseUnavailableException;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune token create|list|revoke}: token management on the server host, straight against the service's
 * database. Runs the application without its HTTP port, workers, DJL engine and bootstrap token. While the service
 * runs on the embedded PostgreSQL, the command connects to that server; with nothing running it starts the embedded
 * server itself; with {@code QUARKUS_DATASOURCE_JDBC_URL} it uses that database. Every failure, including one of the
 * application's start, is one {@code error: ...} line.
 */
public class TokenAdmin implements QuarkusApplication {

    @Inject
    TokenService tokens;

    /** Entry point of {@code solvertune token ...} (arguments after {@code token}); exits the JVM. */
    public static void launch(String... args) {
        System.setProperty("quarkus.http.host-enabled", "false");
        System.setProperty("solvertune.workers.enabled", "false");
        System.setProperty("solvertune.engine.load-at-start", "false");
        System.setProperty("solvertune.bootstrap-token.enabled", "false");
        // a running service owns the embedded server on the data directory: use it rather than fail
        System.setProperty("solvertune.embedded-pg.attach", "true");
        // an unreachable configured database: one clear error before the application starts
        System.setProperty("solvertune.datasource.check-configured", "true");
        // stdout carries only the command's output (the token), logs go to stderr
        System.setProperty("quarkus.banner.enabled", "false");
        System.setProperty("quarkus.log.console.stderr", "true");
        System.setProperty("quarkus.log.level", "WARN");
        System.setProperty("quarkus.log.category.\"io.solvertune\".level", "WARN");
        // also before the logging configuration applies: if the start fails, Quarkus prints what was logged so far
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        Quarkus.run(TokenAdmin.class, (code, failure) -> {
            if (failure != null) {
                System.err.println("error: " + CliErrors.oneLine(startFailure(failure)));
            }
            System.out.flush();
            System.exit(code);
        }, args);
    }

    /** What to tell the user when the application could not start: our own message if there is one. */
    static String startFailure(Throwable failure) {
        Throwable root = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof DatabaseUnavailableException) {
                return t.getMessage();
            }
            root = t;
        }
        return "the application could not start: " + CliErrors.message(root);
    }

    @Override
    public int run(String... args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine cl = new CommandLine(new Token())
                .addSubcommand(new Create(tokens, out))
                .addSubcommand(new ListTokens(tokens, out))
                .addSubcommand(new Revoke(tokens, out));
        cl.setOut(out);
        cl.setErr(err);
        return Cli.execute(cl, args, err);
    }

    @CommandLine.Command(name = "token", mixinStandardHelpOptions = true,
            description = "Manage API tokens in the service's database (run on the server host).")
    static final class Token implements Runnable {
        @Override
        public void run() {
            CommandLine.usage(this, System.out);
        }
    }

    @CommandLine.Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a token; it is printed once and only its sha256 is stored.")
    static final class Create implements Callable<Integer> {
        private final TokenService tokens;
        private final PrintWriter out;

        @CommandLine.Option(names = "--name", required = true, description = "who holds it")
        String name;

        @CommandLine.Option(names = "--role", required = true, description = "admin, submitter or reader")
        String role;

        Create(TokenService tokens, PrintWriter out) {
            this.tokens = tokens;
            this.out = out;
        }

        @Override
        public Integer call() {
            TokenService.CreatedToken t = tokens.create(name, Role.parse(role));
            out.println("token " + t.info().id() + " (" + t.info().role() + ", " + t.info().name() + "):");
            out.println(t.token());
            return 0;
        }
    }

    @CommandLine.Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (not their values).")
    static final class ListTokens implements Callable<Integer> {
        private final TokenService tokens;
        private final PrintWriter out;

        ListTokens(TokenService tokens, PrintWriter out) {
            this.tokens = tokens;
            this.out = out;
        }

        @Override
        public Integer call() {
            for (TokenService.TokenInfo t : tokens.list()) {
                out.printf("%d\t%s\t%s\tcreated %s%s%n", t.id(), t.role(), t.name(), t.createdAt(),
                        t.revokedAt() == null ? "" : "\trevoked " + t.revokedAt());
            }
            return 0;
        }
    }

    @CommandLine.Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token by id.")
    static final class Revoke implements Callable<Integer> {
        private final TokenService tokens;
        private final PrintWriter out;

        @CommandLine.Parameters(index = "0", description = "token id (from token list)")
        long id;

        Revoke(TokenService tokens, PrintWriter out) {
            this.tokens = tokens;
            this.out = out;
        }

        @Override
        public Integer call() {
            if (!tokens.revoke(id)) {
                throw new IllegalArgumentException("id: no token " + id);
            }
            out.println("revoked token " + id);
            return 0;
        }
    }
}
