package io.qalora.lora;

import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DenseLayer;
import java.util.Arrays;

/**
 * The deployable result of a merge: {@code W' = W + s B A} quantized group-wise (codes, scales,
 * zeros and the dequantized weight), and the bias carried in float32, unquantized. After a
 * POOLED_ZERO_POINT merge the zero points are floats ({@link #withIntegerZeros()} rounds them).
 */
public record MergedLayer(QuantizedMatrix weight, float[] bias) {

    public int outFeatures() {
        return weight.rows();
    }

    public int inFeatures() {
        return weight.cols();
    }

    /** The dense layer the deployed weights compute: the dequantized weight and the bias. */
    public DenseLayer toDenseLayer() {
        return new DenseLayer(outFeatures(), inFeatures(), weight.dequantized().clone(), bias == null ? null : bias.clone());
    }

    /**
     * This layer with integer zero points in {@code [0, maxq]} ({@link QuantizedMatrix#withIntegerZeros()}),
     * as integer-only formats such as AutoGPTQ's store it; this layer itself when they already are.
     */
    public MergedLayer withIntegerZeros() {
        QuantizedMatrix rounded = weight.withIntegerZeros();
        return rounded == weight ? this : new MergedLayer(rounded, bias == null ? null : bias.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MergedLayer m && weight.equals(m.weight) && Arrays.equals(bias, m.bias);
    }

    @Override
    public int hashCode() {
        return weight.hashCode() * 31 + Arrays.hashCode(bias);
    }

    @Override
    public String toString() {
        return "MergedLayer[" + weight + ", bias=" + (bias != null) + "]";
    }
}
