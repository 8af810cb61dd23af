package io.solvertune.service.jobs;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * A tuning job as the API shows it. The list leaves out spec, stages and result; {@code GET /jobs/{id}} shows one page
 * of stages ({@code stagesNext} names the next page).
 */
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
        @Schema(description = "one page of the job's stages in plan order (see stagesNext)") List<StageView> stages,
        @Schema(description = "the URL of the next page of stages; absent on the last page") String stagesNext,
        @Schema(description = "output of the last stage; for a publishing job {configIds: [...], output: ...}")
        JsonNode result) {

    /** The same job without spec and stages (the head of an event stream). */
    public JobView head() {
        return new JobView(id, state, model, createdBy, idempotencyKey, createdAt, startedAt, finishedAt, progress,
                error, null, null, null, result);
    }

    /** The same job with other progress. */
    public JobView withProgress(Progress p) {
        return new JobView(id, state, model, createdBy, idempotencyKey, createdAt, startedAt, finishedAt, p, error,
                spec, stages, stagesNext, result);
    }

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
                           @Schema(description = "the stages running now (at most " + MAX_RUNNING + ")")
                           List<String> running) {

        /** Running stages named at most. */
        public static final int MAX_RUNNING = 20;

        /** The same progress without ETA (which changes every moment). */
        public Progress withoutEta() {
            return new Progress(stagesSucceeded, stagesTotal, fraction, null, running);
        }
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
