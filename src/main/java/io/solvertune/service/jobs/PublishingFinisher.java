package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.service.configs.ConfigCandidate;
import io.solvertune.service.configs.ConfigPublisher;
import java.util.ArrayList;
import java.util.List;

/**
 * The job result: the output of the last stage; when that stage's kind is {@value #PUBLISH_KIND} its output (a JSON
 * array of {@link ConfigCandidate} objects) is published through the {@link ConfigPublisher} (idempotent per job) and
 * the result is {@code {"configIds": [...], "output": <the stage output>}}.
 */
public final class PublishingFinisher implements JobFinisher {

    public static final String PUBLISH_KIND = "publish";

    private final ConfigPublisher publisher;
    private final ObjectMapper json;
    private final io.solvertune.service.configs.PipelineValues values;

    /** @param values turns the tuning pipeline's candidate values into self-contained config values */
    public PublishingFinisher(ConfigPublisher publisher, ObjectMapper json,
                              io.solvertune.service.configs.PipelineValues values) {
        this.publisher = publisher;
        this.json = json;
        this.values = values;
    }

    @Override
    public JsonNode finish(long jobId, Long modelId, String lastStageKind, JsonNode lastStageOutput) {
        if (!PUBLISH_KIND.equals(lastStageKind)) {
            return lastStageOutput;
        }
        List<ConfigCandidate> candidates = candidates(jobId, lastStageOutput, modelId);
        List<Long> ids = publisher.publish(jobId, candidates);
        ObjectNode result = json.createObjectNode();
        ArrayNode idArray = result.putArray("configIds");
        ids.forEach(idArray::add);
        result.set("output", lastStageOutput);
        return result;
    }

    /** The publish stage's output as candidates; a candidate without modelId gets the job's model. */
    List<ConfigCandidate> candidates(long jobId, JsonNode output, Long modelId) {
        if (output == null || !output.isArray()) {
            throw new IllegalArgumentException("output: a publish stage must return a JSON array of config candidates");
        }
        List<ConfigCandidate> list = new ArrayList<>();
        for (int i = 0; i < output.size(); i++) {
            JsonNode n = output.get(i);
            if (!n.isObject()) {
                throw new IllegalArgumentException("output[" + i + "]: expected a config candidate object");
            }
            ObjectNode o = ((ObjectNode) n).deepCopy();
            if ((!o.hasNonNull("modelId") || o.get("modelId").asLong() == 0) && modelId != null) {
                o.put("modelId", modelId);
            }
            if (values != null) {
                o.set("values", values.adapt(jobId, o.path("method").asText(), o.get("values"), o.get("metrics")));
            }
            try {
                list.add(json.treeToValue(o, ConfigCandidate.class));
            } catch (Exception e) {
                throw new IllegalArgumentException("output[" + i + "]: not a config candidate: " + e.getMessage(), e);
            }
        }
        return list;
    }
}
