package io.qalora.lora;

import io.qalora.QaLoraException;

/** The listener asked the run to stop; it stopped before the given step. */
public class TrainingCancelledException extends QaLoraException {

    public TrainingCancelledException(long step) {
        super("training cancelled before step " + (step + 1));
    }
}
