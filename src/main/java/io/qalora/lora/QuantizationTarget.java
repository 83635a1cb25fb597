package io.qalora.lora;

/**
 * Where fake quantization sits in the training forward pass ({@code QUANTIZATION.md}). Backward
 * always uses the straight-through estimator: the gradient of {@code fq} is the identity.
 */
public enum QuantizationTarget {
    /** {@code y = x W^T + b + s (x fq(A)^T) fq(B)^T}: the original adapter, deployed unmerged. */
    LORA_FACTORS,
    /** {@code y = x fq(W + s B A)^T + b}: training sees the error of the merged layer it deploys. */
    MERGED_WEIGHTS,
    /**
     * {@code y = x deq(W)^T + b + s (pool(x) A^T) B^T}, the QA-LoRA paper's form: W quantized once
     * and frozen, {@code A [r, in/g]} reading the group sums of the input ({@code in % g == 0}); the
     * merge moves only the zero points, {@code zero' = zero - s (B A) / scale} (float zero points).
     */
    POOLED_ZERO_POINT
}
