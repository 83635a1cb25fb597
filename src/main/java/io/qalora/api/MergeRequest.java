package io.qalora.api;

import io.qalora.job.MergeSubmission;
import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.annotation.JsonDeserialize;

@Schema(name = "MergeRequest", description = "A merge of LoRA factors given as JSON arrays into a stored layer: "
        + "W' = W + s B A with s = alpha / r (alpha / sqrt(r) with rsLora), then quantized group-wise.")
record MergeRequest(
        @Schema(description = "The base layer W [out, in].", example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21",
                requiredMode = RequiredMode.REQUIRED) UUID layerId,
        @Schema(description = "The factor A [r][inFeatures], one array per rank row, every value finite; r is at "
                + "most min(inFeatures, outFeatures).", example = "[[0.5, 0.25, -0.5, 1.0]]",
                requiredMode = RequiredMode.REQUIRED) float[][] loraA,
        @Schema(description = "The factor B [outFeatures][r].", example = "[[1.0], [-0.5]]",
                requiredMode = RequiredMode.REQUIRED) float[][] loraB,
        @Schema(description = "LoRA alpha. Absent or <= 0 means alpha = r (scaling 1).", example = "2.0")
        Double alpha,
        @Schema(description = "Scale by alpha / sqrt(r) instead of alpha / r. Default false.", example = "false")
        Boolean rsLora,
        @Schema(description = MergeOptions.BITS, example = "4")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer quantizationBits,
        @Schema(description = MergeOptions.GROUP_SIZE, example = "2")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer groupSize,
        @Schema(description = MergeOptions.SYMMETRIC, example = "false") Boolean symmetric,
        @Schema(description = MergeOptions.QUANTIZER, example = "RTN") QuantizerKind quantizer,
        @Schema(description = MergeOptions.CALIBRATION, example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718")
        UUID calibrationDatasetId,
        @Schema(description = MergeOptions.METADATA, example = "{\"source\": \"hub\"}") Map<String, String> metadata) {

    MergeSubmission toSubmission() {
        return new MergeSubmission(layerId, new MergeSubmission.Factors(loraA, loraB, alpha, rsLora), quantizationBits,
                groupSize, symmetric, quantizer, calibrationDatasetId, metadata);
    }
}
