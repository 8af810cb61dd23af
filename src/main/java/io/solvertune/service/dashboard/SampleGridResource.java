package io.solvertune.service.dashboard;

import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.artifacts.ArtifactStore;
import io.solvertune.service.configs.ConfigReader;
import io.solvertune.service.security.Caller;
import io.solvertune.service.security.RequiresRole;
import io.solvertune.service.security.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.ClientErrorException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Sample grids of image models ({@link SampleGrids}): the grid's description, and its PNG by sha256. */
@Path("/api/v1/dashboard")
@Tag(name = "dashboard")
public class SampleGridResource {

    /** A grid and where its PNG is. */
    public record GridView(SampleGrids.Grid grid, String href) {
    }

    @Inject
    SampleGrids grids;

    @Inject
    ConfigReader configs;

    @Inject
    ArtifactStore artifacts;

    @Inject
    Caller caller;

    @GET
    @Path("/models/{model}/sample-grid")
    @Produces(MediaType.APPLICATION_JSON)
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "Teacher | best untuned baseline | tuned configs on the same seeds (image models)",
            description = "Rendered the first time it is asked for and stored in the artifact store; 409 for a "
                    + "model whose samples are not images or without a best untuned baseline at (nfe, guidance).")
    public GridView grid(@PathParam("model") String model, @QueryParam("nfe") String nfe,
                         @QueryParam("guidance") String guidance) {
        ConfigReader.ModelRef m = configs.model(model);
        caller.requireRead(m.anonymousRead());
        int n = nfe(nfe);
        double g = guidance(guidance);
        try {
            SampleGrids.Grid grid = grids.grid(m, n, g);
            return new GridView(grid, "/api/v1/dashboard/sample-grids/" + grid.sha256());
        } catch (SampleGrids.NoGrid e) {
            throw new ClientErrorException(e.getMessage(), 409);
        }
    }

    @GET
    @Path("/configs/{id}/sample-grid")
    @Produces(MediaType.APPLICATION_JSON)
    @RequiresRole(value = Role.READER, anonymousIfModelAllows = true)
    @Operation(summary = "The sample grid of a config (image models)",
            description = "The grid the config's publishing job stored at its NFE and guidance (the config is one of "
                    + "its columns), else that of the model's current configs there; 409 as for the model's grid.")
    public GridView configGrid(@PathParam("id") String id) {
        long cid;
        try {
            cid = Long.parseLong(id == null ? "" : id.strip());
        } catch (NumberFormatException e) {
            throw InvalidRequestException.field("id", "expected a config id (integer), got '" + id + "'");
        }
        SampleGrids.ConfigRef c = grids.config(cid).orElseThrow(() -> new NotFoundException("no config " + id));
        ConfigReader.ModelRef m = configs.model(c.modelId());
        caller.requireRead(m.anonymousRead());
        try {
            SampleGrids.Grid grid = grids.grid(m, c);
            return new GridView(grid, "/api/v1/dashboard/sample-grids/" + grid.sha256());
        } catch (SampleGrids.NoGrid e) {
            throw new ClientErrorException(e.getMessage(), 409);
        }
    }

    @GET
    @Path("/sample-grids/{sha256}")
    @Produces("image/png")
    @RequiresRole(Role.READER)
    @Operation(summary = "A sample grid's PNG (immutable, content-addressed)")
    public Response png(@PathParam("sha256") String sha) {
        ArtifactStore.Stored s = artifacts.find(sha).filter(a -> SampleGrids.KIND.equals(a.kind()))
                .orElseThrow(() -> new NotFoundException("no sample grid " + sha));
        return Response.ok(s.path().toFile(), "image/png").header("ETag", "\"" + s.sha256() + "\"")
                .header("Cache-Control", "private, max-age=31536000, immutable").build();
    }

    private static int nfe(String s) {
        try {
            int v = Integer.parseInt(s == null ? "" : s.strip());
            if (v >= 1 && v <= 50) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // below
        }
        throw InvalidRequestException.field("nfe", "required, an integer in 1..50, got '" + s + "'");
    }

    private static double guidance(String s) {
        if (s == null || s.isBlank()) {
            return 1.0;
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
