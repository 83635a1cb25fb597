package io.qalora.api;

import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.UUID;

/** The multipart form of a merge, for the OpenAPI description only. */
@Schema(name = "MergeUpload", description = "A PEFT checkpoint zip and the merge's settings, as multipart form data: "
        + "either the JSON part `request` or the settings as form fields, not both.")
record MergeUpload(
        @Schema(description = "The PEFT checkpoint: a zip of adapter_config.json and adapter_model.safetensors "
                + "(as save_pretrained writes them, at the top or in one folder).", type = "string", format = "binary",
                requiredMode = RequiredMode.REQUIRED) String adapter,
        @Schema(description = "The settings as one JSON part.") MergeOptions request,
        @Schema(description = "The base layer (as a form field).", example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21")
        UUID layerId,
        @Schema(description = "The module to merge, when the checkpoint adapts several.", example = "q_proj")
        String module,
        @Schema(description = MergeOptions.BITS, example = "4") Integer quantizationBits,
        @Schema(description = MergeOptions.GROUP_SIZE, example = "64") Integer groupSize,
        @Schema(description = MergeOptions.SYMMETRIC, example = "false") Boolean symmetric,
        @Schema(description = MergeOptions.QUANTIZER, example = "RTN") QuantizerKind quantizer,
        @Schema(description = MergeOptions.CALIBRATION, example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718")
        UUID calibrationDatasetId) {
}
