package io.qalora.lora;

import io.qalora.quant.QuantStats;
import io.qalora.quant.QuantizerKind;

/**
 * One {@link QuantizationTarget}'s arithmetic over an adapter's {@link AdapterState}: the forward
 * pass, the straight-through backward pass, the merge and the statistics of what it quantizes.
 * The adapter checks arguments and keeps the batch buffers; a path only computes.
 */
interface TargetPath extends AutoCloseable {

    /**
     * The adapted output of {@code input} (already loaded into {@code buf.x}) into {@code y}, bias
     * included. {@code baseOutput}, when given, holds {@link #forwardBaseWeight}'s {@code x W^T + b}
     * for these rows; a path may ignore it.
     */
    void forward(float[] input, BatchBuffers buf, float[] baseOutput, boolean quantize, float[] y);

    /** The gradients of the last forward from {@code dy}; dLoss/dx when asked, else null. */
    float[] backward(BatchBuffers buf, float[] dy, boolean inputGradient);

    /** The off-heap weight of the base product {@code x W^T} the forward uses: a cached base output must come from it. */
    NativeMatrix forwardBase(boolean quantize);

    /** {@code W + s B A} in full precision, {@code [out, in]}. */
    float[] mergedWeight();

    /** The deployable merged layer. */
    MergedLayer merge(QuantizerKind quantizer, float[] calibration, int samples);

    /** Error of what this target quantizes. */
    QuantStats quantizationStats();

    /** Error of the merged layer's weight against {@link #mergedWeight()}. */
    QuantStats mergedWeightStats();

    @Override
    void close();
}
