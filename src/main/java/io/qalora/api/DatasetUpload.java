package io.qalora.api;

import io.qalora.InvalidParameterException;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import tools.jackson.databind.annotation.JsonDeserialize;

@Schema(name = "DatasetUpload", description = "A small dataset given as JSON arrays: inputs and exactly one of "
        + "targets (regression) and labels (classification). It is stored as safetensors (F32 inputs and targets, "
        + "I64 labels).")
record DatasetUpload(
        @Schema(description = "A name for the dataset, at most 200 characters; the query parameter 'name' is used "
                + "when this is absent.", example = "train") String name,
        @Schema(description = "Input rows [rows][inFeatures], all equally long.",
                example = "[[1, 0, 0, 0], [0, 1, 0, 0]]", requiredMode = RequiredMode.REQUIRED) float[][] inputs,
        @Schema(description = "Target rows [rows][outFeatures] for regression; leave out when giving labels.",
                example = "[[0.7, 0.1], [-0.1, 0.5]]") float[][] targets,
        @Schema(description = "Class labels [rows], each 0 or more, for classification; leave out when giving "
                + "targets.", example = "[0, 1]")
        @JsonDeserialize(using = StrictIntegers.LongArray.class) long[] labels) {

    /** Rejects null rows, which the arrays allow but a matrix does not. */
    void checkRows() {
        checkRows("inputs", inputs);
        checkRows("targets", targets);
    }

    private static void checkRows(String field, float[][] rows) {
        if (rows == null) {
            return;
        }
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] == null) {
                throw new InvalidParameterException(field, "row " + r + " is null");
            }
        }
    }
}
