package io.qalora.job;

/** Kinds of entries in a job's event log. */
public enum JobEventType {
    /** A status change; {@code message} names the new status. */
    STATE,
    /** A training step: step, epoch and the batch loss. */
    STEP,
    /** An epoch finished: its mean loss. */
    EPOCH,
    /** A remark from the trainer or the worker. */
    NOTE
}
