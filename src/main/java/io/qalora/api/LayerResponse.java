package io.qalora.api;

import io.qalora.job.LayerInfo;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.time.Instant;
import java.util.UUID;

@Schema(name = "Layer", description = "An uploaded base layer y = W x + b, with W [outFeatures, inFeatures] and "
        + "an optional bias b [outFeatures], stored as the safetensors file it was uploaded as (or, for JSON, "
        + "converted to).")
record LayerResponse(
        @Schema(description = "The layer's id.", example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21",
                requiredMode = RequiredMode.REQUIRED) UUID id,
        @Schema(description = "The name given at upload, \"unnamed\" when none was.", example = "demo",
                requiredMode = RequiredMode.REQUIRED) String name,
        @Schema(description = "Columns of the weight: the width of an input row.", example = "4",
                requiredMode = RequiredMode.REQUIRED) int inFeatures,
        @Schema(description = "Rows of the weight: the width of an output row.", example = "2",
                requiredMode = RequiredMode.REQUIRED) int outFeatures,
        @Schema(description = "Whether the file holds a bias.", example = "true",
                requiredMode = RequiredMode.REQUIRED) boolean hasBias,
        @Schema(description = "SHA-256 of the stored safetensors file, lower-case hex; also the ETag of "
                + "GET /v1/layers/{id}/weights.",
                example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                requiredMode = RequiredMode.REQUIRED) String sha256,
        @Schema(description = "Size of the stored safetensors file in bytes.", example = "120",
                requiredMode = RequiredMode.REQUIRED) long sizeBytes,
        @Schema(description = "When the layer was uploaded (UTC).", example = "2025-01-31T12:00:00.123456Z",
                requiredMode = RequiredMode.REQUIRED) Instant createdAt) {

    static LayerResponse of(LayerInfo layer) {
        return new LayerResponse(layer.id(), layer.name(), layer.inFeatures(), layer.outFeatures(), layer.hasBias(),
                layer.blob().sha256(), layer.blob().sizeBytes(), layer.createdAt());
    }
}
