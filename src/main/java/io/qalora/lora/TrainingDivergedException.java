package io.qalora.lora;

import io.qalora.QaLoraException;

/** The loss became NaN or infinite; the run stopped at that step. */
public class TrainingDivergedException extends QaLoraException {

    private final long step;

    public TrainingDivergedException(long step, double loss) {
        super("training diverged at step " + step + ": loss is " + loss
                + "; lower the learningRate or set maxGradNorm");
        this.step = step;
    }

    public long step() {
        return step;
    }
}
