package io.qalora.job;

/** A job's life: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED (and RUNNING -> QUEUED when handed back). */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
