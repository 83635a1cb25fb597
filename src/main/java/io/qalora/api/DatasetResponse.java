package io.qalora.api;

import io.qalora.job.DatasetInfo;
import io.qalora.job.DatasetKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.time.Instant;
import java.util.UUID;

@Schema(name = "Dataset", description = "An uploaded dataset: inputs [rows, inFeatures] with either float targets "
        + "[rows, outFeatures] (REGRESSION, mean squared error) or integer class labels [rows] (CLASSIFICATION, "
        + "softmax cross-entropy), stored as safetensors.")
record DatasetResponse(
        @Schema(description = "The dataset's id.", example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718",
                requiredMode = RequiredMode.REQUIRED) UUID id,
        @Schema(description = "The name given at upload, \"unnamed\" when none was.", example = "train",
                requiredMode = RequiredMode.REQUIRED) String name,
        @Schema(description = "REGRESSION for targets, CLASSIFICATION for labels.", example = "REGRESSION",
                requiredMode = RequiredMode.REQUIRED) DatasetKind kind,
        @Schema(description = "Number of examples.", example = "8", requiredMode = RequiredMode.REQUIRED) int rows,
        @Schema(description = "Width of an input row; must equal the layer's inFeatures.", example = "4",
                requiredMode = RequiredMode.REQUIRED) int inFeatures,
        @Schema(description = "Width of a target row (REGRESSION only); must equal the layer's outFeatures.",
                example = "2") Integer outFeatures,
        @Schema(description = "The largest label + 1 (CLASSIFICATION only); must not exceed the layer's "
                + "outFeatures.", example = "3") Integer numClasses,
        @Schema(description = "SHA-256 of the stored safetensors file, lower-case hex.",
                example = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
                requiredMode = RequiredMode.REQUIRED) String sha256,
        @Schema(description = "Size of the stored safetensors file in bytes.", example = "312",
                requiredMode = RequiredMode.REQUIRED) long sizeBytes,
        @Schema(description = "When the dataset was uploaded (UTC).", example = "2025-01-31T12:00:00.123456Z",
                requiredMode = RequiredMode.REQUIRED) Instant createdAt) {

    static DatasetResponse of(DatasetInfo d) {
        return new DatasetResponse(d.id(), d.name(), d.kind(), d.rows(), d.inFeatures(), d.outFeatures(),
                d.numClasses(), d.blob().sha256(), d.blob().sizeBytes(), d.createdAt());
    }
}
