package io.qalora.job;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A job running on this instance: its progress for the heartbeats, and why it should stop.
 * {@code cancelled} is a user's cancel; {@code handBack} is a shutdown or a lost lease, after
 * which the job is not finished here.
 */
final class RunningJob {

    final UUID id;
    final AtomicBoolean cancelled;
    final AtomicBoolean handBack = new AtomicBoolean();
    volatile Progress progress = Progress.NONE;
    volatile Double trainLoss;

    RunningJob(UUID id, AtomicBoolean cancelled) {
        this.id = id;
        this.cancelled = cancelled;
    }

    boolean shouldStop() {
        return cancelled.get() || handBack.get();
    }
}
