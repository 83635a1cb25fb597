package io.qalora.job;

import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizerKind;
import java.util.UUID;

/**
 * A merge job's resolved settings: the uploaded adapter, stored as the service's adapter file
 * ({@code lora_A [r, in]}, {@code lora_B [out, r]}), its shape and scaling, and how the merged
 * weight {@code W + s B A} is quantized.
 *
 * @param adapter the stored adapter file; it is also the job's result adapter
 * @param module the module the adapter came from (PEFT), or null for factors sent as JSON
 * @param alpha resolved: a request's {@code alpha <= 0} or absent is {@code rank}
 * @param calibrationDatasetId the inputs GPTQ calibrates on; null for RTN
 */
public record MergeSettings(BlobRef adapter, String module, int rank, double alpha, boolean rsLora,
        int quantizationBits, int groupSize, boolean symmetric, QuantizerKind quantizer, UUID calibrationDatasetId) {

    public QuantSpec quantSpec() {
        return new QuantSpec(quantizationBits, groupSize, symmetric);
    }

    /** {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA, in float32 as the engine computes it. */
    public float scaling() {
        return rsLora ? (float) ((float) alpha / Math.sqrt(rank)) : (float) alpha / rank;
    }
}
