package io.solvertune.service.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A registered model as the API shows it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@Schema(name = "Model", description = "A registered model")
public record ModelView(
        @Schema(description = "id (stable, used by jobs and configs)", example = "1") long id,
        @Schema(description = "unique name", example = "fmnist-unet-v2") String name,
        @Schema(description = "analytic | empirical | torchscript", example = "torchscript") String kind,
        @Schema(description = "built-in preset the model is, if any", example = "gmm-sd-d32") String preset,
        String description,
        @Schema(description = "whether clients without a token may read the model and its configs")
        boolean anonymousRead,
        @Schema(description = "sha256 of the canonical spec and every referenced file: the model hash of provenance")
        String contentHash,
        @Schema(description = "what the model predicts: noise | data | v | score | flow_velocity") String predictionType,
        @Schema(description = "the noise schedule spec") JsonNode schedule,
        @Schema(description = "shape of one sample, without the batch axis", example = "[1, 28, 28]") int[] inputShape,
        @Schema(description = "number of classes; 0 = unconditional", example = "10") int numClasses,
        @Schema(description = "data type sampling runs in", example = "float32") String dtype,
        @Schema(description = "the uploaded file, for TorchScript models") ArtifactRef artifact,
        @Schema(description = "number of parameter values of a TorchScript module") Long parameterCount,
        @Schema(description = "the model spec (detail view only); an uploaded file appears as sha256:<hex>")
        JsonNode spec,
        @Schema(description = "name of the token that registered it") String createdBy,
        Instant createdAt) {

    /** A stored file. */
    @Schema(name = "ArtifactRef")
    public record ArtifactRef(String sha256, long sizeBytes) {
    }

    /** One page of a listing, sorted by id. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "ModelPage")
    public record Page(
            List<ModelView> items,
            @Schema(description = "pass as 'after' to get the next page; absent on the last page") Long nextAfter,
            @Schema(description = "the next page's URL; absent on the last page") String next) {
    }
}
