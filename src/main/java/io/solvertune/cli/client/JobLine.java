package io.solvertune.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** One-line renderings of a job (the {@code Job} schema of the API). */
final class JobLine {
    private JobLine() {
    }

    static boolean terminal(String state) {
        return switch (state) {
            case "SUCCEEDED", "FAILED", "CANCELLED" -> true;
            default -> false;
        };
    }

    /** {@code job 12 RUNNING  [#########...........]  45%  7/16 stages  ETA 1m20s  g7.5/fit-dc 3/8 ...}. */
    static String progress(JsonNode job, int width) {
        JsonNode p = job.path("progress");
        double f = Math.max(0, Math.min(1, p.path("fraction").asDouble(0)));
        int filled = (int) Math.round(f * width);
        StringBuilder sb = new StringBuilder();
        sb.append("job ").append(job.path("id").asLong()).append(' ').append(job.path("state").asText())
                .append("  [").append("#".repeat(filled)).append(".".repeat(width - filled)).append("] ")
                .append(String.format(Locale.ROOT, "%3.0f%%", 100 * f))
                .append("  ").append(p.path("stagesSucceeded").asInt()).append('/')
                .append(p.path("stagesTotal").asInt()).append(" stages");
        if (p.hasNonNull("etaSeconds")) {
            sb.append("  ETA ").append(duration(p.get("etaSeconds").asLong()));
        }
        for (JsonNode r : p.path("running")) {
            sb.append("  ").append(r.asText());
            JsonNode st = stage(job, r.asText());
            if (st != null && st.path("total").asLong() > 0) {
                sb.append(' ').append(st.path("done").asLong()).append('/').append(st.path("total").asLong());
            }
        }
        return sb.toString();
    }

    static JsonNode stage(JsonNode job, String name) {
        for (JsonNode s : job.path("stages")) {
            if (name.equals(s.path("name").asText())) {
                return s;
            }
        }
        return null;
    }

    static String duration(long s) {
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
