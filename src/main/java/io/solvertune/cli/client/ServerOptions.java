package io.solvertune.cli.client;

import io.solvertune.client.SolvertuneClient;
import picocli.CommandLine;

/** Where the server is and which token to send: options, else SOLVERTUNE_URL / SOLVERTUNE_TOKEN. */
public final class ServerOptions {

    @CommandLine.Option(names = "--server", paramLabel = "URL",
            description = "service URL (default: $SOLVERTUNE_URL, else http://localhost:8080)")
    String server;

    @CommandLine.Option(names = "--token", paramLabel = "TOKEN",
            description = "bearer token (default: $SOLVERTUNE_TOKEN)")
    String token;

    /** The client these options describe (the CLI keeps no document cache: every call asks the server). */
    public SolvertuneClient client() {
        SolvertuneClient.Builder b = SolvertuneClient.builder().noCache();
        if (server != null) {
            b.url(server);
        }
        if (token != null) {
            b.token(token);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--server: " + e.getMessage().replaceFirst("^url: ", ""));
        }
    }
}
