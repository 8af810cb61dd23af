package io.solvertune.cli;

import io.solvertune.cli.client.ServerOptions;
import io.solvertune.client.ConfigDocument;
import io.solvertune.client.SolvertuneClient;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the command line names a published config — the Python client's references: a document on disk, a config id
 * ({@code 42}), an alias of a model's key ({@code my-model:latest}, {@code my-model:stable?method=dc&nfe=6}) or the
 * recommended config of (model, NFE, guidance) ({@code my-model:recommended?nfe=6&guidance=5}).
 */
final class ConfigRef {
    private static final Pattern REF = Pattern.compile("([^:?]{1,200}):(latest|stable|recommended)(\\?(.{0,1000}))?");
    private static final java.util.Set<String> FILTERS = java.util.Set.of("method", "solver", "nfe", "guidance",
            "spacing");

    private ConfigRef() {
    }

    static ConfigDocument resolve(String ref, ServerOptions server) throws IOException {
        if (ref == null || ref.isBlank()) {
            throw new IllegalArgumentException("--config: empty");
        }
        Path file = Path.of(ref);
        if (Files.isRegularFile(file)) {
            try {
                return ConfigDocument.read(file);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--config: " + file + " is " + e.getMessage());
            }
        }
        if (ref.matches("\\d{1,18}")) {
            return server.client().config(Long.parseLong(ref));
        }
        Matcher m = REF.matcher(ref);
        if (!m.matches()) {
            throw new IllegalArgumentException("--config: no such file, and not a config reference: '" + ref
                    + "' (expected FILE, an id, MODEL:latest, MODEL:stable or MODEL:recommended?nfe=N&guidance=W)");
        }
        Map<String, String> q = query(m.group(4));
        SolvertuneClient c = server.client();
        if (m.group(2).equals("recommended")) {
            String nfe = q.get("nfe");
            if (nfe == null || !nfe.matches("\\d{1,4}")) {
                throw new IllegalArgumentException("--config: " + ref + ": recommended needs ?nfe=N");
            }
            double g;
            try {
                g = Double.parseDouble(q.getOrDefault("guidance", "1"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--config: " + ref + ": guidance is not a number");
            }
            return c.recommended(m.group(1), Integer.parseInt(nfe), g);
        }
        SolvertuneClient.Alias a = m.group(2).equals("latest") ? SolvertuneClient.Alias.LATEST
                : SolvertuneClient.Alias.STABLE;
        return c.alias(m.group(1), a, q);
    }

    private static Map<String, String> query(String q) {
        Map<String, String> out = new LinkedHashMap<>();
        if (q == null || q.isEmpty()) {
            return out;
        }
        for (String kv : q.split("&")) {
            int eq = kv.indexOf('=');
            String k = eq < 0 ? kv : kv.substring(0, eq);
            if (!FILTERS.contains(k)) {
                throw new IllegalArgumentException("--config: unknown filter '" + k + "' (one of " + FILTERS + ")");
            }
            out.put(k, URLDecoder.decode(eq < 0 ? "" : kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }
}
