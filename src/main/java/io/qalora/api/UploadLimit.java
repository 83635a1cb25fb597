package io.qalora.api;

import io.qalora.job.PayloadTooLargeException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.MediaType;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Refuses an upload whose declared length exceeds {@code qalora.uploads.max-bytes} before a byte of
 * it is read. For raw safetensors bodies the storage enforces the same limit while streaming, so
 * this only answers sooner; for JSON bodies, which are parsed whole into memory, it is what bounds
 * that memory. Multipart bodies are parsed into temporary files before any interceptor runs, so
 * for them the limit applies to the stored file.
 */
final class UploadLimit implements HandlerInterceptor {

    private final long maxBytes;

    UploadLimit(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        String contentType = request.getContentType();
        boolean multipart = contentType != null
                && contentType.regionMatches(true, 0, MediaType.MULTIPART_FORM_DATA_VALUE, 0,
                        MediaType.MULTIPART_FORM_DATA_VALUE.length());
        if ("POST".equals(request.getMethod()) && !multipart && request.getContentLengthLong() > maxBytes) {
            throw new PayloadTooLargeException(maxBytes);
        }
        return true;
    }
}
