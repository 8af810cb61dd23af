package io.solvertune.service.configs;

import io.solvertune.exports.ConfigExports;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigDocument;
import com.fasterxml.jackson.databind.JsonNode;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.security.Caller;
import io.solvertune.service.security.Principal;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.headers.Header;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Published solver configs: query, the recommended config per (model, NFE, guidance), fetch by id (immutable, strong
 * ETag), promotion to {@code stable}, and exports for diffusers, k-diffusion, ComfyUI, DPM-Solver-v3 and DC-Solver.
 */
@Path("/api/v1/configs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "configs", description = "Published solver configs: immutable versions, aliases and exports")
public class ConfigsResource {

    /** Cache-Control of versioned URLs readable without a token. */
    static final String IMMUTABLE_PUBLIC = "public, max-age=31536000, immutable";
    /** Cache-Control of versioned URLs that need a token: no shared cache may keep them. */
    static final String IMMUTABLE_PRIVATE = "private, max-age=31536000, immutable";
    static final String PROBLEM = Problem.MEDIA_TYPE;
    static final int MAX_PAGE = 500;

    /** The result of a promotion. */
    public record AliasView(String alias, long configId, String key, String movedBy) {
    }

    @Inject
    ConfigReader reader;

    @Inject
    ConfigStore store;

    @Inject
    Caller caller;

    @Inject
    ConfigResponses responses;

    @GET
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "List published configs",
            description = "Sorted by id, pages of 'limit' after id 'after'. Without 'model' a token is required; "
                    + "with it, anonymous callers may list models that allow anonymous reads.")
    @APIResponse(responseCode = "200", description = "one page",
            content = @Content(schema = @Schema(implementation = ConfigReader.ConfigPage.class)))
    @APIResponse(responseCode = "400", description = "a malformed parameter (named in the problem)",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public ConfigReader.ConfigPage list(
            @Parameter(description = "model id or name") @QueryParam("model") String model,
            @Parameter(description = "tuning method: baseline, dc, dode, iia-ddim, dpmsolver-v3, ...")
            @QueryParam("method") String method,
            @Parameter(description = "base solver catalog name") @QueryParam("solver") String solver,
            @Parameter(description = "number of function evaluations") @QueryParam("nfe") String nfe,
            @Parameter(description = "guidance scale (1 = unguided)") @QueryParam("guidance") String guidance,
            @Parameter(description = "spacing: time_uniform, logSNR, karras, ...") @QueryParam("spacing")
            String spacing,
            @Parameter(description = "page size, 1.." + MAX_PAGE + " (default 50)") @QueryParam("limit") String limit,
            @Parameter(description = "ids above this (nextAfter of the previous page)") @QueryParam("after")
            String after) {
        Long modelId = null;
        StringBuilder next = new StringBuilder("/api/v1/configs?");
        if (present(model)) {
            ConfigReader.ModelRef m = responses.readableModel(model);
            modelId = m.id();
            next.append("model=").append(m.id());
        } else {
            caller.require(Role.READER);
        }
        ConfigReader.Filter f = new ConfigReader.Filter(modelId, text(method), text(solver), positiveInt(nfe, "nfe"),
                guidance(guidance), text(spacing));
        for (String[] p : new String[][] {{"method", f.method()}, {"solver", f.solver()}, {"spacing", f.spacing()}}) {
            if (p[1] != null) {
                next.append('&').append(p[0]).append('=').append(URLEncoder.encode(p[1], StandardCharsets.UTF_8));
            }
        }
        if (f.nfe() != null) {
            next.append("&nfe=").append(f.nfe());
        }
        if (f.guidance() != null) {
            next.append("&guidance=").append(f.guidance());
        }
        Integer l = positiveInt(limit, "limit");
        if (l != null && l > MAX_PAGE) {
            throw InvalidRequestException.field("limit", "must be between 1 and " + MAX_PAGE + ", got " + l);
        }
        Long a = nonNegativeLong(after, "after");
        return reader.list(f, l == null ? 50 : l, a == null ? 0 : a, next.toString());
    }

    @GET
    @Path("/best")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "The recommended config for a model, NFE and guidance",
            description = "The validated candidate with the lowest held-out MSE among every fitted method and the "
                    + "untuned baselines of the latest publish covering (model, nfe, guidance). Exact match only: "
                    + "no fallback to other models, NFEs or guidance scales.")
    @APIResponse(responseCode = "200", description = "the config document (as GET /api/v1/configs/{id})",
            headers = {@Header(name = "X-Config-Id"), @Header(name = "X-Config-Version"), @Header(name = "ETag")})
    @APIResponse(responseCode = "404", description = "no recommended config; the detail names what is missing",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response best(@Parameter(description = "model id or name", required = true) @QueryParam("model")
                         String model,
                         @Parameter(description = "number of function evaluations", required = true)
                         @QueryParam("nfe") String nfe,
                         @Parameter(description = "guidance scale (default 1 = unguided)") @QueryParam("guidance")
                         String guidance,
                         @HeaderParam(HttpHeaders.IF_NONE_MATCH) String ifNoneMatch) {
        if (!present(model)) {
            throw InvalidRequestException.field("model", "required (a model id or name)");
        }
        Integer n = positiveInt(nfe, "nfe");
        if (n == null) {
            throw InvalidRequestException.field("nfe", "required (a positive integer)");
        }
        Double g = guidance(guidance);
        double scale = g == null ? 1.0 : g;
        ConfigReader.ModelRef m = responses.readableModel(model);
        long id = reader.recommended(m.id(), n, scale).orElseThrow(() -> {
            List<String> have = reader.recommendedKeys(m.id());
            return new NotFoundException("no recommended config for model '" + m.name() + "' at nfe " + n
                    + ", guidance " + scale + (have.isEmpty() ? "; no publish has covered this model yet"
                    : "; recommended configs exist for: " + String.join(", ", have)));
        });
        Response answer = responses.resolved(id, ifNoneMatch, "recommended", m.anonymousRead());
        responses.warm(model, m.id());
        return answer;
    }

    @GET
    @Path("/{id}")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Fetch a config by id",
            description = "The immutable, canonical JSON document of one config version. Strong ETag = sha256 of the "
                    + "body; If-None-Match with it gives 304. Cacheable forever.")
    @APIResponse(responseCode = "200", description = "the document",
            headers = {@Header(name = "ETag", description = "\"<sha256 of the body>\""),
                    @Header(name = "Cache-Control")})
    @APIResponse(responseCode = "304", description = "If-None-Match matched")
    @APIResponse(responseCode = "401", description = "no token and the model does not allow anonymous reads",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no such config",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response get(@Parameter(description = "config id") @PathParam("id") String id,
                        @HeaderParam(HttpHeaders.IF_NONE_MATCH) String ifNoneMatch) {
        ConfigReader.Served s = responses.served(configId(id));
        boolean anonymous = reader.anonymousRead(s.modelId());
        caller.requireRead(anonymous);
        String cache = anonymous ? IMMUTABLE_PUBLIC : IMMUTABLE_PRIVATE;
        if (ETags.matches(ifNoneMatch, s.etag())) {
            return Response.notModified().header(HttpHeaders.ETAG, s.etag()).header(HttpHeaders.CACHE_CONTROL, cache)
                    .build();
        }
        return Response.ok(s.body(), MediaType.APPLICATION_JSON_TYPE).header(HttpHeaders.ETAG, s.etag())
                .header(HttpHeaders.CACHE_CONTROL, cache).build();
    }

    @PUT
    @Path("/{id}/stable")
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Promote a config to its key's 'stable' alias",
            description = "Moves the alias row; the config itself is immutable.")
    @APIResponse(responseCode = "200", description = "the alias now points at the config",
            content = @Content(schema = @Schema(implementation = AliasView.class)))
    @APIResponse(responseCode = "403", description = "not an admin token",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "no such config",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public AliasView promote(@Parameter(description = "config id") @PathParam("id") String id) {
        Principal p = caller.require(Role.ADMIN);
        long cid = configId(id);
        String key = store.promoteStable(cid, p.name());
        if (key == null) {
            throw new NotFoundException("no config " + cid);
        }
        return new AliasView("stable", cid, key, p.name());
    }

    @GET
    @Path("/{id}/exports")
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Which export formats reproduce a config",
            description = "Every format with its verdict: supported ones state the consumer call that reproduces the "
                    + "config's validated run (consumer, entry point, code, notes); refused ones the reason and the "
                    + "formats that work. GET .../export/{format} answers 409 exactly for the refused ones.")
    @APIResponse(responseCode = "200", description = "the verdict of every format",
            content = @Content(schema = @Schema(implementation = ConfigExports.Listing.class)))
    @APIResponse(responseCode = "404", description = "no such config",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public ConfigExports.Listing exports(@Parameter(description = "config id") @PathParam("id") String id) {
        ConfigReader.Served s = responses.served(configId(id));
        caller.requireRead(reader.anonymousRead(s.modelId()));
        return ConfigExports.listing(s.id(), ConfigDocument.parse(s.body()), reader.model(s.modelId()).spec());
    }

    @GET
    @Path("/{id}/export/{format}")
    @Produces({MediaType.APPLICATION_JSON, "application/zip", MediaType.APPLICATION_OCTET_STREAM})
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Export a config for another ecosystem",
            description = "json (native; always reproduces the config with solvertune's own samplers); diffusers "
                    + "(zip: scheduler/scheduler_config.json of a stock class with the model's betas and prediction "
                    + "type, schedule.json with the exact timesteps and sigmas, call.json with the consumer call, "
                    + "guider_config.json); k-diffusion and comfyui (the sigma list the named sampler runs, in the "
                    + "model's sigma space, with the call); dpmsolver-v3 (zip with the official l.npz and sb.npz, "
                    + "4-D, and the official call); dc-ratios (the list the official DC-Solver sampler loads); dc-cpr. "
                    + "Every format other than json is offered only where its consumer reproduces the validated "
                    + "run (else 409). Exports are immutable too.")
    @APIResponse(responseCode = "200", description = "the export; Content-Disposition names the file")
    @APIResponse(responseCode = "404", description = "no such config, or an unknown format (the detail lists them)",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "the format would not reproduce this config's validated run: the "
            + "detail says why and names the formats that do (GET /api/v1/configs/{id}/exports lists them all)",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = Problem.class)))
    public Response export(@Parameter(description = "config id") @PathParam("id") String id,
                           @Parameter(description = "json | diffusers | k-diffusion | comfyui | dpmsolver-v3 | "
                                   + "dc-ratios | dc-cpr") @PathParam("format") String format,
                           @HeaderParam(HttpHeaders.IF_NONE_MATCH) String ifNoneMatch) {
        io.solvertune.exports.ExportFormat f = io.solvertune.exports.ExportFormat.of(format);
        if (f == null) {
            throw new NotFoundException("unknown export format '" + format + "' (known: "
                    + String.join(", ", io.solvertune.exports.ExportFormat.ids()) + ")");
        }
        ConfigReader.Served s = responses.served(configId(id));
        boolean anonymous = reader.anonymousRead(s.modelId());
        caller.requireRead(anonymous);
        ConfigExports.Export x = ConfigExports.export(f, ConfigDocument.parse(s.body()),
                reader.model(s.modelId()).spec(), s.body());
        String etag = "\"" + CanonicalJson.sha256(x.body()) + "\"";
        String cache = anonymous ? IMMUTABLE_PUBLIC : IMMUTABLE_PRIVATE;
        if (ETags.matches(ifNoneMatch, etag)) {
            return Response.notModified().header(HttpHeaders.ETAG, etag).header(HttpHeaders.CACHE_CONTROL, cache)
                    .build();
        }
        return Response.ok(x.body(), x.mediaType()).header(HttpHeaders.ETAG, etag)
                .header(HttpHeaders.CACHE_CONTROL, cache)
                .header("Content-Disposition", "attachment; filename=\"" + x.fileName() + "\"")
                .header("X-Config-Id", s.id()).build();
    }

    // ---- parameters -----------------------------------------------------------------------------------------------

    static long configId(String id) {
        try {
            long v = Long.parseLong(id.strip());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw InvalidRequestException.field("id", "expected a positive integer config id, got '" + id + "'");
    }

    static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    static String text(String s) {
        return present(s) ? s.strip() : null;
    }

    static Integer positiveInt(String s, String field) {
        if (!present(s)) {
            return null;
        }
        try {
            int v = Integer.parseInt(s.strip());
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw InvalidRequestException.field(field, "expected a positive integer, got '" + s + "'");
    }

    static Long nonNegativeLong(String s, String field) {
        if (!present(s)) {
            return null;
        }
        try {
            long v = Long.parseLong(s.strip());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw InvalidRequestException.field(field, "expected an integer >= 0, got '" + s + "'");
    }

    static Double guidance(String s) {
        if (!present(s)) {
            return null;
        }
        try {
            double v = Double.parseDouble(s.strip());
            if (Double.isFinite(v) && v >= 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw InvalidRequestException.field("guidance", "expected a finite number >= 0, got '" + s + "'");
    }
}
