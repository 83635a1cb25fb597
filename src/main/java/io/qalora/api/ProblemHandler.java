package io.qalora.api;

import io.qalora.InvalidParameterException;
import io.qalora.QaLoraException;
import io.qalora.job.ConflictException;
import io.qalora.job.CorruptBlobException;
import io.qalora.job.NotFoundException;
import io.qalora.job.PayloadTooLargeException;
import io.qalora.tensor.SafetensorsException;
import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Instant;
import java.time.temporal.Temporal;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.InvalidNullException;
import tools.jackson.databind.exc.InvalidFormatException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * The one mapping of failures to RFC 9457 problem responses: the service's exception tree, and
 * Spring MVC's own exceptions (inherited handlers, decorated in {@link #handleExceptionInternal}),
 * each to a {@link ProblemType} with a stable {@code type} URI, a title, the request path as
 * {@code instance}, and where it helps a property naming the culprit ({@code field}, {@code tensor}
 * and {@code rule}, {@code resource}, {@code limitBytes}). Server errors are logged with their stack
 * trace here and answered without one.
 */
@Hidden
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);
    /** What a 503 for an unreachable database tells clients to wait: about one pool connection timeout. */
    private static final int RETRY_AFTER_SECONDS = 5;

    /** A problem thrown from a controller for a condition that has no exception in the service. */
    static ErrorResponseException problem(ProblemType type, String detail, Map<String, ?> properties) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(type.status(), detail);
        body.setType(type.type());
        body.setTitle(type.title());
        properties.forEach(body::setProperty);
        return new ErrorResponseException(type.status(), body, null);
    }

    @ExceptionHandler
    ResponseEntity<Object> invalidParameter(InvalidParameterException e, WebRequest request) {
        return answer(e, ProblemType.INVALID_PARAMETER, e.getMessage(), request, "field", e.parameter());
    }

    @ExceptionHandler
    ResponseEntity<Object> invalidSafetensors(SafetensorsException e, WebRequest request) {
        return answer(e, ProblemType.INVALID_SAFETENSORS, e.getMessage(), request, "rule", e.rule().name(),
                "tensor", e.tensorName());
    }

    @ExceptionHandler
    ResponseEntity<Object> notFound(NotFoundException e, WebRequest request) {
        return answer(e, ProblemType.NOT_FOUND, e.getMessage(), request, "resource", e.resource());
    }

    @ExceptionHandler
    ResponseEntity<Object> conflict(ConflictException e, WebRequest request) {
        return answer(e, ProblemType.CONFLICT, e.getMessage(), request);
    }

    @ExceptionHandler
    ResponseEntity<Object> payloadTooLarge(PayloadTooLargeException e, WebRequest request) {
        return answer(e, ProblemType.PAYLOAD_TOO_LARGE, e.getMessage(), request, "limitBytes", e.limitBytes());
    }

    @ExceptionHandler
    ResponseEntity<Object> corruptBlob(CorruptBlobException e, WebRequest request) {
        log.error("{} {}: stored data is corrupt", method(request), path(request), e);
        return answer(e, ProblemType.CORRUPT_DATA, e.getMessage() + "; it is not served", request);
    }

    /** A multipart body that cannot be parsed (its size limit has its own inherited handler). */
    @ExceptionHandler
    ResponseEntity<Object> badMultipart(MultipartException e, WebRequest request) {
        return answer(e, ProblemType.MALFORMED_REQUEST, "the multipart body cannot be read", request);
    }

    /**
     * The database cannot be reached or gives no connection in time: nothing is wrong with the
     * request, and the same request may succeed shortly, so 503 with a Retry-After.
     */
    @ExceptionHandler({DataAccessResourceFailureException.class, TransientDataAccessResourceException.class,
            CannotCreateTransactionException.class})
    ResponseEntity<Object> databaseUnavailable(Exception e, WebRequest request) {
        String incident = UUID.randomUUID().toString();
        log.warn("{} {}: the database is unavailable (incident {})", method(request), path(request), incident, e);
        ProblemDetail body = ProblemDetail.forStatusAndDetail(ProblemType.SERVICE_UNAVAILABLE.status(),
                "the database is unavailable; retry later (incident " + incident + ")");
        body.setType(ProblemType.SERVICE_UNAVAILABLE.type());
        body.setTitle(ProblemType.SERVICE_UNAVAILABLE.title());
        body.setProperty("incident", incident);
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, String.valueOf(RETRY_AFTER_SECONDS));
        return handleExceptionInternal(e, body, headers, ProblemType.SERVICE_UNAVAILABLE.status(), request);
    }

    /** Any other failure, of the service's tree or not: a bug, so the log has it and the client only an id. */
    @ExceptionHandler({QaLoraException.class, Exception.class})
    ResponseEntity<Object> unexpected(Exception e, WebRequest request) {
        String incident = UUID.randomUUID().toString();
        log.error("{} {} failed (incident {})", method(request), path(request), incident, e);
        return answer(e, ProblemType.INTERNAL_ERROR,
                "an unexpected error occurred; the server log has it under incident " + incident, request,
                "incident", incident);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        JacksonException jackson = cause(ex, JacksonException.class);
        String field = jackson == null ? null : field(jackson.getPath());
        String reason = jackson == null ? unreadable(ex) : reason(jackson);
        // A syntax error's path only says where parsing stopped; the reason stands alone.
        boolean syntax = jackson instanceof StreamReadException && !(jackson instanceof InputCoercionException);
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status,
                field == null || syntax ? reason : field + ": " + reason);
        if (field != null) {
            body.setProperty("field", field);
        }
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleTypeMismatch(TypeMismatchException ex, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        String name = ex instanceof MethodArgumentTypeMismatchException m ? m.getName() : ex.getPropertyName();
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status,
                name + ": '" + ex.getValue() + "' is not " + describe(ex.getRequiredType()));
        body.setProperty("field", name);
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleMissingServletRequestParameter(MissingServletRequestParameterException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status, ex.getParameterName() + ": is required");
        body.setProperty("field", ex.getParameterName());
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleMissingServletRequestPart(MissingServletRequestPartException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status,
                ex.getRequestPartName() + ": the multipart part is required");
        body.setProperty("field", ex.getRequestPartName());
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleMaxUploadSizeExceededException(MaxUploadSizeExceededException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status,
                "the multipart upload exceeds the server's part size limit");
        if (ex.getMaxUploadSize() > 0) {
            body.setProperty("limitBytes", ex.getMaxUploadSize());
        }
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    @Override
    protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException ex, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status,
                "nothing at " + ex.getHttpMethod() + " /" + ex.getResourcePath());
        return handleExceptionInternal(ex, body, headers, status, request);
    }

    /**
     * Every answer passes here: the inherited handlers, which leave Spring's generic
     * {@code about:blank} problems, and this class's own. Fills in type, title and instance.
     */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        ResponseEntity<Object> answer = super.handleExceptionInternal(ex, body, headers, status, request);
        if (answer != null && answer.getBody() instanceof ProblemDetail problem) {
            if (problem.getType() == null || "about:blank".equals(problem.getType().toString())) {
                ProblemType kind = ProblemType.forStatus(answer.getStatusCode());
                if (kind != null) {
                    problem.setType(kind.type());
                    problem.setTitle(kind.title());
                }
            }
            if (problem.getInstance() == null && path(request) != null) {
                problem.setInstance(URI.create(path(request)));
            }
            if (answer.getStatusCode().is4xxClientError() && log.isDebugEnabled()) {
                log.debug("{} {} -> {}: {}", method(request), path(request), answer.getStatusCode().value(),
                        problem.getDetail());
            }
        }
        return answer;
    }

    private ResponseEntity<Object> answer(Exception e, ProblemType type, String detail, WebRequest request,
            Object... properties) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(type.status(), detail);
        body.setType(type.type());
        body.setTitle(type.title());
        for (int i = 0; i < properties.length; i += 2) {
            if (properties[i + 1] != null) {
                body.setProperty((String) properties[i], properties[i + 1]);
            }
        }
        return handleExceptionInternal(e, body, new HttpHeaders(), type.status(), request);
    }

    /** The JSON path as the client wrote it: {@code hyperparameters.optimizer}, {@code weight[1][0]}. */
    static String field(List<JacksonException.Reference> path) {
        StringBuilder field = new StringBuilder();
        for (JacksonException.Reference ref : path) {
            if (ref.getPropertyName() != null) {
                if (!field.isEmpty()) {
                    field.append('.');
                }
                field.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                field.append('[').append(ref.getIndex()).append(']');
            }
        }
        return field.isEmpty() ? null : field.toString();
    }

    /** Why Jackson refused the body, in the client's terms (JSON types), not Java class names. */
    private static String reason(JacksonException e) {
        if (e instanceof UnrecognizedPropertyException) {
            return "is not a known property";
        }
        if (e instanceof InvalidFormatException f) {
            return "'" + f.getValue() + "' is not " + describe(f.getTargetType());
        }
        if (e instanceof InvalidNullException) {
            return "must not be null";
        }
        if (e instanceof MismatchedInputException m) {
            if (m.getCurrentToken() == JsonToken.VALUE_NULL) {
                return "must not be null";
            }
            Class<?> target = m.getTargetType();
            // A primitive array's deserializer reports its element's problem against the array type.
            boolean element = !e.getPath().isEmpty() && e.getPath().get(e.getPath().size() - 1).getIndex() >= 0;
            return "has the wrong JSON type; expected "
                    + describe(element && target != null && target.isArray() ? target.getComponentType() : target);
        }
        if (e instanceof InputCoercionException c) {
            return "is out of range for " + describe(c.getTargetType());
        }
        if (e instanceof StreamReadException) {
            var at = e.getLocation();
            return "the body is not well-formed JSON: " + withoutSource(e.getOriginalMessage())
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
        }
        return "the value cannot be read";
    }

    /** Jackson's messages may quote the input's source location, which says nothing to a client. */
    private static String withoutSource(String message) {
        return message == null ? "" : message.replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "")
                .replaceAll("\\s*at \\[Source:[^\\]]*\\]", "").strip();
    }

    private static String unreadable(HttpMessageNotReadableException e) {
        String message = e.getMessage();
        return message != null && message.startsWith("Required request body is missing")
                ? "the request body is missing" : "the request body cannot be read";
    }

    /** "a number", "one of [ADAM, SGD]", ... for a Java type a client sends as JSON or text. */
    static String describe(Class<?> type) {
        if (type == null) {
            return "a valid value";
        }
        if (type.isEnum()) {
            return "one of " + Arrays.toString(type.getEnumConstants());
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == UUID.class) {
            return "a UUID";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Instant.class || Temporal.class.isAssignableFrom(type)) {
            return "an ISO-8601 timestamp";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "an object";
    }

    private static <T extends Throwable> T cause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String path(WebRequest request) {
        HttpServletRequest servlet = request instanceof ServletWebRequest s ? s.getRequest() : null;
        return servlet == null ? null : servlet.getRequestURI();
    }

    private static String method(WebRequest request) {
        return request instanceof ServletWebRequest s ? s.getRequest().getMethod() : "?";
    }
}
