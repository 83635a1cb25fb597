package io.qalora.job;

import static io.qalora.InvalidParameterException.require;

import java.util.Map;
import java.util.Optional;

/** The rules every submission shares, training or merge: idempotency keys and metadata. */
final class Submissions {

    private static final int MAX_METADATA = 50;

    private Submissions() {
    }

    static void checkIdempotencyKey(String key) {
        require(!key.isBlank() && key.length() <= 200, "Idempotency-Key", "must be 1..200 characters");
    }

    /**
     * The job an earlier request with this key created, if any; a conflict when that request's
     * fingerprint differs from this one's.
     */
    static Optional<JobService.Submitted> replay(JobRepository jobs, String key, String fingerprint) {
        return jobs.findByIdempotencyKey(key).map(keyed -> {
            if (!keyed.requestHash().equals(fingerprint)) {
                throw new ConflictException("Idempotency-Key " + key + " was used for a different request (job "
                        + keyed.job().id() + ")");
            }
            return new JobService.Submitted(keyed.job(), false);
        });
    }

    static void checkMetadata(Map<String, String> metadata) {
        require(metadata.size() <= MAX_METADATA, "metadata", "holds at most " + MAX_METADATA + " entries");
        metadata.forEach((k, v) -> require(k != null && !k.isEmpty() && k.length() <= 100 && v != null
                && v.length() <= 1000, "metadata", "keys must be 1..100 characters and values at most 1000"));
    }
}
