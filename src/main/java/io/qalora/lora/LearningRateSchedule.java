package io.qalora.lora;

/** How the learning rate changes over a run: a multiplier of the configured (peak) rate per step. */
public enum LearningRateSchedule {
    /** The configured rate at every step. */
    CONSTANT,
    /**
     * Cosine annealing from the configured rate to zero over the run (SGDR without restarts). Under
     * fake quantization the late steps then move the weights by less than a quantization step, so
     * the straight-through estimator stops flipping codes back and forth.
     */
    COSINE;

    /** The multiplier for the 0-based {@code step} of a run of {@code totalSteps}. */
    public double factor(long step, long totalSteps) {
        if (this == CONSTANT || totalSteps <= 1) {
            return 1;
        }
        return 0.5 * (1 + Math.cos(Math.PI * step / totalSteps));
    }
}
