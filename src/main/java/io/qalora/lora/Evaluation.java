package io.qalora.lora;

/**
 * An adapter judged on one dataset: the full-precision merged layer {@code W + sBA}, the
 * quantized merged layer that is deployed, the base layer alone, and optionally plain LoRA
 * trained the same way without quantization, then merged and quantized (post-training
 * quantization, "LoRA+PTQ").
 */
public record Evaluation(Metrics fullPrecision, Metrics quantized, Metrics baseOnly, Metrics ptqBaseline) {

    public Evaluation withPtqBaseline(Metrics baseline) {
        return new Evaluation(fullPrecision, quantized, baseOnly, baseline);
    }
}
