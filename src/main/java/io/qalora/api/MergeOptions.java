package io.qalora.api;

import io.qalora.job.MergeSubmission;
import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.annotation.JsonDeserialize;

@Schema(name = "MergeOptions", description = "The settings of a merge of an uploaded PEFT checkpoint: the JSON part "
        + "`request` of the multipart form, or the same names as form fields.")
record MergeOptions(
        @Schema(description = "The base layer W [out, in]; the adapter must adapt a weight of this shape.",
                example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21", requiredMode = RequiredMode.REQUIRED) UUID layerId,
        @Schema(description = "The module to merge, when the checkpoint adapts several: its path, e.g. "
                + "`model.layers.0.self_attn.q_proj` (with or without PEFT's `base_model.model.` prefix).",
                example = "model.layers.0.self_attn.q_proj") String module,
        @Schema(description = BITS, example = "4")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer quantizationBits,
        @Schema(description = GROUP_SIZE, example = "64")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer groupSize,
        @Schema(description = SYMMETRIC, example = "false") Boolean symmetric,
        @Schema(description = QUANTIZER, example = "GPTQ") QuantizerKind quantizer,
        @Schema(description = CALIBRATION, example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718") UUID calibrationDatasetId,
        @Schema(description = METADATA + " Only in the JSON part `request`.", example = "{\"source\": \"hub\"}")
        Map<String, String> metadata) {

    static final String BITS = "Bits per code of the merged weight, 1 to 16 (1 only asymmetric). Default 4.";
    static final String GROUP_SIZE = "Consecutive values of a row that share one scale and zero point (the last "
            + "group of a row may be shorter). Default 64.";
    static final String SYMMETRIC = "Symmetric quantization around 0 instead of asymmetric min-max with a zero point. "
            + "Default false.";
    static final String QUANTIZER = "RTN (round to nearest, the spec's quantizer) or GPTQ (calibrated on "
            + "`calibrationDatasetId`). Default RTN.";
    static final String CALIBRATION = "A dataset whose inputs (inFeatures equal to the layer's) GPTQ calibrates on, "
            + "up to 1024 rows (a sample with seed 0 beyond). Required with GPTQ, refused with RTN.";
    static final String METADATA = "Free-form labels kept with the job: at most 50 entries, keys 1..100 and values "
            + "at most 1000 characters.";

    MergeSubmission toSubmission(byte[] zip) {
        return new MergeSubmission(layerId, new MergeSubmission.Peft(zip, module), quantizationBits, groupSize,
                symmetric, quantizer, calibrationDatasetId, metadata);
    }
}
