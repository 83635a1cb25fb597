package io.qalora.lora;

import io.qalora.tensor.DenseLayer;

/** {@code x W^T + b} of a dense layer over many rows, in chunks that bound the off-heap memory. */
public final class LayerOutputs {

    private static final int CHUNK_ROWS = 256;

    private LayerOutputs() {
    }

    /** {@code inputs [rows, in]} through {@code layer}: {@code [rows, out]}. */
    public static float[] compute(DenseLayer layer, float[] inputs, int rows) {
        try (NativeMatrix w = NativeMatrix.of(layer.weight(), layer.outFeatures(), layer.inFeatures())) {
            return compute(w, layer.bias(), inputs, rows);
        }
    }

    /** {@code inputs [rows, in]} times {@code weight [out, in]} transposed, plus {@code bias} (may be null). */
    static float[] compute(NativeMatrix weight, float[] bias, float[] inputs, int rows) {
        int in = weight.cols;
        int out = weight.rows;
        float[] y = new float[rows * out];
        int chunk = Math.min(CHUNK_ROWS, rows);
        // One pair of chunk buffers for all full chunks: fresh off-heap pages cost more than the product here.
        try (NativeMatrix x = NativeMatrix.zeros(chunk, in); NativeMatrix part = NativeMatrix.zeros(chunk, out)) {
            for (int from = 0; from < rows; from += chunk) {
                int size = Math.min(chunk, rows - from);
                if (size == chunk) {
                    product(weight, inputs, from, x, part, y);
                } else {
                    try (NativeMatrix lastX = NativeMatrix.zeros(size, in);
                            NativeMatrix lastPart = NativeMatrix.zeros(size, out)) {
                        product(weight, inputs, from, lastX, lastPart, y);
                    }
                }
            }
        }
        if (bias != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += bias[o];
                }
            }
        }
        return y;
    }

    private static void product(NativeMatrix weight, float[] inputs, int from, NativeMatrix x, NativeMatrix part,
            float[] y) {
        x.load(inputs, from * weight.cols);
        part.gemm(x, false, weight, true, 1f, 0f);
        part.store(y, from * weight.rows);
    }
}
