package io.qalora.api;

import io.qalora.lora.MergedLayer;
import io.qalora.quant.QuantizedMatrix;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

@Schema(name = "MergedLayer", description = "The merged, quantized layer as JSON: codes q, per-group scales s and "
        + "zero points z with W ~ (q - z) * s, the dequantized weight, and the float32 bias.")
record MergedLayerJson(
        @Schema(description = "Bits per code.", example = "4", requiredMode = RequiredMode.REQUIRED) int bits,
        @Schema(description = "Values of a row per group; group g of a row spans columns g*groupSize up to "
                + "(g+1)*groupSize.", example = "2", requiredMode = RequiredMode.REQUIRED) int groupSize,
        @Schema(description = "Symmetric quantization.", example = "false", requiredMode = RequiredMode.REQUIRED)
        boolean symmetric,
        @Schema(description = "Columns.", example = "4", requiredMode = RequiredMode.REQUIRED) int inFeatures,
        @Schema(description = "Rows.", example = "2", requiredMode = RequiredMode.REQUIRED) int outFeatures,
        @Schema(description = "Integer codes [outFeatures][inFeatures], 0 to 2^bits - 1, unpacked.",
                example = "[[15, 0, 7, 9], [3, 12, 0, 15]]", requiredMode = RequiredMode.REQUIRED) int[][] codes,
        @Schema(description = "Scales [outFeatures][groups].", example = "[[0.05, 0.04], [0.03, 0.05]]",
                requiredMode = RequiredMode.REQUIRED) float[][] scales,
        @Schema(description = "Zero points [outFeatures][groups]: integers, except after a POOLED_ZERO_POINT "
                + "merge, which moves them to float values.", example = "[[4.0, 7.5], [10.0, 6.0]]",
                requiredMode = RequiredMode.REQUIRED) float[][] zeros,
        @Schema(description = "The dequantized weight (q - z) * s, [outFeatures][inFeatures].",
                example = "[[0.55, -0.2, 0.1, 0.3], [-0.21, 0.4, -0.3, 0.18]]", requiredMode = RequiredMode.REQUIRED)
        float[][] weight,
        @Schema(description = "The bias, float32 and unquantized; absent when the layer has none.",
                example = "[0.1, -0.1]") float[] bias) {

    static MergedLayerJson of(MergedLayer layer) {
        QuantizedMatrix q = layer.weight();
        int rows = q.rows();
        int cols = q.cols();
        int groups = q.groupsPerRow();
        int[][] codes = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                codes[r][c] = q.code(r, c);
            }
        }
        return new MergedLayerJson(q.spec().bits(), q.spec().groupSize(), q.spec().symmetric(), cols, rows, codes,
                rows(q.scales(), rows, groups), rows(q.zeros(), rows, groups), rows(q.dequantized(), rows, cols),
                layer.bias());
    }

    private static float[][] rows(float[] flat, int rows, int cols) {
        float[][] out = new float[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = java.util.Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }
}
