package io.solvertune.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A tuning job ({@code GET /api/v1/jobs/{id}}).
 *
 * @param fraction  0..1 of the work done
 * @param etaSeconds estimated seconds left (null before any progress and once finished)
 * @param configIds the configs a finished publishing job published (empty otherwise)
 * @param json      the whole view (spec, result, stages page, ...)
 */
public record Job(long id, State state, String modelName, int stagesSucceeded, int stagesTotal, double fraction,
                  Long etaSeconds, String error, List<Stage> stages, List<Long> configIds, JsonNode json) {

    /** A job's state. */
    public enum State {
        QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

        /** Whether the job has ended. */
        public boolean terminal() {
            return this == SUCCEEDED || this == FAILED || this == CANCELLED;
        }
    }

    /** One stage of the job's plan. */
    public record Stage(String name, String kind, String state, int attempts, String worker, long done, long total,
                        String error) {
    }

    static Job of(JsonNode n) {
        List<Stage> stages = new ArrayList<>();
        for (JsonNode s : n.path("stages")) {
            stages.add(new Stage(s.path("name").asText(), s.path("kind").asText(), s.path("state").asText(),
                    s.path("attempts").asInt(), s.path("worker").asText(null), s.path("done").asLong(),
                    s.path("total").asLong(), s.path("error").asText(null)));
        }
        List<Long> ids = new ArrayList<>();
        n.path("result").path("configIds").forEach(c -> ids.add(c.asLong()));
        JsonNode p = n.path("progress");
        return new Job(n.path("id").asLong(), State.valueOf(n.path("state").asText()),
                n.path("model").path("name").asText(null), p.path("stagesSucceeded").asInt(),
                p.path("stagesTotal").asInt(), p.path("fraction").asDouble(),
                p.hasNonNull("etaSeconds") ? p.get("etaSeconds").asLong() : null, n.path("error").asText(null),
                List.copyOf(stages), List.copyOf(ids), n);
    }
}
