package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.tuning.job.StageKind;
import io.solvertune.tuning.publish.CandidateFile;
import io.solvertune.tuning.publish.ConfigCandidate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The job result: the output of the last stage; when that stage is a {@link StageKind#PUBLISH} stage its typed
 * candidates ({@link CandidateFile#read}: the file its output rows name, sha256-checked) are published through the
 * {@link ConfigPublisher} (idempotent per job) and the result is {@code {"configIds": [...], "output": <the stage
 * output>}}.
 */
public final class PublishingFinisher implements JobFinisher {

    private final ConfigPublisher publisher;
    private final ObjectMapper json;
    private final Path workRoot;

    /** @param workRoot the jobs' work directory root ({@code <root>/job-<id>}) */
    public PublishingFinisher(ConfigPublisher publisher, ObjectMapper json, Path workRoot) {
        this.publisher = publisher;
        this.json = json;
        this.workRoot = workRoot.toAbsolutePath();
    }

    @Override
    public JsonNode finish(long jobId, Long modelId, String lastStageKind, JsonNode lastStageOutput) {
        if (!StageKind.PUBLISH.id().equals(lastStageKind)) {
            return lastStageOutput;
        }
        List<Long> ids = publisher.publish(jobId, candidates(jobId, lastStageOutput, modelId));
        ObjectNode result = json.createObjectNode();
        ArrayNode idArray = result.putArray("configIds");
        ids.forEach(idArray::add);
        result.set("output", lastStageOutput);
        return result;
    }

    /** The publish stage's candidates; a candidate without a model id gets the job's model. */
    List<ConfigCandidate> candidates(long jobId, JsonNode output, Long modelId) {
        try {
            return CandidateFile.read(workRoot.resolve("job-" + jobId), output).stream()
                    .map(c -> c.modelId() == 0 && modelId != null ? c.withModelId(modelId) : c).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("publish candidates of job " + jobId + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("output" + (e.getMessage().startsWith("[") ? "" : ": ")
                    + e.getMessage(), e);
        }
    }
}
