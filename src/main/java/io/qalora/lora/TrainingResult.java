package io.qalora.lora;

/**
 * What a training run leaves: the trained adapter (the caller closes it), the steps taken, the
 * mean loss of each epoch, and the wall time.
 */
public record TrainingResult(QaLoraAdapter adapter, long steps, double[] epochLosses, long durationNanos,
        boolean baseOutputsCached) {

    /** The mean loss of the last epoch. */
    public double finalLoss() {
        return epochLosses[epochLosses.length - 1];
    }
}
