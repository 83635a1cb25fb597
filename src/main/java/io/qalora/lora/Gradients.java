package io.qalora.lora;

/**
 * The gradients the last {@link QaLoraAdapter#backward} computed, as copies: {@code loraA [r, in]},
 * {@code loraB [out, r]}, and, when the base layer is trainable, {@code weight [out, in]} and
 * {@code bias [out]} (null otherwise).
 */
public record Gradients(float[] loraA, float[] loraB, float[] weight, float[] bias) {
}
