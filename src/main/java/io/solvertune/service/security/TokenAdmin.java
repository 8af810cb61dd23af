package io.solvertune.service.security;

import io.quarkus.runtime.QuarkusApplication;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * {@code solvertune token create|list|revoke}: token management on the server host, straight against the service's
 * database (this is how the first admin token is made). Runs the application without its HTTP port and workers.
 */
public class TokenAdmin implements QuarkusApplication {

    @Inject
    TokenService tokens;

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
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            err.println("error: " + ex.getMessage());
            return 2;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + ex.getMessage());
            return 2;
        });
        return cl.execute(args);
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
