package io.qalora.lora;

/**
 * Hears a training run as it goes, on the training thread. {@link #cancelled()} is asked before
 * every step, so a run stops within one step of a cancellation.
 */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {
    };

    default void onStep(StepEvent event) {
    }

    default void onEpoch(EpochEvent event) {
    }

    /** Notes from the trainer about how it runs (for example whether the base outputs are cached). */
    default void onNote(String note) {
    }

    default boolean cancelled() {
        return false;
    }

    /**
     * One optimizer step done.
     *
     * @param step steps done so far, from 1
     * @param totalSteps steps of the whole run
     * @param epoch the current epoch, from 1
     * @param loss the batch loss before this step's update
     * @param samples rows in this step's batch
     * @param samplesPerSecond rows of this batch divided by the step's wall time
     * @param stepSeconds the step's wall time
     * @param quantizationActive whether this step fake-quantized (false during warmup)
     * @param learningRate the step size this step used (the schedule's value)
     */
    record StepEvent(long step, long totalSteps, int epoch, double loss, int samples, double samplesPerSecond,
            double stepSeconds, boolean quantizationActive, double learningRate) {
    }

    /**
     * One pass over the data done.
     *
     * @param epoch the epoch just finished, from 1
     * @param epochs epochs of the whole run
     * @param meanLoss the mean of the epoch's batch losses, weighted by batch size
     * @param step steps done so far
     */
    record EpochEvent(int epoch, int epochs, double meanLoss, long step) {
    }
}
