package io.qalora.job;

import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;

/**
 * A job's resolved hyperparameters: every default filled in, the seed drawn, alpha resolved.
 * {@code maxGradNorm} null means no clipping; {@code mergeQuantizer} quantizes the merged layer
 * (RTN, or GPTQ calibrated on the training inputs); {@code learningRateSchedule} null (jobs stored
 * before it existed) means CONSTANT.
 */
public record Hyperparameters(int rank, double alpha, boolean rsLora, int quantizationBits, int groupSize,
        boolean symmetric, QuantizationTarget quantizationTarget, boolean quantizationEnabled,
        int quantizationWarmupSteps, boolean freezeBaseLayer, double learningRate, int epochs, int batchSize,
        OptimizerKind optimizer, Double maxGradNorm, long seed, QuantizerKind mergeQuantizer,
        LearningRateSchedule learningRateSchedule) {

    public Hyperparameters {
        // Jobs stored before these fields existed were merged with RTN and trained at a constant rate.
        mergeQuantizer = mergeQuantizer == null ? QuantizerKind.RTN : mergeQuantizer;
        learningRateSchedule = learningRateSchedule == null ? LearningRateSchedule.CONSTANT : learningRateSchedule;
    }

    public QuantSpec quantSpec() {
        return new QuantSpec(quantizationBits, groupSize, symmetric);
    }

    /** The engine's config for this job; the base-output cache is the engine's default. */
    public TrainingConfig toTrainingConfig() {
        return TrainingConfig.builder().rank(rank).alpha(alpha).rsLora(rsLora).quant(quantSpec())
                .target(quantizationTarget).quantizationEnabled(quantizationEnabled)
                .quantizationWarmupSteps(quantizationWarmupSteps).freezeBaseLayer(freezeBaseLayer)
                .optimizer(optimizer).learningRate(learningRate).schedule(learningRateSchedule).epochs(epochs).batchSize(batchSize)
                .maxGradNorm(maxGradNorm == null ? 0 : maxGradNorm).seed(seed).build();
    }
}
