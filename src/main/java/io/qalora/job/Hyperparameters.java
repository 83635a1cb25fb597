package io.qalora.job;

import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;

/**
 * A job's resolved hyperparameters: every default filled in, the seed drawn, alpha resolved.
 * {@code maxGradNorm} null means no clipping; {@code mergeQuantizer} quantizes the merged layer
 * (RTN, or GPTQ calibrated on the training inputs).
 */
public record Hyperparameters(int rank, double alpha, boolean rsLora, int quantizationBits, int groupSize,
        boolean symmetric, QuantizationTarget quantizationTarget, boolean quantizationEnabled,
        int quantizationWarmupSteps, boolean freezeBaseLayer, double learningRate, int epochs, int batchSize,
        OptimizerKind optimizer, Double maxGradNorm, long seed, QuantizerKind mergeQuantizer) {

    public Hyperparameters {
        // Jobs stored before mergeQuantizer existed were merged with RTN.
        mergeQuantizer = mergeQuantizer == null ? QuantizerKind.RTN : mergeQuantizer;
    }

    public QuantSpec quantSpec() {
        return new QuantSpec(quantizationBits, groupSize, symmetric);
    }

    /** The engine's config for this job; the base-output cache is the engine's default. */
    public TrainingConfig toTrainingConfig() {
        return TrainingConfig.builder().rank(rank).alpha(alpha).rsLora(rsLora).quant(quantSpec())
                .target(quantizationTarget).quantizationEnabled(quantizationEnabled)
                .quantizationWarmupSteps(quantizationWarmupSteps).freezeBaseLayer(freezeBaseLayer)
                .optimizer(optimizer).learningRate(learningRate).epochs(epochs).batchSize(batchSize)
                .maxGradNorm(maxGradNorm == null ? 0 : maxGradNorm).seed(seed).build();
    }
}
