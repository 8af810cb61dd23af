package io.solvertune.cli.client;

import picocli.CommandLine;

/** Where the server is and which token to send: options, else SOLVERTUNE_URL / SOLVERTUNE_TOKEN. */
public final class ServerOptions {

    @CommandLine.Option(names = "--server", paramLabel = "URL",
            description = "service URL (default: $SOLVERTUNE_URL, else http://localhost:8080)")
    String server;

    @CommandLine.Option(names = "--token", paramLabel = "TOKEN",
            description = "bearer token (default: $SOLVERTUNE_TOKEN)")
    String token;

    ApiClient client() {
        String url = server != null ? server : System.getenv().getOrDefault("SOLVERTUNE_URL", "http://localhost:8080");
        String t = token != null ? token : System.getenv("SOLVERTUNE_TOKEN");
        return new ApiClient(url, t);
    }
}
