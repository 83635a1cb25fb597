package io.qalora.job;

import io.qalora.QaLoraException;

/** An upload is larger than the configured limit (HTTP 413); nothing of it was stored. */
public class PayloadTooLargeException extends QaLoraException {

    private final long limitBytes;

    public PayloadTooLargeException(long limitBytes) {
        super("upload exceeds the limit of " + limitBytes + " bytes");
        this.limitBytes = limitBytes;
    }

    public long limitBytes() {
        return limitBytes;
    }
}
