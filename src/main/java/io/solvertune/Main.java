package io.solvertune;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.solvertune.cli.Cli;
import java.util.Arrays;

/**
 * Entry point of the packaged application ({@code java -jar target/quarkus-app/quarkus-run.jar}).
 *
 * <ul>
 *   <li>a CLI command ({@link Cli#handles}, e.g. {@code sample}, {@code bench}, {@code --version}): run it and
 *       exit with its code, without booting Quarkus (no database, no HTTP server);</li>
 *   <li>{@code token create|list|revoke}: token management against the service's database (Quarkus without HTTP);</li>
 *   <li>no arguments, or {@code serve [args...]}: start the service ({@code serve} is dropped);</li>
 *   <li>anything else is an unknown command: handed to the CLI, which reports it (exit code 2) instead of
 *       silently starting a server nobody asked for.</li>
 * </ul>
 */
@QuarkusMain
public final class Main {

    private Main() {
    }

    public static void main(String... args) {
        if (Cli.handles(args)) {
            System.exit(Cli.run(args));
        }
        if (args.length > 0 && "token".equals(args[0])) {
            // on the server host, against its database (the running service's, if any): no HTTP port, no workers
            io.solvertune.cli.TokenAdmin.launch(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length == 0) {
            Quarkus.run();
        } else if ("serve".equals(args[0])) {
            Quarkus.run(Arrays.copyOfRange(args, 1, args.length));
        } else {
            System.exit(Cli.run(args));
        }
    }
}
