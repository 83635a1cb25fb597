package io.qalora.job;

/** What a job does: train an adapter on a layer, or merge an uploaded adapter into it. */
public enum JobKind {
    /** Trains a QA-LoRA adapter, then merges and quantizes it ({@link Job#hyperparameters()}). */
    TRAINING,
    /** Merges an uploaded adapter into the layer and quantizes the result ({@link Job#merge()}). */
    MERGE
}
