package io.qalora.api;

import java.net.URI;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;

/**
 * The kinds of problem this API answers with: each has a stable {@code type} URI that clients
 * may switch on, a fixed title and a status. The URIs identify; nothing needs to be served there.
 */
enum ProblemType {

    /** A request field or parameter has an illegal value; {@code field} names it. */
    INVALID_PARAMETER("invalid-parameter", "Invalid parameter", HttpStatus.UNPROCESSABLE_CONTENT),
    /** An uploaded safetensors file breaks a format rule; {@code rule} and {@code tensor} say which. */
    INVALID_SAFETENSORS("invalid-safetensors", "Invalid safetensors file", HttpStatus.BAD_REQUEST),
    /** The request cannot be read: malformed JSON, a value of the wrong type, a missing part or parameter. */
    MALFORMED_REQUEST("malformed-request", "Malformed request", HttpStatus.BAD_REQUEST),
    /** No resource with this id or path; {@code resource} names its kind when known. */
    NOT_FOUND("not-found", "Resource not found", HttpStatus.NOT_FOUND),
    /** The request clashes with the resource's state (a job not yet SUCCEEDED, an artifact in use, a reused key). */
    CONFLICT("conflict", "Conflict with the current state", HttpStatus.CONFLICT),
    /** The upload exceeds {@code qalora.uploads.max-bytes}; {@code limitBytes} says by how much it may be. */
    PAYLOAD_TOO_LARGE("payload-too-large", "Upload too large", HttpStatus.CONTENT_TOO_LARGE),
    /** A merged layer is too large to be served as JSON; download the safetensors file instead. */
    RESULT_TOO_LARGE_FOR_JSON("result-too-large-for-json", "Result too large for JSON",
            HttpStatus.UNPROCESSABLE_CONTENT),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed", HttpStatus.METHOD_NOT_ALLOWED),
    NOT_ACCEPTABLE("not-acceptable", "Not acceptable", HttpStatus.NOT_ACCEPTABLE),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type", HttpStatus.UNSUPPORTED_MEDIA_TYPE),
    /** Stored bytes no longer match their SHA-256 or length. */
    CORRUPT_DATA("corrupt-data", "Stored data is corrupt", HttpStatus.INTERNAL_SERVER_ERROR),
    SERVICE_UNAVAILABLE("service-unavailable", "Service unavailable", HttpStatus.SERVICE_UNAVAILABLE),
    /** Anything unexpected; the details are in the server log, never in the answer. */
    INTERNAL_ERROR("internal-error", "Internal server error", HttpStatus.INTERNAL_SERVER_ERROR);

    static final String BASE = "https://qalora.io/problems/";

    private final URI type;
    private final String title;
    private final HttpStatus status;

    ProblemType(String slug, String title, HttpStatus status) {
        this.type = URI.create(BASE + slug);
        this.title = title;
        this.status = status;
    }

    URI type() {
        return type;
    }

    String title() {
        return title;
    }

    HttpStatus status() {
        return status;
    }

    /**
     * The kind of problem that Spring MVC's own exceptions with this status are; null for a
     * status none of them uses (the problem's type stays {@code about:blank} then).
     */
    static ProblemType forStatus(HttpStatusCode status) {
        return switch (status.value()) {
            case 400 -> MALFORMED_REQUEST;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 409 -> CONFLICT;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 422 -> INVALID_PARAMETER;
            case 503 -> SERVICE_UNAVAILABLE;
            default -> status.is5xxServerError() ? INTERNAL_ERROR : null;
        };
    }
}
