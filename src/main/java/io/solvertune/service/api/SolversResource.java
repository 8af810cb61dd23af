package io.solvertune.service.api;

import io.solvertune.numerics.solver.catalog.SolverCatalog;
import io.solvertune.service.api.problem.Problem;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The solver catalog: which solvers exist and which options they take. */
@Path("/api/v1/solvers")
@Produces(MediaType.APPLICATION_JSON)
@io.solvertune.service.security.PublicEndpoint
@Tag(name = "solvers", description = "Baseline solvers and their options")
public class SolversResource {

    /** The catalog: every solver, plus the options of the sampling loop that every solver takes. */
    @Schema(name = "SolverList")
    public record SolverList(List<SolverCatalog.Descriptor> solvers,
                             List<SolverCatalog.Parameter> samplingParameters) {
    }

    @GET
    @Operation(summary = "List the solvers",
            description = "Every solver with its options, and the sampling options common to all solvers.")
    @APIResponse(responseCode = "200", description = "the catalog",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = SolverList.class)))
    public SolverList list() {
        return new SolverList(SolverCatalog.all(), SolverCatalog.SAMPLING_PARAMETERS);
    }

    @GET
    @Path("/{name}")
    @Operation(summary = "Describe one solver")
    @APIResponse(responseCode = "200", description = "the solver",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = SolverCatalog.Descriptor.class)))
    @APIResponse(responseCode = "404", description = "no such solver; the detail names the known solvers",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public SolverCatalog.Descriptor get(
            @Parameter(description = "solver name, e.g. dpmsolver++", example = "dpmsolver++")
            @PathParam("name") String name) {
        try {
            return SolverCatalog.describe(name);
        } catch (IllegalArgumentException e) {
            throw new NotFoundException(e.getMessage());
        }
    }
}
