package io.qalora.api;

import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;

/** The shape of every error answer, for the OpenAPI description only; the answers are Spring's ProblemDetail. */
@Schema(name = "Problem", description = "An RFC 9457 problem (application/problem+json). Besides the standard "
        + "members it carries, depending on its type, the request field, the safetensors rule and tensor, the "
        + "resource kind or the size limit concerned.")
record ProblemSchema(
        @Schema(description = "Identifies the kind of problem; stable, one of https://qalora.io/problems/"
                + "{invalid-parameter, invalid-safetensors, malformed-request, not-found, conflict, "
                + "payload-too-large, result-too-large-for-json, method-not-allowed, not-acceptable, "
                + "unsupported-media-type, corrupt-data, service-unavailable, internal-error}.",
                example = "https://qalora.io/problems/invalid-parameter", requiredMode = RequiredMode.REQUIRED)
        String type,
        @Schema(description = "A short summary of the kind of problem.", example = "Invalid parameter",
                requiredMode = RequiredMode.REQUIRED) String title,
        @Schema(description = "The HTTP status.", example = "422", requiredMode = RequiredMode.REQUIRED) int status,
        @Schema(description = "What went wrong in this request.",
                example = "hyperparameters.rank: must be at least 1, was 0", requiredMode = RequiredMode.REQUIRED)
        String detail,
        @Schema(description = "The request path.", example = "/v1/jobs", requiredMode = RequiredMode.REQUIRED)
        String instance,
        @Schema(description = "The offending request field, parameter, header or multipart part, as a JSON path "
                + "(invalid-parameter, malformed-request).", example = "hyperparameters.rank") String field,
        @Schema(description = "The safetensors rule broken (invalid-safetensors).", example = "TRUNCATED")
        String rule,
        @Schema(description = "The offending tensor, when the problem is tied to one (invalid-safetensors).",
                example = "bias") String tensor,
        @Schema(description = "The kind of resource not found (not-found).", example = "layer") String resource,
        @Schema(description = "The size limit in bytes (payload-too-large).", example = "1073741824")
        Long limitBytes,
        @Schema(description = "The largest outFeatures * inFeatures served as JSON (result-too-large-for-json).",
                example = "1048576") Long maxElements,
        @Schema(description = "An id under which a server error was logged (internal-error).",
                example = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f") String incident) {
}
