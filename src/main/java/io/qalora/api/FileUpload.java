package io.qalora.api;

import io.swagger.v3.oas.annotations.media.Schema;

/** The multipart form of an upload, for the OpenAPI description only. */
@Schema(name = "SafetensorsUpload", description = "A safetensors file and its name, as multipart form data.")
record FileUpload(
        @Schema(description = "The safetensors file.", type = "string", format = "binary",
                requiredMode = Schema.RequiredMode.REQUIRED) String file,
        @Schema(description = "A name, at most 200 characters.", example = "demo") String name) {
}
