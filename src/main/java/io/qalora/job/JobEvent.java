package io.qalora.job;

import java.time.Instant;
import java.util.UUID;

/**
 * One entry of a job's event log, in order of {@code id} (ascending across the whole store, so a
 * client resumes with {@code after=<last id>}).
 */
public record JobEvent(long id, UUID jobId, JobEventType type, Instant at, Long step, Integer epoch, Double loss,
        String message) {

    /** A new event, before the store assigns its id. */
    public static JobEvent of(UUID jobId, JobEventType type, Instant at, Long step, Integer epoch, Double loss,
            String message) {
        return new JobEvent(0, jobId, type, at, step, epoch, loss, message);
    }
}
