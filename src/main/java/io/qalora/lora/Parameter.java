package io.qalora.lora;

/** A trainable tensor and its gradient buffer, updated in place by an {@link Optimizer}. */
record Parameter(String name, float[] value, float[] gradient) {
}
