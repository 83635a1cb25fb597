package io.qalora.job;

/** How far a job's training got: steps done of all, and the current epoch (from 1; 0 before). */
public record Progress(long step, long totalSteps, int epoch) {

    public static final Progress NONE = new Progress(0, 0, 0);
}
