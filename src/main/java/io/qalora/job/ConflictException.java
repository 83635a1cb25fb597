package io.qalora.job;

import io.qalora.QaLoraException;

/** The request is valid but clashes with the resource's current state (HTTP 409). */
public class ConflictException extends QaLoraException {

    public ConflictException(String message) {
        super(message);
    }
}
