package io.qalora.job;

import io.qalora.QaLoraException;
import java.util.UUID;

/** A stored blob read back with another SHA-256 or length than it was written with. */
public class CorruptBlobException extends QaLoraException {

    public CorruptBlobException(UUID blobId, String detail) {
        super("blob " + blobId + " is corrupt: " + detail);
    }
}
