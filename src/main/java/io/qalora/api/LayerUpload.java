package io.qalora.api;

import io.qalora.InvalidParameterException;
import io.qalora.job.Matrices;
import io.qalora.tensor.DenseLayer;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

@Schema(name = "LayerUpload", description = "A small base layer given as JSON arrays; it is stored as F32 "
        + "safetensors. Larger layers are better uploaded as safetensors (raw body or multipart).")
record LayerUpload(
        @Schema(description = "A name for the layer, at most 200 characters; the query parameter 'name' is used "
                + "when this is absent.", example = "demo") String name,
        @Schema(description = "The weight W, one array per output row: [outFeatures][inFeatures], all rows equally "
                + "long, every value finite.", example = "[[0.5, -0.2, 0.1, 0.3], [0.0, 0.4, -0.3, 0.2]]",
                requiredMode = RequiredMode.REQUIRED) float[][] weight,
        @Schema(description = "The bias b, outFeatures values; absent for a layer without bias.",
                example = "[0.1, -0.1]") float[] bias) {

    /** The layer, with the offending field named when a shape or value is wrong. */
    DenseLayer toDenseLayer() {
        InvalidParameterException.require(weight != null, "weight", "is required");
        float[] flat = Matrices.flatten("weight", weight);
        return new DenseLayer(weight.length, weight[0].length, flat, bias);
    }
}
