package io.qalora.job;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Jobs, their events and results. The job table is the queue: {@link #claimNext} takes the oldest
 * QUEUED job with {@code SELECT ... FOR UPDATE SKIP LOCKED}, so replicas sharing one database
 * never claim the same job, and a lease that is not renewed by {@link #heartbeat} expires.
 */
public interface JobRepository {

    /** A stored job with the idempotency fingerprint of the request that created it. */
    record Keyed(Job job, String requestHash) {
    }

    /** What a heartbeat learned: whether this worker still holds the lease, and whether a cancel was asked. */
    record Heartbeat(boolean leaseHeld, boolean cancelRequested) {
    }

    /** Inserts a QUEUED job; a duplicate idempotency key throws {@code DuplicateKeyException}. */
    void insert(Job job, String idempotencyKey, String requestHash);

    /**
     * Inserts a job that already ran (a merge done within its request) as SUCCEEDED, with its
     * result, in the caller's transaction; a duplicate idempotency key throws {@code DuplicateKeyException}.
     */
    void insertSucceeded(Job job, String idempotencyKey, String requestHash, StoredResult result);

    Optional<Job> find(UUID id);

    Optional<Keyed> findByIdempotencyKey(String key);

    /** Newest first (createdAt, then id, descending), optionally of one status; {@code after} is a cursor id. */
    Page<Job> list(JobStatus status, JobKind kind, int limit, UUID after);

    /** Atomically moves the oldest QUEUED job to RUNNING under a lease held by {@code owner}. */
    Optional<Job> claimNext(String owner, Duration lease, Instant now);

    /** Renews the lease and records progress; tells whether the lease is still this owner's. */
    Heartbeat heartbeat(UUID id, String owner, Duration lease, Instant now, Progress progress, Double trainLoss);

    /**
     * Asks a job to stop: QUEUED becomes CANCELLED at once, RUNNING gets its cancel flag set (the
     * worker stops within a step). Terminal jobs are left as they are. Returns the job afterwards.
     */
    Optional<Job> requestCancel(UUID id, Instant now);

    /**
     * Ends a RUNNING job held by {@code owner}: the status, error, final losses and (for
     * SUCCEEDED) the result in one transaction. Returns false when the lease was lost meanwhile.
     */
    boolean finish(UUID id, String owner, JobStatus status, JobError error, Double trainLoss, Double validationLoss,
            StoredResult result, Instant now);

    /** Hands a RUNNING job back to the queue (graceful shutdown). */
    boolean release(UUID id, String owner);

    /**
     * Requeues RUNNING jobs whose lease expired before {@code now}; those that already had
     * {@code maxAttempts} attempts become FAILED with code LEASE_EXPIRED. Returns the affected ids.
     */
    List<UUID> requeueExpired(Instant now, int maxAttempts);

    void appendEvents(List<JobEvent> events);

    /** Events of a job with id greater than {@code after}, ascending, at most {@code limit}. */
    List<JobEvent> events(UUID jobId, long after, int limit);

    Optional<StoredResult> result(UUID jobId);

    long countByStatus(JobStatus status);

    /** Whether a QUEUED or RUNNING job uses the layer. */
    boolean layerInUse(UUID layerId);

    /** Whether a QUEUED or RUNNING job uses the dataset (for training, validation or calibration). */
    boolean datasetInUse(UUID datasetId);
}
