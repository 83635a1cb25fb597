package io.qalora.lora;

/**
 * How well a layer fits a dataset: the mean loss (MSE or cross-entropy, as in training) and, for
 * class labels, the accuracy of the arg-max output (null for regression).
 */
public record Metrics(double loss, Double accuracy) {
}
