package io.qalora.api;

import io.qalora.job.HyperparameterRequest;
import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantizerKind;
import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.annotation.JsonDeserialize;

@Schema(name = "HyperparameterSettings", description = "Training and quantization settings as requested. Every "
        + "field is optional and takes the default given with it; the job reports the resolved values.")
record HyperparameterSettings(
        @Schema(description = "LoRA rank r, 1 to min(inFeatures, outFeatures). Default 8.", example = "2")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer rank,
        @Schema(description = "LoRA alpha; the update is scaled by alpha / r (alpha / sqrt(r) with rsLora). "
                + "Absent or <= 0 means alpha = r (scaling 1).", example = "4.0") Double alpha,
        @Schema(description = "Rank-stabilised scaling alpha / sqrt(r) instead of alpha / r. Default false.",
                example = "false") Boolean rsLora,
        @Schema(description = "Bits per quantized value, 1 to 16 (1 only asymmetric). Default 4.", example = "4")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer quantizationBits,
        @Schema(description = "Consecutive values of a row that share one scale and zero point (the last group "
                + "of a row may be shorter). Default 64.", example = "2")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer groupSize,
        @Schema(description = "Symmetric quantization around 0 instead of asymmetric min-max with a zero point. "
                + "Default false.", example = "false") Boolean symmetric,
        @Schema(description = "Where quantization sits in training: the LoRA factors (LORA_FACTORS), the merged "
                + "weight W + s B A (MERGED_WEIGHTS), or the QA-LoRA paper's POOLED_ZERO_POINT: W quantized once "
                + "and frozen, A [r, inFeatures / groupSize] reading group sums of the input, and a merge that "
                + "moves only the zero points (float zero points; the result reports the cost of rounding them). "
                + "POOLED_ZERO_POINT needs a groupSize that divides inFeatures, freezeBaseLayer true and "
                + "mergeQuantizer RTN. Default MERGED_WEIGHTS (see the README's quality study).",
                example = "MERGED_WEIGHTS")
        QuantizationTarget quantizationTarget,
        @Schema(description = "Whether training quantizes at all (false: plain LoRA). Default true.",
                example = "true") Boolean quantizationEnabled,
        @Schema(description = "Steps trained in full precision before quantization starts, 0 or more. Default 0.",
                example = "0")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer quantizationWarmupSteps,
        @Schema(description = "Whether the base weight W stays frozen. Default true.", example = "true")
        Boolean freezeBaseLayer,
        @Schema(description = "Learning rate, in (0, 10]. Default 0.001.", example = "0.05") Double learningRate,
        @Schema(description = "Passes over the training set, 1 to 10000. Default 3.", example = "50")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer epochs,
        @Schema(description = "Examples per step, 1 or more. Default 32.", example = "4")
        @JsonDeserialize(using = StrictIntegers.Int.class) Integer batchSize,
        @Schema(description = "The optimizer. Default ADAM.", example = "ADAM") OptimizerKind optimizer,
        @Schema(description = "Clip the gradient to this L2 norm; absent for no clipping.", example = "1.0")
        Double maxGradNorm,
        @Schema(description = "Seed of every random choice (initialisation, shuffling); absent draws one, "
                + "below 2^53, that the job reports.", example = "42")
        @JsonDeserialize(using = StrictIntegers.Long.class) Long seed,
        @Schema(description = "How the merged weight W + s B A is quantized for deployment: RTN (round to "
                + "nearest, the spec's group quantizer) or GPTQ (Frantar et al. 2022, calibrated on the job's "
                + "training inputs; groups along the input, no act-order, 1% damping). Default RTN.",
                example = "RTN") QuantizerKind mergeQuantizer,
        @Schema(description = "How the learning rate changes over the run: CONSTANT, or COSINE annealing from "
                + "learningRate to zero over all steps, so the last steps move weights by less than a quantization "
                + "step (see the README's quality study). Default COSINE.", example = "COSINE")
        LearningRateSchedule learningRateSchedule) {

    HyperparameterRequest toRequest() {
        return new HyperparameterRequest(rank, alpha, rsLora, quantizationBits, groupSize, symmetric,
                quantizationTarget, quantizationEnabled, quantizationWarmupSteps, freezeBaseLayer, learningRate, epochs,
                batchSize, optimizer, maxGradNorm, seed, mergeQuantizer, learningRateSchedule);
    }
}
