package io.qalora.lora;

import io.qalora.tensor.DenseLayer;

/** {@code x W^T + b} of a dense layer over many rows, in chunks that bound the off-heap memory. */
public final class LayerOutputs {

    private static final int CHUNK_ROWS = 256;

    private LayerOutputs() {
    }

    /** {@code inputs [rows, in]} through {@code layer}: {@code [rows, out]}. */
    public static float[] compute(DenseLayer layer, float[] inputs, int rows) {
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        float[] y = new float[rows * out];
        try (NativeMatrix w = NativeMatrix.of(layer.weight(), out, in)) {
            for (int from = 0; from < rows; from += CHUNK_ROWS) {
                int size = Math.min(CHUNK_ROWS, rows - from);
                try (NativeMatrix x = NativeMatrix.zeros(size, in); NativeMatrix part = NativeMatrix.zeros(size, out)) {
                    for (int r = 0; r < size; r++) {
                        x.loadRow(r, inputs, (from + r) * in);
                    }
                    part.gemm(x, false, w, true, 1f, 0f);
                    part.store(y, from * out);
                }
            }
        }
        if (layer.bias() != null) {
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] += layer.bias()[o];
                }
            }
        }
        return y;
    }
}
