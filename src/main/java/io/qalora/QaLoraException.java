package io.qalora;

/**
 * Root of every exception this service throws on purpose. The web layer maps each subtype once to
 * an RFC 9457 problem response, so a new failure mode only needs a new subtype and one mapping.
 */
public abstract class QaLoraException extends RuntimeException {

    protected QaLoraException(String message) {
        super(message);
    }

    protected QaLoraException(String message, Throwable cause) {
        super(message, cause);
    }
}
