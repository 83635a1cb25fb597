package io.qalora.lora;

/**
 * Where fake quantization sits in the training forward pass ({@code QUANTIZATION.md}). Backward
 * always uses the straight-through estimator: the gradient of {@code fq} is the identity.
 */
public enum QuantizationTarget {
    /** {@code y = x W^T + b + s (x fq(A)^T) fq(B)^T}: the original adapter, deployed unmerged. */
    LORA_FACTORS,
    /** {@code y = x fq(W + s B A)^T + b}: training sees the error of the merged layer it deploys. */
    MERGED_WEIGHTS
}
