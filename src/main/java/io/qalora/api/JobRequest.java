package io.qalora.api;

import io.qalora.job.HyperparameterRequest;
import io.qalora.job.JobSubmission;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.Map;
import java.util.UUID;

@Schema(name = "JobRequest", description = "A training job: the layer to adapt, the data, and the settings.")
record JobRequest(
        @Schema(description = "The base layer.", example = "0d9f6c52-3b7e-4a51-9c41-7f1f0a6f4a21",
                requiredMode = RequiredMode.REQUIRED) UUID layerId,
        @Schema(description = "The dataset trained on; its inFeatures must equal the layer's, and its targets' "
                + "width the layer's outFeatures (or its labels stay below it).",
                example = "5b0e2f7a-9c3d-4e8f-a1b2-c3d4e5f60718", requiredMode = RequiredMode.REQUIRED)
        UUID trainingDatasetId,
        @Schema(description = "A dataset of the same kind to evaluate on; without it the evaluation uses the "
                + "training set.", example = "7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f") UUID validationDatasetId,
        @Schema(description = "Training and quantization settings; absent takes every default.")
        HyperparameterSettings hyperparameters,
        @Schema(description = "Also train plain LoRA and quantize it afterwards (post-training quantization), "
                + "to compare. Default false.", example = "true") Boolean compareWithPtq,
        @Schema(description = "Free-form labels kept with the job: at most 50 entries, keys 1..100 and values at "
                + "most 1000 characters.", example = "{\"experiment\": \"demo\"}") Map<String, String> metadata) {

    JobSubmission toSubmission() {
        HyperparameterRequest settings = hyperparameters == null ? null : hyperparameters.toRequest();
        return new JobSubmission(layerId, trainingDatasetId, validationDatasetId, settings, compareWithPtq, metadata);
    }
}
