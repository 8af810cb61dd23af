package io.solvertune.service.security;

import io.solvertune.service.api.problem.InvalidRequestException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Token management for admins (the first admin token comes from {@code solvertune token create} on the host). */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "tokens", description = "Bearer tokens and roles")
public class TokensResource {

    /** A token request. */
    public record NewToken(String name, String role) {
    }

    /** Who the caller is. */
    public record WhoAmI(long tokenId, String name, String role) {
    }

    @Inject
    TokenService tokens;

    @Inject
    Caller caller;

    @GET
    @Path("/whoami")
    @RequiresRole(Role.READER)
    @Operation(summary = "The caller's token name and role")
    public WhoAmI whoami() {
        Principal p = caller.require(Role.READER);
        return new WhoAmI(p.tokenId(), p.name(), p.role().id());
    }

    @GET
    @Path("/tokens")
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "List tokens (never their values)")
    public List<TokenService.TokenInfo> list() {
        return tokens.list();
    }

    @POST
    @Path("/tokens")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Create a token", description = "The response holds the token; it is not shown again.")
    public Response create(NewToken body) {
        if (body == null) {
            throw InvalidRequestException.field("body", "expected {\"name\": ..., \"role\": ...}");
        }
        if (body.role() == null) {
            throw InvalidRequestException.field("role", "required: admin, submitter or reader");
        }
        TokenService.CreatedToken t = tokens.create(body.name(), Role.parse(body.role()));
        return Response.status(201).entity(t).build();
    }

    @DELETE
    @Path("/tokens/{id}")
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Revoke a token")
    public Response revoke(@PathParam("id") long id) {
        if (!tokens.revoke(id)) {
            throw new NotFoundException("no token " + id);
        }
        return Response.noContent().build();
    }
}
