package io.qalora.job;

import java.io.InputStream;
import java.util.UUID;

/**
 * Large byte streams (weights, datasets, results) stored in the database in fixed-size chunks,
 * so no upload or download ever needs its whole size in memory and every replica sees every byte.
 */
public interface BlobStore {

    /**
     * Reads {@code in} to its end and stores it. Runs in the caller's transaction, so a failure
     * anywhere before commit leaves nothing behind.
     *
     * @throws PayloadTooLargeException as soon as more than {@code maxBytes} arrive
     */
    BlobRef write(InputStream in, long maxBytes);

    /**
     * Streams the blob's bytes, fetching a chunk at a time. At the end the SHA-256 and length are
     * checked against {@code blob}, and a mismatch throws {@link CorruptBlobException}.
     */
    InputStream open(BlobRef blob);

    void delete(UUID blobId);
}
