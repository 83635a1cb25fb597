package io.qalora.lora;

import io.qalora.quant.GroupQuantizer;
import io.qalora.quant.QuantSpec;
import io.qalora.quant.QuantizedMatrix;
import io.qalora.tensor.DenseLayer;
import java.util.Arrays;

/**
 * The deployable result of a merge: {@code W' = W + s B A} quantized group-wise (codes, scales,
 * zeros and the dequantized weight), and the bias carried in float32, unquantized. After a
 * POOLED_ZERO_POINT merge the zero points are floats ({@link #withIntegerZeros()} rounds them).
 */
public record MergedLayer(QuantizedMatrix weight, float[] bias) {

    /**
     * Elements of {@code s B A} computed natively at a time (4 MiB). One product for the whole
     * matrix would need an {@code [out, in]} off-heap buffer, and a fresh 64 MiB one cost more
     * (its page faults) than the merge and quantization together.
     */
    static final int BLOCK_ELEMENTS = 1 << 20;

    /**
     * {@code W' = W + s B A} ({@code W [out, in]}, {@code A [rank, in]}, {@code B [out, rank]})
     * quantized with {@code spec}, and the bias copied. {@code s B A} is computed by BLAS a block
     * of rows at a time straight into the array that becomes the dequantized weight, then added to
     * {@code W} and quantized there, on {@link NativeBlas#threads()} threads; bit for bit what
     * quantizing {@link #mergedWeight} gives.
     */
    static MergedLayer merge(float[] weight, float[] bias, float[] loraA, float[] loraB, float scaling,
            int out, int in, int rank, QuantSpec spec) {
        return merge(weight, bias, loraA, loraB, scaling, out, in, rank, spec, blockRows(out, in),
                NativeBlas.threads());
    }

    static MergedLayer merge(float[] weight, float[] bias, float[] loraA, float[] loraB, float scaling,
            int out, int in, int rank, QuantSpec spec, int blockRows, int threads) {
        try (ScaledDelta delta = new ScaledDelta(loraA, loraB, scaling, in, rank, blockRows)) {
            QuantizedMatrix q = GroupQuantizer.quantizeSum(weight, delta, out, in, blockRows, spec, threads);
            return new MergedLayer(q, bias == null ? null : bias.clone());
        }
    }

    /** {@code W + s B A} in float32 ({@code W[i] + (s B A)[i]}), the product computed a block of rows at a time. */
    static float[] mergedWeight(float[] weight, float[] loraA, float[] loraB, float scaling, int out, int in,
            int rank) {
        return mergedWeight(weight, loraA, loraB, scaling, out, in, rank, blockRows(out, in));
    }

    static float[] mergedWeight(float[] weight, float[] loraA, float[] loraB, float scaling, int out, int in,
            int rank, int blockRows) {
        float[] w = new float[out * in];
        try (ScaledDelta delta = new ScaledDelta(loraA, loraB, scaling, in, rank, blockRows)) {
            for (int first = 0; first < out; first += blockRows) {
                delta.copyRows(first, Math.min(blockRows, out - first), w, first * in);
            }
        }
        for (int i = 0; i < w.length; i++) {
            w[i] += weight[i];
        }
        return w;
    }

    static int blockRows(int out, int in) {
        return Math.max(1, Math.min(out, BLOCK_ELEMENTS / Math.max(1, in)));
    }

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

    /**
     * Rows of {@code s B A} from BLAS: rows {@code [first, first + n)} are {@code s B[first..] A}, the
     * same sums per element as one product of the whole matrix. Owns off-heap memory.
     */
    private static final class ScaledDelta implements GroupQuantizer.RowBlocks, AutoCloseable {
        private final float[] loraB;
        private final float scaling;
        private final int in;
        private final int rank;
        private final NativeMatrix a;
        private final NativeMatrix b;
        private final NativeMatrix product;

        ScaledDelta(float[] loraA, float[] loraB, float scaling, int in, int rank, int blockRows) {
            this.loraB = loraB;
            this.scaling = scaling;
            this.in = in;
            this.rank = rank;
            this.a = NativeMatrix.of(loraA, rank, in);
            this.b = NativeMatrix.zeros(blockRows, rank);
            this.product = NativeMatrix.zeros(blockRows, in);
        }

        @Override
        public void copyRows(int first, int n, float[] dst, int dstOffset) {
            if (n == product.rows) {
                copyRows(first, b, product, dst, dstOffset);
            } else {
                // The last, shorter block: small buffers of its own size.
                try (NativeMatrix lastB = NativeMatrix.zeros(n, rank); NativeMatrix last = NativeMatrix.zeros(n, in)) {
                    copyRows(first, lastB, last, dst, dstOffset);
                }
            }
        }

        private void copyRows(int first, NativeMatrix rowsOfB, NativeMatrix into, float[] dst, int dstOffset) {
            for (int r = 0; r < rowsOfB.rows; r++) {
                rowsOfB.loadRow(r, loraB, (first + r) * rank);
            }
            into.gemm(rowsOfB, false, a, false, scaling, 0f);
            into.store(dst, dstOffset);
        }

        @Override
        public void close() {
            try (a; b) {
                product.close();
            }
        }
    }
}
