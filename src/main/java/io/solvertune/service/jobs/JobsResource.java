package io.solvertune.service.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.security.Caller;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Tuning jobs over REST. Every endpoint needs a submitter (or admin) token; a job is visible to the token that
 * submitted it and to admins, and does not exist (404) for anybody else.
 */
@Path("/api/v1/jobs")
@Produces(MediaType.APPLICATION_JSON)
@RequiresRole(Role.SUBMITTER)
@Tag(name = "jobs", description = "Tuning jobs: a DAG of leased, checkpointed stages run by workers sharing the "
        + "database. Visible to the submitting token and to admins.")
public class JobsResource {

    private static final String PROBLEM = Problem.MEDIA_TYPE;

    @Inject
    JobService jobs;

    @Inject
    JobEvents events;

    @Inject
    Caller caller;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Submit a tuning job", description = "The body is the job spec; its field 'model' names a "
            + "registered model by id or name. The spec is planned (checked) before anything is stored. With an "
            + "Idempotency-Key the same key (per token) never creates a second job: repeating the request returns "
            + "the existing job with 200; the same key with a different spec is refused with 422.")
    @APIResponse(responseCode = "202", description = "accepted; Location names the job",
            content = @Content(schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "200", description = "the job submitted earlier with this Idempotency-Key",
            content = @Content(schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "400", description = "invalid spec; errors names the field",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "422", description = "the Idempotency-Key was used with a different spec",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "no job planner (or no executor for a planned stage kind) "
            + "installed", content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response submit(@Parameter(description = "client-chosen key (≤ 200 chars) making the submission "
                                   + "repeatable") @HeaderParam("Idempotency-Key") String key,
                           JsonNode spec) {
        JobService.Submission s = jobs.submit(who(), key, spec);
        URI location = URI.create("/api/v1/jobs/" + s.job().id());
        return (s.created() ? Response.accepted(s.job()) : Response.ok(s.job())).location(location).build();
    }

    @GET
    @Operation(summary = "List jobs", description = "Newest first; pages of 'limit' jobs with ids below 'before'. "
            + "Admins see every job, others the jobs of their own token. Without spec, stages and result.")
    @APIResponse(responseCode = "200", description = "one page",
            content = @Content(schema = @Schema(implementation = JobView.Page.class)))
    public JobView.Page list(
            @Parameter(description = "QUEUED | RUNNING | SUCCEEDED | FAILED | CANCELLED") @QueryParam("state")
            String state,
            @Parameter(description = "page size, 1.." + JobService.MAX_PAGE + " (default 50)") @QueryParam("limit")
            String limit,
            @Parameter(description = "jobs with ids below this (nextBefore of the previous page)")
            @QueryParam("before") String before) {
        Long l = number(limit, "limit");
        return jobs.list(who(), state, l == null ? 50 : (int) Math.min(Integer.MAX_VALUE, l),
                number(before, "before"));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "Describe a job", description = "State, per-stage progress and attempts, overall progress "
            + "and ETA, error, and the result (published config ids) once it succeeded. Stages come in pages of at "
            + "most solvertune.limits.events.job-view-stages (500) in plan order; stagesNext names the next page.")
    @APIResponse(responseCode = "200", description = "the job",
            content = @Content(schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "404", description = "no such job (or not yours)",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public JobView get(@PathParam("id") String id,
                       @Parameter(description = "first stage of the page (plan position, default 0)")
                       @QueryParam("stageOffset") String stageOffset,
                       @Parameter(description = "stages in the page (default and largest: the server's page size)")
                       @QueryParam("stageLimit") String stageLimit) {
        Long offset = number(stageOffset, "stageOffset");
        Long limit = number(stageLimit, "stageLimit");
        return jobs.get(id(id), who(), offset == null ? 0 : (int) Math.min(Integer.MAX_VALUE, offset),
                limit == null ? jobs.stagePage() : (int) Math.min(Integer.MAX_VALUE, limit));
    }

    @POST
    @Path("/{id}/cancel")
    @Operation(summary = "Cancel a job", description = "Unfinished stages become CANCELLED; a running stage stops at "
            + "its next check (within a third of the lease).")
    @APIResponse(responseCode = "200", description = "the cancelled job",
            content = @Content(schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "409", description = "the job already finished",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public JobView cancel(@PathParam("id") String id) {
        return jobs.cancel(id(id), who());
    }

    @POST
    @Path("/{id}/retry")
    @Operation(summary = "Retry a failed or cancelled job", description = "Failed and cancelled stages run again "
            + "(attempts reset); succeeded stages keep their outputs.")
    @APIResponse(responseCode = "200", description = "the queued job",
            content = @Content(schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "409", description = "the job is not FAILED or CANCELLED",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public JobView retry(@PathParam("id") String id) {
        return jobs.retry(id(id), who());
    }

    @GET
    @Path("/{id}/logs")
    @Operation(summary = "A job's log", description = "Lines after line id 'after' (nextAfter of the previous call), "
            + "oldest first: engine events (claims, reclaims, failures) and the stages' own lines.")
    @APIResponse(responseCode = "200", description = "log lines",
            content = @Content(schema = @Schema(implementation = JobView.Log.class)))
    public JobView.Log logs(@PathParam("id") String id,
                            @Parameter(description = "only lines with ids above this") @QueryParam("after")
                            String after,
                            @Parameter(description = "at most this many lines (default 1000)") @QueryParam("limit")
                            String limit) {
        Long a = number(after, "after");
        Long l = number(limit, "limit");
        return jobs.logs(id(id), who(), a == null ? 0 : a, l == null ? 1000 : (int) Math.min(Integer.MAX_VALUE, l));
    }

    @GET
    @Path("/{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Stream a job's progress", description = "Server-sent events, only what changed: 'job' "
            + "(the job without spec and stages: state, progress, error, result) when it changes; 'stages' "
            + "({stages: [...]}, the stages that changed since the last event, all of them first; at most "
            + "solvertune.limits.events.max-stages-per-event per event); a final 'end' (the job) once it is "
            + "SUCCEEDED, FAILED or CANCELLED, after which the stream closes; 'error' (a problem) and the end of the "
            + "stream when the token is revoked.")
    @APIResponse(responseCode = "200", description = "text/event-stream")
    @APIResponse(responseCode = "429", description = "the token already holds its maximum of open streams",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public void events(@PathParam("id") String id, @Context SseEventSink sink, @Context Sse sse) {
        long jobId = id(id);
        Principal who = who();
        if (!jobs.visible(jobId, who)) {
            throw JobService.notFound(jobId); // 404 before the stream starts
        }
        events.stream(jobId, who, sink, sse);
    }

    private Principal who() {
        return caller.require(Role.SUBMITTER);
    }

    private static long id(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw JobService.notFound(-1);
        }
    }

    private static Long number(String value, String field) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            long v = Long.parseLong(value.strip());
            if (v < 0) {
                throw InvalidRequestException.field(field, "must not be negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw InvalidRequestException.field(field, "expected an integer");
        }
    }
}
