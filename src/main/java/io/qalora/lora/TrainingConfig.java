package io.qalora.lora;

import static io.qalora.InvalidParameterException.require;

import io.qalora.quant.QuantSpec;

/**
 * Everything that decides a training run. Same config, same data, same BLAS thread count: the
 * same result, bit for bit.
 *
 * @param rank LoRA rank r
 * @param alpha LoRA alpha; {@code <= 0} means {@code rank}
 * @param rsLora scale by {@code alpha / sqrt(r)} instead of {@code alpha / r}
 * @param quant bits, group size and symmetry of the fake and the deployed quantization
 * @param target where fake quantization sits during training
 * @param quantizationEnabled whether training fake-quantizes at all (false: plain LoRA)
 * @param quantizationWarmupSteps steps trained without quantization first
 * @param freezeBaseLayer train only A and B (true) or W and b too; POOLED_ZERO_POINT needs true
 * @param optimizer ADAM (beta1 0.9, beta2 0.999, eps 1e-8) or SGD
 * @param learningRate step size (the peak, under a schedule)
 * @param schedule how the step size changes over the run's steps
 * @param epochs passes over the data
 * @param batchSize rows per step; the last batch of an epoch may be smaller
 * @param maxGradNorm clip the global gradient norm to this; {@code <= 0} disables clipping
 * @param seed seeds A's initialisation and the per-epoch shuffles
 * @param cacheBaseOutputs compute {@code x W^T + b} once per sample when the base is frozen (for
 *     POOLED_ZERO_POINT with quantization on, {@code x deq(W)^T + b})
 */
public record TrainingConfig(int rank, double alpha, boolean rsLora, QuantSpec quant, QuantizationTarget target,
        boolean quantizationEnabled, int quantizationWarmupSteps, boolean freezeBaseLayer, OptimizerKind optimizer,
        double learningRate, LearningRateSchedule schedule, int epochs, int batchSize, double maxGradNorm, long seed,
        boolean cacheBaseOutputs) {

    /** The optimizer of a run. */
    public enum OptimizerKind { ADAM, SGD }

    public TrainingConfig {
        require(rank >= 1, "rank", "must be at least 1, was " + rank);
        require(Double.isFinite(alpha), "alpha", "must be finite");
        require(quant != null, "quant", "must not be null");
        require(target != null, "quantizationTarget", "must not be null");
        require(quantizationWarmupSteps >= 0, "quantizationWarmupSteps", "must be >= 0, was " + quantizationWarmupSteps);
        require(optimizer != null, "optimizer", "must not be null");
        require(Double.isFinite(learningRate) && learningRate > 0, "learningRate", "must be a positive number, was " + learningRate);
        require(schedule != null, "learningRateSchedule", "must not be null");
        require(epochs >= 1, "epochs", "must be at least 1, was " + epochs);
        require(batchSize >= 1, "batchSize", "must be at least 1, was " + batchSize);
        require(Double.isFinite(maxGradNorm), "maxGradNorm", "must be finite");
    }

    /**
     * Rank 8, alpha 16, 4-bit asymmetric groups of 64, MERGED_WEIGHTS, Adam 1e-3 with cosine
     * annealing, 3 epochs, batch 32: the target and schedule that deployed best in the README's
     * quality study.
     */
    public static TrainingConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to change a few of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.rank = rank;
        b.alpha = alpha;
        b.rsLora = rsLora;
        b.quant = quant;
        b.target = target;
        b.quantizationEnabled = quantizationEnabled;
        b.quantizationWarmupSteps = quantizationWarmupSteps;
        b.freezeBaseLayer = freezeBaseLayer;
        b.optimizer = optimizer;
        b.learningRate = learningRate;
        b.schedule = schedule;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.maxGradNorm = maxGradNorm;
        b.seed = seed;
        b.cacheBaseOutputs = cacheBaseOutputs;
        return b;
    }

    /**
     * The same run as plain LoRA, the LoRA+PTQ baseline: quantization off, and for POOLED_ZERO_POINT
     * a standard LoRA ({@code A [r, in]}, LORA_FACTORS), as a pooled A cannot be merged and then
     * quantized anew. The other targets keep theirs, which without quantization train alike.
     */
    public TrainingConfig plainLora() {
        Builder plain = toBuilder().quantizationEnabled(false);
        if (target == QuantizationTarget.POOLED_ZERO_POINT) {
            plain.target(QuantizationTarget.LORA_FACTORS);
        }
        return plain.build();
    }

    /** Steps of a run on {@code rows} samples: {@code epochs * ceil(rows / batchSize)}. */
    public long totalSteps(int rows) {
        return (long) epochs * ((rows + batchSize - 1) / batchSize);
    }

    /** Fluent construction with the defaults of {@link #defaults()}. */
    public static final class Builder {
        private int rank = 8;
        private double alpha = 16;
        private boolean rsLora;
        private QuantSpec quant = new QuantSpec(4, 64, false);
        private QuantizationTarget target = QuantizationTarget.MERGED_WEIGHTS;
        private boolean quantizationEnabled = true;
        private int quantizationWarmupSteps;
        private boolean freezeBaseLayer = true;
        private OptimizerKind optimizer = OptimizerKind.ADAM;
        private double learningRate = 1e-3;
        private LearningRateSchedule schedule = LearningRateSchedule.COSINE;
        private int epochs = 3;
        private int batchSize = 32;
        private double maxGradNorm;
        private long seed;
        private boolean cacheBaseOutputs = true;

        private Builder() {
        }

        public Builder rank(int v) {
            rank = v;
            return this;
        }

        public Builder alpha(double v) {
            alpha = v;
            return this;
        }

        public Builder rsLora(boolean v) {
            rsLora = v;
            return this;
        }

        public Builder quant(QuantSpec v) {
            quant = v;
            return this;
        }

        public Builder target(QuantizationTarget v) {
            target = v;
            return this;
        }

        public Builder quantizationEnabled(boolean v) {
            quantizationEnabled = v;
            return this;
        }

        public Builder quantizationWarmupSteps(int v) {
            quantizationWarmupSteps = v;
            return this;
        }

        public Builder freezeBaseLayer(boolean v) {
            freezeBaseLayer = v;
            return this;
        }

        public Builder optimizer(OptimizerKind v) {
            optimizer = v;
            return this;
        }

        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        public Builder schedule(LearningRateSchedule v) {
            schedule = v;
            return this;
        }

        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder cacheBaseOutputs(boolean v) {
            cacheBaseOutputs = v;
            return this;
        }

        public TrainingConfig build() {
            return new TrainingConfig(rank, alpha, rsLora, quant, target, quantizationEnabled, quantizationWarmupSteps,
                    freezeBaseLayer, optimizer, learningRate, schedule, epochs, batchSize, maxGradNorm, seed, cacheBaseOutputs);
        }
    }
}
