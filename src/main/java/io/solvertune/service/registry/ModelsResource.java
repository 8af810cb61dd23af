package io.solvertune.service.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.limits.Limits;
import io.solvertune.service.security.Caller;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.ExampleObject;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The model registry over REST ({@link ModelRegistry} does the work). */
@Path("/api/v1/models")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "models", description = "Registered diffusion models: analytic specs, presets, TorchScript uploads")
public class ModelsResource {

    private static final String PROBLEM = Problem.MEDIA_TYPE;
    private static final String MERGE_PATCH = "application/merge-patch+json";

    @Inject
    ModelRegistry registry;

    @Inject
    Caller caller;

    @Inject
    Limits limits;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a preset or an analytic model",
            description = "The spec is {\"preset\": \"gmm-sd-d32\" | \"fmnist-empirical\" | \"fmnist-unet\"} or a "
                    + "self-contained model spec (schedule, model with inline data, optional guidance and dtype; "
                    + "file references are refused). The model is built and run once before it is accepted.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON, examples = {
        @ExampleObject(name = "preset", value = "{\"name\": \"gmm-d32\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}"),
        @ExampleObject(name = "inline mixture", value = "{\"name\": \"two-bumps\", \"anonymousRead\": true, "
                + "\"spec\": {\"schedule\": {\"type\": \"vp_linear\", \"beta0\": 0.1, \"beta1\": 20.0}, "
                + "\"model\": {\"type\": \"gaussian_mixture\", \"weights\": [0.5, 0.5], "
                + "\"means\": [[-1, 0], [1, 0]], \"stds\": [0.2, 0.3], \"numClasses\": 2}}}")}))
    @APIResponse(responseCode = "201", description = "registered",
            content = @Content(schema = @Schema(implementation = ModelView.class)))
    @APIResponse(responseCode = "400", description = "invalid request or spec, or the model failed its test run; "
            + "errors names the field", content = @Content(mediaType = PROBLEM,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the name is taken",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response register(JsonNode body) {
        ModelView v = registry.register(body, who());
        return created(v);
    }

    @POST
    @Path("/torchscript")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Upload a TorchScript model",
            description = "The body is the torch.jit.save file, streamed to the artifact store (size limit: server "
                    + "setting solvertune.upload.max-bytes, default 256 MiB). The module must have forward(x, t) "
                    + "(unconditional) or forward(x, t, class) and return a prediction of x's shape; it is loaded "
                    + "and run at the declared input shape before it is accepted.")
    @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM,
            schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "201", description = "registered",
            content = @Content(schema = @Schema(implementation = ModelView.class)))
    @APIResponse(responseCode = "400", description = "a parameter is invalid, or the module failed to load or run "
            + "(wrong signature, output shape, NaN); errors names the parameter or 'body'",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the name is taken",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "the file is larger than the server's limit",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response upload(
            @Parameter(description = "unique model name", required = true, example = "my-unet")
            @QueryParam("name") String name,
            @QueryParam("description") String description,
            @Parameter(description = "true: clients without a token may read it") @QueryParam("anonymousRead")
            String anonymousRead,
            @Parameter(description = "noise schedule: JSON spec, or linear | scaled_linear | squaredcos_cap_v2 "
                    + "(discrete VP, 1000 steps)", required = true, example = "linear")
            @QueryParam("schedule") String schedule,
            @Parameter(description = "shape of one sample", required = true, example = "1,28,28")
            @QueryParam("inputShape") String inputShape,
            @Parameter(description = "noise | data | v | score | flow_velocity", required = true, example = "noise")
            @QueryParam("predictionType") String predictionType,
            @Parameter(description = "time the network takes: ddpm_index (default for discrete schedules) | "
                    + "continuous | sigma | scaled_1000") @QueryParam("timeInput") String timeInput,
            @Parameter(description = "number of classes; 0 (default) = unconditional", example = "10")
            @QueryParam("numClasses") String numClasses,
            @Parameter(description = "label of unconditional rows (default numClasses)") @QueryParam("nullClass")
            String nullClass,
            @Parameter(description = "float32 (default) | float64") @QueryParam("dtype") String dtype,
            @HeaderParam(HttpHeaders.CONTENT_LENGTH) String contentLength,
            InputStream body) throws IOException {
        TorchScriptDeclaration decl = TorchScriptDeclaration.parse(schedule, inputShape, predictionType, timeInput,
                integer(numClasses, "numClasses"), longValue(nullClass, "nullClass"), dtype,
                limits.model().maxScheduleLength());
        ModelRegistry.Registration reg = new ModelRegistry.Registration(name, description,
                bool(anonymousRead, "anonymousRead"), who());
        Long length = null;
        if (contentLength != null) {
            try {
                length = Long.parseLong(contentLength.strip());
            } catch (NumberFormatException ignored) {
                // the HTTP layer rejects malformed lengths; counting while streaming still applies
            }
        }
        return created(registry.registerTorchScript(reg, decl, body, length));
    }

    @GET
    @RequiresRole(Role.READER)
    @Operation(summary = "List models", description = "Sorted by id; pages of 'limit' models after id 'after'. "
            + "The list omits the specs (see the detail).")
    @APIResponse(responseCode = "200", description = "one page",
            content = @Content(schema = @Schema(implementation = ModelView.Page.class)))
    public ModelView.Page list(
            @Parameter(description = "only this kind: analytic | empirical | torchscript") @QueryParam("kind")
            String kind,
            @Parameter(description = "page size, 1.." + ModelRegistry.MAX_PAGE + " (default 50)") @QueryParam("limit")
            String limit,
            @Parameter(description = "return models with ids above this (nextAfter of the previous page)")
            @QueryParam("after") String after) {
        Integer l = integer(limit, "limit");
        Long a = longValue(after, "after");
        return registry.list(kind == null || kind.isBlank() ? null : kind.strip().toLowerCase(Locale.ROOT),
                l == null ? 50 : l, a == null ? 0 : a);
    }

    @GET
    @Path("/{idOrName}")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Describe a model", description = "Needs a token unless the model allows anonymous reads.")
    @APIResponse(responseCode = "200", description = "the model",
            content = @Content(schema = @Schema(implementation = ModelView.class)))
    @APIResponse(responseCode = "401", description = "no token, and the model does not allow anonymous reads "
            + "(or does not exist)", content = @Content(mediaType = PROBLEM,
            schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no such model",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public ModelView get(@Parameter(description = "id or name", example = "gmm-d32") @PathParam("idOrName")
                         String idOrName) {
        Optional<ModelView> v = registry.find(idOrName);
        // anonymous callers learn nothing about models they may not read, not even whether they exist
        caller.requireRead(v.isPresent() && v.get().anonymousRead());
        return v.orElseThrow(() -> ModelRegistry.notFound(idOrName));
    }

    @PATCH
    @Path("/{idOrName}")
    @Consumes({MediaType.APPLICATION_JSON, MERGE_PATCH})
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Change a model's description or anonymous-read flag",
            description = "JSON merge patch: {\"description\": ..., \"anonymousRead\": true|false}; "
                    + "\"description\": null clears it. Everything else is immutable.")
    @APIResponse(responseCode = "200", description = "the updated model",
            content = @Content(schema = @Schema(implementation = ModelView.class)))
    @APIResponse(responseCode = "404", description = "no such model",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public ModelView update(@PathParam("idOrName") String idOrName, JsonNode patch) {
        return registry.update(idOrName, patch);
    }

    @DELETE
    @Path("/{idOrName}")
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Delete a model", description = "Also deletes its uploaded file unless another model has "
            + "the same file. Refused while tuning jobs use the model or published configs belong to it.")
    @APIResponse(responseCode = "204", description = "deleted")
    @APIResponse(responseCode = "404", description = "no such model",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "in use; the detail says by what",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response delete(@PathParam("idOrName") String idOrName) {
        registry.delete(idOrName);
        return Response.noContent().build();
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private String who() {
        return caller.principal().map(Principal::name).orElse(null);
    }

    private static Response created(ModelView v) {
        return Response.created(URI.create("/api/v1/models/" + v.id())).entity(v).build();
    }

    private static Integer integer(String s, String field) {
        Long v = longValue(s, field);
        if (v == null) {
            return null;
        }
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw InvalidRequestException.field(field, "out of range: " + s);
        }
        return v.intValue();
    }

    private static Long longValue(String s, String field) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw InvalidRequestException.field(field, "expected an integer, got '" + s + "'");
        }
    }

    private static boolean bool(String s, String field) {
        if (s == null || s.isBlank()) {
            return false;
        }
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw InvalidRequestException.field(field, "expected true or false, got '" + s + "'");
        };
    }
}
