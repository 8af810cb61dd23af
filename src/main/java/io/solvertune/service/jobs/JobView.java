package io.solvertune.service.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A tuning job as the API shows it. The list leaves out spec, stages and result. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Job")
public record JobView(
        long id,
        @Schema(description = "QUEUED | RUNNING | SUCCEEDED | FAILED | CANCELLED") String state,
        ModelRef model,
        @Schema(description = "name of the token that submitted it") String createdBy,
        String idempotencyKey,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        Progress progress,
        String error,
        JsonNode spec,
        List<StageView> stages,
        @Schema(description = "output of the last stage; for a publishing job {configIds: [...], output: ...}")
        JsonNode result) {

    /** The job's model (id null once the model was deleted after the job finished). */
    public record ModelRef(Long id, String name) {
    }

    /**
     * Overall progress.
     *
     * @param fraction   0..1: finished stages count 1, running ones done/total
     * @param etaSeconds estimated time left from the rate so far (absent before any progress or when finished)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Progress(int stagesSucceeded, int stagesTotal, double fraction, Long etaSeconds,
                           @Schema(description = "the stages running now") List<String> running) {
    }

    /** One stage of the job's DAG. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "JobStage")
    public record StageView(String name, String kind, List<String> dependsOn,
                            @Schema(description = "PENDING | READY | RUNNING | SUCCEEDED | FAILED | CANCELLED")
                            String state, int attempts, int maxAttempts,
                            @Schema(description = "lease owner host:pid:id of the worker running (or that ran) it")
                            String worker, long done, long total, String message, Instant startedAt,
                            Instant finishedAt, Instant leaseExpiresAt, String error) {
    }

    /** One page of jobs, newest first. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "JobPage")
    public record Page(List<JobView> items,
                       @Schema(description = "pass as 'before' to get the next page; absent on the last page")
                       Long nextBefore,
                       @Schema(description = "the next page's URL; absent on the last page") String next) {
    }

    /** A line of a job's log. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "JobLogLine")
    public record LogLine(long id, Instant ts, String level, String stage, String message) {
    }

    /** A slice of a job's log. */
    @Schema(name = "JobLog")
    public record Log(List<LogLine> lines,
                      @Schema(description = "pass as 'after' to get the lines that follow") long nextAfter) {
    }
}
