package io.solvertune.service.configs;

import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Alias resolution: the config a key's {@code latest} or {@code stable} alias points at, for one model. */
@Path("/api/v1/models/{model}/configs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "configs")
public class ModelConfigAliasesResource {

    @Inject
    ConfigReader reader;

    @Inject
    ConfigResponses configs;

    @GET
    @Path("/{alias}")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Resolve the 'latest' or 'stable' alias of a config key",
            description = "The filters must select exactly one key (model x method x solver/options x NFE x guidance "
                    + "x spacing x t-range); the answer is the document the alias points at, with X-Config-Id and "
                    + "X-Config-Version, and a short Cache-Control (aliases move).")
    @APIResponse(responseCode = "200", description = "the config document",
            headers = {@Header(name = "X-Config-Id"), @Header(name = "X-Config-Version"), @Header(name = "ETag")})
    @APIResponse(responseCode = "400", description = "unknown alias, malformed parameter, or the filters match "
            + "several keys (the detail lists them)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no model, or no key with this alias matches",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Response resolve(@Parameter(description = "model id or name") @PathParam("model") String model,
                            @Parameter(description = "latest | stable") @PathParam("alias") String alias,
                            @QueryParam("method") String method, @QueryParam("solver") String solver,
                            @QueryParam("nfe") String nfe, @QueryParam("guidance") String guidance,
                            @QueryParam("spacing") String spacing,
                            @HeaderParam(HttpHeaders.IF_NONE_MATCH) String ifNoneMatch) {
        if (!"latest".equals(alias) && !"stable".equals(alias)) {
            throw InvalidRequestException.field("alias", "expected latest or stable, got '" + alias + "'");
        }
        Integer n = ConfigsResource.positiveInt(nfe, "nfe");
        Double g = ConfigsResource.guidance(guidance);
        ConfigReader.ModelRef m = configs.readableModel(model);
        ConfigReader.Filter f = new ConfigReader.Filter(m.id(), ConfigsResource.text(method),
                ConfigsResource.text(solver), n, g, ConfigsResource.text(spacing));
        List<long[]> hits = reader.alias(alias, f);
        if (hits.isEmpty()) {
            throw new NotFoundException("no '" + alias + "' config of model '" + m.name() + "' matches method="
                    + f.method() + ", solver=" + f.solver() + ", nfe=" + f.nfe() + ", guidance=" + f.guidance()
                    + ", spacing=" + f.spacing());
        }
        if (hits.size() > 1) {
            throw InvalidRequestException.field("method", "the filters match " + hits.size() + (hits.size() == 20
                    ? "+" : "") + " keys (their '" + alias + "' configs: " + hits.stream().map(h -> "" + h[0])
                    .collect(Collectors.joining(", ")) + "); add method, solver, nfe, guidance or spacing");
        }
        Response answer = configs.resolved(hits.get(0)[0], ifNoneMatch, alias, m.anonymousRead());
        configs.warm(model, m.id());
        return answer;
    }
}
