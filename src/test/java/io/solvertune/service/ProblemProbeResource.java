package io.solvertune.service;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.solvertune.service.api.problem.InvalidRequestException;
import io.solvertune.service.api.problem.Problem;
import io.solvertune.service.persistence.ModelEntity;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * Test-only endpoints that fail in each way the problem-details mappers must handle (the real API has no request
 * bodies yet).
 */
@io.solvertune.service.security.PublicEndpoint
@Path("/test-probe")
@Produces(MediaType.APPLICATION_JSON)
public class ProblemProbeResource {

    public record Nested(String kind, double scale) {
        public Nested {
            if (scale < 0) {
                throw new IllegalArgumentException("scale: must be >= 0, got " + scale);
            }
        }
    }

    public enum Mode { FAST, EXACT }

    public record Body(String name, int steps, Mode mode, Nested nested, List<Double> values) {
    }

    @POST
    @Path("/echo")
    @Consumes(MediaType.APPLICATION_JSON)
    public Body echo(Body body) {
        return body;
    }

    @GET
    @Path("/illegal-argument")
    public String illegalArgument() {
        throw new IllegalArgumentException("nfe: must be positive, got -3");
    }

    @GET
    @Path("/invalid-request")
    public String invalidRequest() {
        throw new InvalidRequestException("2 invalid fields", List.of(
                new Problem.FieldError("nfe", "must be positive"),
                new Problem.FieldError("spacing", "unknown spacing 'foo'")));
    }

    @GET
    @Path("/boom")
    public String boom() {
        throw new IllegalStateException("secret internal state 0xDEADBEEF");
    }

    @GET
    @Path("/bad-stored-json")
    public String badStoredJson() throws Exception {
        // our own parsing failing is a server error, not a malformed request
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree("{broken").toString();
    }

    public record NewModel(String name) {
    }

    /** Inserts a model; a second call with the same name violates models_name_key at commit. */
    @POST
    @Path("/models")
    @Consumes(MediaType.APPLICATION_JSON)
    public long createModel(NewModel m) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity e = new ModelEntity();
            e.name = m.name();
            e.kind = "analytic";
            e.spec = JsonNodeFactory.instance.objectNode().put("type", "gmm");
            e.contentHash = "0".repeat(64);
            e.schedule = JsonNodeFactory.instance.objectNode().put("type", "vp_linear");
            e.predictionType = "noise";
            e.persist();
            return e.id;
        });
    }
}
