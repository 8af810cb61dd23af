package io.solvertune.service.dashboard;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What the dashboard's aggregate endpoints answer. */
public final class DashboardView {

    private DashboardView() {
    }

    /**
     * The overview: stage counts of the caller's visible jobs, the workers holding leases (admins only), running jobs
     * with progress and the most recent failures with their first error line.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "DashboardOverview")
    public record Overview(String role, Map<String, Long> jobs, Map<String, Long> stages,
                           @Schema(description = "workers holding a lease now; admins only") List<Worker> workers,
                           List<RunningJob> running, List<Failure> recentFailures, Instant now) {
    }

    /** A lease held on a running stage. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "DashboardWorker")
    public record Worker(String worker, long jobId, String stage, Instant leaseExpiresAt, Instant heartbeatAt,
                         long done, long total) {
    }

    /** A queued or running job with its stage progress. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "DashboardRunningJob")
    public record RunningJob(long id, String state, String model, String createdBy, Instant createdAt,
                             Instant startedAt, long stagesSucceeded, long stagesTotal, long stagesRunning) {
    }

    /** A failed job and the first line of its error. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "DashboardFailure")
    public record Failure(long id, String model, Instant finishedAt, String firstErrorLine) {
    }

    /** One current config of a model (pointed at by latest, stable or recommended) with its metrics. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "DashboardConfig")
    public record Config(long id, String method, String solver, JsonNode solverOptions, int nfe, double guidance,
                         String spacing, int version, Double heldOutMse, JsonNode metrics, long jobId,
                         Instant createdAt, boolean latest, boolean stable, boolean recommended) {
    }

    /** A model's current configs. */
    @Schema(name = "DashboardModelConfigs")
    public record ModelConfigs(long modelId, String model, List<Double> guidances, List<Config> configs,
                               @Schema(description = "versions of the model's configs in total") long versions,
                               @Schema(description = "true if more current configs exist than the limit")
                               boolean truncated) {
    }
}
