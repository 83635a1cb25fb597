package io.qalora.job;

import static io.qalora.InvalidParameterException.require;

import io.qalora.lora.LearningRateSchedule;
import io.qalora.lora.QuantizationTarget;
import io.qalora.lora.TrainingConfig.OptimizerKind;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;
import java.util.function.LongSupplier;

/**
 * Hyperparameters as a client sends them: any field may be left out (null) and takes its default.
 * Defaults: rank 8, alpha = rank (scaling 1, as the spec fixes for alpha <= 0), rsLora false,
 * 4 bits, groupSize 64, asymmetric, MERGED_WEIGHTS, quantization on, no warm-up, frozen base,
 * learningRate 1e-3, 3 epochs, batchSize 32, ADAM, no clipping, a random seed, RTN merge,
 * a COSINE learning-rate schedule. POOLED_ZERO_POINT needs a frozen base and the RTN merge (and,
 * checked against the layer, a group size that divides inFeatures).
 */
public record HyperparameterRequest(Integer rank, Double alpha, Boolean rsLora, Integer quantizationBits,
        Integer groupSize, Boolean symmetric, QuantizationTarget quantizationTarget, Boolean quantizationEnabled,
        Integer quantizationWarmupSteps, Boolean freezeBaseLayer, Double learningRate, Integer epochs,
        Integer batchSize, OptimizerKind optimizer, Double maxGradNorm, Long seed, QuantizerKind mergeQuantizer,
        LearningRateSchedule learningRateSchedule) {

    public static final HyperparameterRequest DEFAULTS = new HyperparameterRequest(null, null, null, null, null,
            null, null, null, null, null, null, null, null, null, null, null, null, null);

    public static final int MAX_EPOCHS = 10_000;

    /** Fills the defaults, draws a seed when none was given, and checks every value's range. */
    public Hyperparameters resolve(LongSupplier seeds) {
        int r = or(rank, 8);
        double a = alpha == null || alpha <= 0 ? r : alpha;
        int bits = or(quantizationBits, 4);
        int group = or(groupSize, 64);
        boolean sym = or(symmetric, false);
        require(r >= 1, "hyperparameters.rank", "must be at least 1, was " + r);
        require(Double.isFinite(a), "hyperparameters.alpha", "must be finite");
        checkQuantSpec(bits, group, sym);
        int warmup = or(quantizationWarmupSteps, 0);
        require(warmup >= 0, "hyperparameters.quantizationWarmupSteps", "must be >= 0, was " + warmup);
        double lr = learningRate == null ? 1e-3 : learningRate;
        require(Double.isFinite(lr) && lr > 0 && lr <= 10, "hyperparameters.learningRate",
                "must be in (0, 10], was " + lr);
        int e = or(epochs, 3);
        require(e >= 1 && e <= MAX_EPOCHS, "hyperparameters.epochs", "must be 1.." + MAX_EPOCHS + ", was " + e);
        int batch = or(batchSize, 32);
        require(batch >= 1, "hyperparameters.batchSize", "must be at least 1, was " + batch);
        require(maxGradNorm == null || (Double.isFinite(maxGradNorm) && maxGradNorm > 0),
                "hyperparameters.maxGradNorm", "must be a positive number or absent, was " + maxGradNorm);
        QuantizationTarget target = quantizationTarget == null ? QuantizationTarget.MERGED_WEIGHTS : quantizationTarget;
        boolean freeze = or(freezeBaseLayer, true);
        QuantizerKind merge = mergeQuantizer == null ? QuantizerKind.RTN : mergeQuantizer;
        if (target == QuantizationTarget.POOLED_ZERO_POINT) {
            require(freeze, "hyperparameters.freezeBaseLayer", "must be true with POOLED_ZERO_POINT, whose base is "
                    + "quantized once and stays frozen as integer codes");
            require(merge == QuantizerKind.RTN, "hyperparameters.mergeQuantizer", "must be RTN with POOLED_ZERO_POINT, "
                    + "whose merge moves the zero points of its RTN-quantized base, was " + merge);
        }
        return new Hyperparameters(r, a, or(rsLora, false), bits, group, sym, target,
                or(quantizationEnabled, true), warmup, freeze, lr, e, batch,
                optimizer == null ? OptimizerKind.ADAM : optimizer, maxGradNorm,
                seed == null ? seeds.getAsLong() : seed, merge,
                learningRateSchedule == null ? LearningRateSchedule.COSINE : learningRateSchedule);
    }

    private static void checkQuantSpec(int bits, int group, boolean sym) {
        try {
            new QuantSpec(bits, group, sym);
        } catch (io.qalora.InvalidParameterException e) {
            throw new io.qalora.InvalidParameterException("hyperparameters." + e.parameter(),
                    e.getMessage().substring(e.parameter().length() + 2));
        }
    }

    private static <T> T or(T value, T fallback) {
        return value == null ? fallback : value;
    }
}
